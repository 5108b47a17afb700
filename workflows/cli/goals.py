"""``mentorflow goals``: a mentee's development goals, set by a coordinator and followed up.

Mentees set and update their own goals through their personal link; these
commands are the coordinator's: set a goal (perhaps serving a program goal, by a
target date), record how far the mentee got, list them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from workflows.cli.common import (
    ActorOption,
    DatabaseOption,
    FormatTableJson,
    PolicyOption,
    actor_name,
    check_choice,
    load_policy,
    open_store,
    settings,
)
from workflows.cli.output import Column, print_rows

app = typer.Typer(help="A mentee's development goals: set, progress, list.", no_args_is_help=True)

LEVELS = "not_started, started, partly or reached"
GOAL_COLUMNS = [
    Column("id", 0, justify="right"), Column("rel", 0, justify="right"), Column("title", 1, 16),
    Column("serves", 2, 10, key="program_goal"), Column("target", 3, 10, key="target_date"),
    Column("level", 0, 11, key="status"), Column("set by", 4, 10, key="set_by"),
]  # fmt: skip


@app.command("set")
def set_goal(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    title: Annotated[str, typer.Argument(help="The goal, in a few words.")],
    serves: Annotated[
        str | None, typer.Option("--serves", help="The id of the program goal it serves (policy show).")
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", help="When it should be reached: YYYY-MM-DD.")
    ] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Set a development goal for the mentee of a pair (not one they have already, not in a closed pair)."""
    from engine.clock import SystemClock
    from engine.services.goals import NewGoal, set_goals

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    goal = NewGoal(relationship, title, serves, _date(target, "--target"))
    (goal_id,) = set_goals(
        open_store(chosen), loaded, SystemClock(), [goal], actor=actor_name(actor), single=True
    )
    typer.echo(f"relationship {relationship}: goal {goal_id} set")


@app.command("progress")
def progress(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    goal: Annotated[int, typer.Argument(metavar="GOAL", help="The goal's id (goals list).")],
    level: Annotated[str, typer.Argument(metavar="LEVEL", help=f"How far the mentee got: {LEVELS}.")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Record how far the mentee of a pair got with one of their goals."""
    from engine.clock import SystemClock
    from engine.services.goals import GoalLevel, record_levels

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    changed = record_levels(
        open_store(chosen), loaded, SystemClock(), [GoalLevel(relationship, goal, level.strip().lower())],
        actor=actor_name(actor), single=True,
    )  # fmt: skip
    state = f"now {level}" if changed else f"already {level}: nothing recorded"
    typer.echo(f"relationship {relationship}: goal {goal} {state}")


@app.command("list")
def list_goals(
    relationship: Annotated[
        int | None, typer.Argument(metavar="[REL]", help="Only this relationship's goals.")
    ] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    format: FormatTableJson = "table",
) -> None:
    """The development goals of every pair of the program, or of one, with how far each got."""
    from engine.services.goals import goal_list

    check_choice(format, "--format", ("table", "json"))
    chosen = settings(database, policy)
    rows: list[dict[str, Any]] = goal_list(open_store(chosen), load_policy(chosen), relationship)
    print_rows(rows, GOAL_COLUMNS, format, title=f"{len(rows)} development goal(s)")


def _date(text: str | None, option: str) -> date | None:
    from engine.errors import InputError

    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option}: {text!r} is not a date (expected YYYY-MM-DD)") from None
