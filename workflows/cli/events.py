"""``mentorflow events``: the event feed and its webhook subscribers.

``events deliver`` posts each subscriber of ``[[events.subscribers]]`` its next events, in order
(exit 1 when one failed or was parked: a person must look); ``events list`` shows each subscriber's
position, how far behind it is, its failures and whether it is parked; ``events retry NAME`` unparks
one; ``events show`` prints the feed itself as JSON lines, as ``GET /api/v1/events`` serves it.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from workflows.cli.common import DatabaseOption, check_choice, open_store, parse_moment, settings
from workflows.cli.output import Column, print_rows

app = typer.Typer(
    help="The event feed and its webhook subscribers: deliver, list, retry, show.", no_args_is_help=True
)


@app.command("deliver")
def deliver(
    now: Annotated[
        str | None, typer.Option("--now", help="Deliver as of this time (a simulated clock); default: now.")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Post each subscriber its next events, in order, until one fails or none is left."""
    from engine.clock import SystemClock
    from engine.services.subscribers import configured_subscribers, deliver_events

    moment = parse_moment(now, "--now", "UTC") if now else SystemClock().now()
    subscribers = configured_subscribers()
    if not subscribers:
        typer.echo(
            "no subscriber: add [[events.subscribers]] to the settings file (see docs/api.md)", err=True
        )
        raise typer.Exit(2)
    passes = deliver_events(open_store(settings(database)), subscribers, moment)
    for done in passes:
        typer.echo(done.said)
    if any(done.troubled for done in passes):
        raise typer.Exit(1)


@app.command("list")
def list_(
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    database: DatabaseOption = None,
) -> None:
    """Each subscriber: its position, how many events it is behind, its failures, whether it is parked."""
    from engine.services.subscribers import configured_subscribers, subscriber_states

    check_choice(format, "--format", ("table", "json"))
    states = subscriber_states(open_store(settings(database)), configured_subscribers())
    rows = [
        {"name": s.name, "position": s.position, "behind": s.behind, "attempts": s.attempts,
         "next_attempt_at": s.next_attempt_at, "parked_at": s.parked_at, "last_error": s.last_error,
         "configured": s.configured}
        for s in states
    ]  # fmt: skip
    if format == "table" and not rows:
        typer.echo("no subscriber yet: add [[events.subscribers]] to the settings file")
        return
    columns = [Column("name", 0), Column("position", 0), Column("behind", 0), Column("attempts", 1),
               Column("parked_at", 1), Column("next_attempt_at", 2), Column("last_error", 3, 20)]  # fmt: skip
    print_rows(rows, columns, format, title=f"event subscribers: {len(rows)}")


@app.command("retry")
def retry(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The subscriber to unpark.")],
    database: DatabaseOption = None,
) -> None:
    """Unpark a subscriber (or end its wait): the next `events deliver` resumes where it stopped."""
    from engine.services.subscribers import retry_subscriber

    row = retry_subscriber(open_store(settings(database)), name)
    typer.echo(f"{name}: will be tried at the next delivery, from position {row.position}")


@app.command("show")
def show(
    after: Annotated[int, typer.Option("--after", min=0, help="The last position already seen.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="At most this many events.")] = 100,
    database: DatabaseOption = None,
) -> None:
    """Print the events after a position, one CloudEvents JSON per line, as the API serves them."""
    from engine.clock import SystemClock
    from engine.services.events import event_source, feed

    store = open_store(settings(database))
    found, _ = feed(store, event_source(store, SystemClock().now()), after, limit)
    for event in found:
        typer.echo(json.dumps(event, ensure_ascii=False, separators=(",", ":")))
