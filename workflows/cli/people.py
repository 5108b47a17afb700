"""More commands of the `participants` and `relationships` groups: leave, return, history, open again."""

from __future__ import annotations

from pathlib import Path
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
from workflows.cli.output import Column, print_rows, say
from workflows.cli.program import participants, relationships

PersonArgument = Annotated[
    str, typer.Argument(metavar="PERSON", help="Participant id, external id or email.")
]


@participants.command("leave")
def leave(
    person: PersonArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded on each relationship it moves).")],
    on: Annotated[str | None, typer.Option("--on", help="The day the leave began (default: today).")] = None,
    left: Annotated[
        bool, typer.Option("--left", help="They left the organisation: their relationships close.")
    ] = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Put a participant on leave (their pairs pause where the policy has a pause; else the coordinator is
    told), or with --left mark them gone (their pairs close, a mentor's places are freed)."""
    from engine.clock import SystemClock
    from engine.services.leave import change_status

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    since = parse_moment(on, "--on", loaded.program.timezone) if on else None
    status = "left" if left else "leave"
    done = change_status(
        open_store(chosen),
        loaded,
        SystemClock(),
        person,
        status,
        reason=reason,
        actor=actor_name(actor),
        on=since,
    )
    _print_change(done)


@participants.command("return")
def return_(
    person: PersonArgument,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, if worth recording.")] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """End a participant's leave: the pairs their leave paused resume, where the policy allows it."""
    from engine.clock import SystemClock
    from engine.services.leave import change_status

    chosen = settings(database, policy)
    done = change_status(
        open_store(chosen), load_policy(chosen), SystemClock(), person, "active", reason=reason,
        actor=actor_name(actor),
    )  # fmt: skip
    _print_change(done)


def _print_change(done: object) -> None:
    from engine.services.leave import StatusChange

    assert isinstance(done, StatusChange)
    typer.echo(f"{done.key} ({done.name}): {done.before} -> {done.after}")
    for consequence in done.consequences:
        say(f"  {consequence}")
    if not done.consequences:
        typer.echo("  no open relationship was affected")


@participants.command("export-data")
def export_data(
    person: Annotated[str, typer.Argument(metavar="PERSON", help="Their id, external id or email.")],
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the JSON to this new file (not one that exists).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Everything held about a person, as JSON, for an access request: their record, their history, and of
    their relationships the entries, goals, meetings, their own answers, the messages to them."""
    from engine.clock import SystemClock
    from engine.errors import InputError
    from engine.services.person_data import as_json, person_data

    if output is not None and (output.exists() or not output.parent.is_dir()):
        why = (
            "exists already (nothing is overwritten)"
            if output.exists()
            else "is in a folder that does not exist"
        )
        raise InputError(f"--output {output}: {why}")
    text = as_json(person_data(open_store(settings(database)), person, SystemClock().now()))
    if output is None:
        typer.echo(text, nl=False)
        return
    with output.open("x", encoding="utf-8") as file:
        file.write(text)
    typer.echo(f"{person}: everything held about them written to {output}", err=True)


@participants.command("erase")
def erase(
    person: PersonArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why (e.g. the request's number); recorded.")],
    close: Annotated[
        bool, typer.Option("--close", help="Close their open relationships first, with this reason.")
    ] = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Erase a person (right to erasure): a pseudonym replaces their record, the free text of their
    relationships and their messages' addresses are erased, their links revoked. Their relationships
    stay counted, and every chain still verifies. Refused while a relationship of theirs is open,
    unless --close is given."""
    from engine.clock import SystemClock
    from engine.domain.lifecycle import Lifecycle
    from engine.services.erasure import ErasureRequest, erase_participant

    chosen = settings(database, policy)
    request = ErasureRequest(person, reason, actor_name(actor), close=close)
    done = erase_participant(open_store(chosen), Lifecycle(load_policy(chosen)), SystemClock(), request)
    for rid in done.closed:
        typer.echo(f"relationship {rid}: closed")
    texts = sum(done.texts.values())
    typer.echo(
        f"participant {done.participant_id}: erased; {done.relationships} relationship(s) recorded it, "
        f"{done.entries} audit entry(ies) redacted, {texts} free text(s) erased"
    )
    if done.messages_skipped:
        say(f"{done.messages_skipped} message(s) not yet sent to them were skipped")


@participants.command("history")
def participant_history(
    person: PersonArgument,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    format: FormatTableJson = "table",
) -> None:
    """Who changed a participant, when, why, and which fields (never their values)."""
    from engine.services.participant_history import participant_history as run

    check_choice(format, "--format", ("table", "json"))
    chosen = settings(database, policy)
    found, entries = run(open_store(chosen), person)
    rows = [
        {"seq": e["seq"], "at": e["at"], "cause": e["cause"], "actor": e["actor"],
         "fields": ", ".join(e["fields"]), "hash": e["hash"] if format == "json" else e["hash"][:12]}
        for e in entries
    ]  # fmt: skip
    title = f"history of participant {found['key']} ({found['name']}, {found['role']}, {found['status']})"
    columns = [
        Column("seq", 0, justify="right"), Column("at", 0, 20), Column("cause", 1), Column("actor", 3),
        Column("fields", 2, 16), Column("hash", 4),
    ]  # fmt: skip
    zone = None if format == "json" else program_zone(chosen)
    print_rows(rows, columns, format, title=title, zone=zone)


@relationships.command("open")
def open_relationship(
    person: Annotated[str, typer.Argument(metavar="PERSON", help="Mentee id, external id or email.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (recorded in its first entry).")] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Open a new relationship in the initial phase for a mentee who has none open (after an early close,
    or for the next cohort), linked to their previous one; matching sees them again."""
    from engine.clock import SystemClock
    from engine.services.journeys import open_again

    chosen = settings(database, policy)
    opened = open_again(
        open_store(chosen), load_policy(chosen), SystemClock(), person, actor=actor_name(actor), reason=reason
    )
    after = f" (after relationship {opened.previous_id})" if opened.previous_id is not None else ""
    typer.echo(
        f"relationship {opened.relationship_id} opened in {opened.phase!r} for mentee {opened.mentee}{after}"
    )
