"""``mentorflow sessions``: group sessions (intervisie, workshops) of the policy's ``sessions:`` series.

``sessions plan`` plans the coming dates and invites the people of the pairs in the
series' phases (each invitation queued in the outbox, with date, place and .ics);
``sessions list`` shows what is planned; ``sessions attendance`` records whether an
invited person attended. See docs/sessions.md.
"""

from __future__ import annotations

from typing import Annotated

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
    parse_moment,
    program_zone,
    settings,
)
from workflows.cli.output import Column, print_rows

app = typer.Typer(
    help="Group sessions (intervisie): plan them, list them, record attendance.", no_args_is_help=True
)

SESSION_COLUMNS = [
    Column("id", 0, justify="right"), Column("series", 1, 10), Column("group", 0, justify="right"),
    Column("starts", 0, 16), Column("minutes", 3, justify="right"), Column("place", 2, 12),
    Column("invited", 1, justify="right"), Column("attended", 1, justify="right"),
    Column("absent", 2, justify="right"),
]  # fmt: skip


@app.command("plan")
def plan(
    until: Annotated[
        str | None, typer.Option("--until", help="Plan every date up to this day (default: the next one).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be planned; write nothing.")
    ] = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Plan the coming sessions of each series and queue the invitations (running it again adds nothing)."""
    from engine.clock import SystemClock
    from engine.services.sessions import plan_sessions

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    last = parse_moment(until, "--until", loaded.program.timezone, end_of_day=True) if until else None
    done = plan_sessions(
        open_store(chosen), loaded, SystemClock(), actor=actor_name(actor), until=last, dry_run=dry_run
    )
    zone = program_zone(chosen)
    verb = "would plan" if dry_run else "planned"
    for group in done.groups:
        when = group.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        what = "new group" if group.new else "added to group"
        roles = ", ".join(sorted({role for _, role in group.added}))
        typer.echo(
            f"{group.series} {when} {what} {group.group_no}"
            + ("" if dry_run and group.new else f" (session {group.session_id})")
            + f": {len(group.added)} invited ({roles}), {group.invited} in the group"
        )
    typer.echo(
        f"sessions: {verb} {done.new_sessions} session group(s), {done.new_invitations} invitation(s)"
        + ("; nothing was written" if dry_run else "; `mentorflow outbox deliver` sends the invitations")
    )


@app.command("list")
def list_planned(
    since: Annotated[str | None, typer.Option("--since", help="Only sessions from this day on.")] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    format: FormatTableJson = "table",
) -> None:
    """List the planned sessions: series, group, start, place, how many were invited, attended, absent."""
    from engine.services.sessions import list_sessions

    check_choice(format, "--format", ("table", "json"))
    chosen = settings(database, policy)
    loaded = load_policy(chosen, acting=False)
    first = parse_moment(since, "--since", loaded.program.timezone) if since else None
    rows = list_sessions(open_store(chosen), loaded, since=first)
    if format == "json":
        print_rows(rows, [], "json", title="")
        return
    if not rows:
        typer.echo("no sessions are planned (mentorflow sessions plan plans them)")
        return
    shown = [{**row, "starts": row["starts_at"]} for row in rows]
    print_rows(
        shown, SESSION_COLUMNS, "table", title=f"sessions: {len(rows)} group(s)", zone=program_zone(chosen)
    )


@app.command("attendance")
def attendance(
    session: Annotated[int, typer.Argument(metavar="SESSION", help="Session id (see sessions list).")],
    person: Annotated[str, typer.Argument(metavar="PERSON", help="Participant id, external id or email.")],
    attended: Annotated[
        bool | None, typer.Option("--attended/--absent", help="Whether they attended.", show_default=False)
    ] = None,
    correct: Annotated[
        bool, typer.Option("--correct", help="Replace the attendance recorded before (recorded in error).")
    ] = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Record whether an invited person attended a session that has begun (once; --correct changes it)."""
    from engine.clock import SystemClock
    from engine.errors import InputError
    from engine.services.sessions import record_attendance

    if attended is None:
        raise InputError("say whether they attended: --attended or --absent")
    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    done = record_attendance(
        open_store(chosen), loaded, SystemClock(), session, person, attended,
        actor=actor_name(actor), correct=correct,
    )  # fmt: skip
    said = "attended" if attended else "absent"
    again = " (corrected)" if done.corrected else ""
    typer.echo(
        f"session {session}: {person} ({done.role} of relationship {done.relationship_id}) {said}{again}"
    )
