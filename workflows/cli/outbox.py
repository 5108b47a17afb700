"""``mentorflow outbox``: the messages the program sends, and the ones that could not be sent.

Nothing is ever dropped: a message that keeps failing is parked, listed by
``outbox list --failed``, and sent again after ``outbox retry`` once its cause
is fixed (an SMTP server back up, a webhook URL corrected).
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
from workflows.cli.output import Column, in_flags, print_rows

app = typer.Typer(
    help="Messages waiting, sent, or parked after failing: list, retry, deliver.", no_args_is_help=True
)

OUTBOX_COLUMNS = [
    Column("id", 0, justify="right"), Column("rel", 1, justify="right"), Column("action", 1, 12),
    Column("to", 3, 11), Column("status", 0, 9), Column("tries", 4, justify="right"),
    Column("next try", 2, 20), Column("delivered", 5, 12), Column("last error", 3, 16),
]  # fmt: skip
"""What `outbox list` shows, most important first to stay when the terminal is narrow."""


@app.command("list")
def list_outbox(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only parked messages (failed every attempt).")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", help="Show at most this many, newest first.", min=1)] = 200,
    database: DatabaseOption = None,
    format: FormatTableJson = "table",
) -> None:
    """List outbox rows: what is pending, sent (to whom, by which channel) or parked, and the last error."""
    from engine.services.delivery import list_rows

    check_choice(format, "--format", ("table", "json"))
    chosen = settings(database)
    rows = list_rows(open_store(chosen), failed_only=failed, limit=limit)
    if format == "json":
        print_rows(rows, [], "json", title="")
        return
    if not rows:
        typer.echo("no parked outbox rows" if failed else "the outbox is empty")
        return
    shown = [
        {"id": r["id"], "rel": r["relationship"], "action": r["action"], "to": r["to"],
         "status": r["status"], "tries": r["attempts"], "next try": r["next_attempt_at"],
         "delivered": r["delivered_via"], "last error": r["last_error"]}
        for r in rows
    ]  # fmt: skip
    title = f"{'parked outbox rows' if failed else 'outbox'}: {len(rows)}, newest first"
    print_rows(shown, OUTBOX_COLUMNS, "table", title=title, zone=program_zone(chosen))
    if failed:
        typer.echo("fix the cause, then: mentorflow outbox retry ID... (or --all-failed)")


@app.command("retry")
def retry_outbox(
    ids: Annotated[list[int] | None, typer.Argument(metavar="ID...", help="Parked outbox rows.")] = None,
    all_failed: Annotated[bool, typer.Option("--all-failed", help="Requeue every parked row.")] = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Requeue parked rows: due now, attempts counted from zero; the row keeps a note of who did it."""
    from engine.clock import SystemClock
    from engine.errors import InputError
    from engine.services.delivery import retry

    if ids and all_failed:
        raise InputError("give outbox row ids or --all-failed, not both")
    requeued = retry(
        open_store(settings(database)),
        SystemClock().now(),
        ids=ids or (),
        all_failed=all_failed,
        actor=actor_name(actor),
    )
    if not requeued:
        typer.echo("no parked outbox rows: nothing to retry")
        return
    shown = ", ".join(map(str, requeued[:20])) + (", ..." if len(requeued) > 20 else "")
    typer.echo(f"requeued {len(requeued)} outbox row(s): {shown}; `mentorflow outbox deliver` sends them now")


@app.command("deliver")
def deliver_outbox(
    now: Annotated[
        str | None, typer.Option("--now", help="Deliver as of this time (a simulated clock); default: now.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many rows in this run.", min=1)] = 500,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Send the due messages of the policy's relationships, once, through the channels the settings
    configure; with none configured, nothing is sent (exit 2) and the messages stay pending."""
    from engine.clock import SystemClock
    from engine.delivery.channels.config import configured_channels
    from engine.policy.resources import phase_resources
    from engine.services.delivery import deliver_due

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    zone = loaded.program.timezone
    moment = parse_moment(now, "--now", zone) if now else SystemClock().now()  # a bad option first
    channels = configured_channels(
        timezone=zone, surveys=loaded.survey_definitions, resources=phase_resources(loaded)
    )
    summary = deliver_due(open_store(chosen), channels, moment, limit=limit, policy_name=loaded.policy)
    typer.echo(
        f"outbox: {summary.claimed} due, {summary.delivered} delivered ({summary.handed_over()}), "
        f"{summary.retrying} to retry, {summary.parked} parked, {summary.skipped} not needed"
    )
    for problem in summary.problems[:20]:
        typer.echo(f"  {in_flags(problem)}", err=True)
    if summary.parked:
        typer.echo("parked rows: mentorflow outbox list --failed", err=True)
    if summary.troubled:  # parked messages, or every attempt failed: a person must look
        raise typer.Exit(1)
