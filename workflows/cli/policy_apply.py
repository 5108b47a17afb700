"""``mentorflow policy apply`` and ``policy history``: make a new version of a policy the one in force.

The commands join the ``policy`` group of :mod:`workflows.cli.policy`; importing this module adds them,
and the root app builds the group from here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workflows.cli.common import (
    ActorOption,
    DatabaseOption,
    FormatTableJson,
    actor_name,
    check_choice,
    load_policy,
    open_store,
    settings,
)
from workflows.cli.output import Column, print_rows
from workflows.cli.policy import app

__all__ = ["app"]

_FLAGS = {"map": "--map", "reason": "--reason"}


@app.command("apply")
def apply(
    file: Annotated[str, typer.Argument(metavar="NEW.yaml", help="The policy file of the new version.")],
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="OLD=NEW",
            help="Move the relationships in phase OLD, which the new version no longer has, to its phase "
            "NEW; repeatable.",
        ),
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why: kept with the application.")] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Make a new version of a policy the one in force for its relationships, in one transaction.

    Every relationship of the policy not in a terminal phase gets an audit entry under the new version
    and its next due time by the new rules; one in a phase the new version no longer has must be
    mapped to one it has (--map OLD=NEW), or nothing is applied (exit 2). See `mentorflow policy plan`
    for what the new version would change.
    """
    from engine.clock import SystemClock
    from engine.services.policy_apply import ApplyRequest, apply_policy

    chosen = settings(database, file)
    request = ApplyRequest(
        load_policy(chosen, acting=False), actor_name(actor), _mapping(mapping or []), _reason(reason)
    )
    try:
        done = apply_policy(open_store(chosen), SystemClock(), request)
    except Exception as exc:
        _in_flags(exc)
        raise
    applied = done.application
    was = applied.from_digest[7:19] if applied.from_digest else "none recorded"
    typer.echo(
        f"applied policy {applied.policy_name!r} version {applied.to_digest[7:19]} (was {was}): "
        f"{applied.relationships} relationship(s) noted, {len(done.moved)} moved"
    )
    for rel_id, (old, new) in sorted(done.moved.items()):
        typer.echo(f"  relationship {rel_id}: {old} -> {new}")


@app.command("history")
def history(
    name: Annotated[
        str | None, typer.Argument(metavar="NAME", help="The policy's name (default: every policy).")
    ] = None,
    database: DatabaseOption = None,
    format: FormatTableJson = "table",
) -> None:
    """The versions applied to each policy's relationships: when, by whom, why, and how many."""
    from datetime import UTC

    from engine.services.policy_apply import applications

    check_choice(format, "--format", ("table", "json"))
    chosen = settings(database)
    rows = [row._asdict() for row in applications(open_store(chosen), name)]
    if format == "json":
        print_rows(rows, [], "json", title="")
        return
    for row in rows:
        row["from"] = (row["from_digest"] or "-")[7:19] or "-"
        row["to"] = row["to_digest"][7:19]
        row["mapped"] = ", ".join(f"{old}={new}" for old, new in sorted(row["mapping"].items())) or "-"
        row["reason"] = row["reason"] or ""
        row["relationships"] = str(row["relationships"])
    title = f"versions applied to policy {name!r}" if name else "versions applied"
    print_rows(rows, HISTORY_COLUMNS, "table", title=title, zone=UTC)


HISTORY_COLUMNS = [
    Column("id", 0, justify="right"), Column("applied at", 0, 20, key="applied_at"),
    Column("policy", 1, key="policy_name"), Column("from", 2), Column("to", 0),
    Column("by", 3, key="applied_by"), Column("relationships", 2, justify="right"), Column("mapped", 4),
    Column("reason", 5, 16),
]  # fmt: skip


def _mapping(given: list[str]) -> dict[str, str]:
    """``--map OLD=NEW`` options as a mapping; a malformed or repeated OLD is a usage error."""
    found: dict[str, str] = {}
    for item in given:
        old, equals, new = (part.strip() for part in item.partition("="))
        if not equals or not old or not new:
            raise typer.BadParameter(
                f"{item!r} is not OLD=NEW (e.g. --map paused=active)", param_hint="--map"
            )
        if old in found and found[old] != new:
            raise typer.BadParameter(
                f"phase {old!r} is mapped twice ({found[old]}, {new})", param_hint="--map"
            )
        found[old] = new
    return found


def _reason(reason: str | None) -> str | None:
    """The reason, stripped; none for an empty one."""
    return reason.strip() or None if reason is not None else None


def _in_flags(exc: BaseException) -> None:
    """An engine error's fields this command has as options, named as its flags."""
    from engine.errors import MentorflowError, in_terms_of

    if isinstance(exc, MentorflowError):
        error: MentorflowError = exc
        error.message = in_terms_of(error.message, _FLAGS)
        error.problems = [in_terms_of(problem, _FLAGS) for problem in error.problems]
