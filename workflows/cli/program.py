"""Commands that run the program: init, participants, relationships, advance, history, status, record."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workflows.cli.common import (
    DatabaseOption,
    FormatTableJson,
    PolicyOption,
    actor_name,
    check_choice,
    console,
    load_policy,
    open_store,
    parse_moment,
)

if TYPE_CHECKING:
    from engine.services.queries import StatusReport

participants = typer.Typer(help="Import and list mentors and mentees.", no_args_is_help=True)
relationships = typer.Typer(help="List mentor-mentee relationships.", no_args_is_help=True)
record = typer.Typer(help="Record what happened: meetings, training, survey answers.", no_args_is_help=True)
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who does this [env MENTORFLOW_ACTOR; default: login name]")
]


def init(database: DatabaseOption = None) -> None:
    """Create the store's schema, or upgrade it to this version of mentorflow."""
    from engine.store.database import initialise, translated_errors

    store = open_store(database, initialised=False)
    with translated_errors(store):
        before, after = initialise(store)
    where = store.url.render_as_string(hide_password=True)
    if before == after:
        typer.echo(f"database {where} is up to date (schema {after})")
    else:
        typer.echo(f"database {where} initialised (schema {before or 'none'} -> {after})")


@participants.command("import")
def import_participants(
    file: Annotated[Path, typer.Argument(help="CSV exported by HR (see DESIGN.md for the columns).")],
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    actor: ActorOption = None,
) -> None:
    """Import participants, all or nothing; each new mentee gets a relationship in the initial phase."""
    from engine.clock import SystemClock
    from engine.domain.participants import parse_participants_csv
    from engine.services.advance import import_participants as run

    people = parse_participants_csv(file)
    loaded = load_policy(policy)
    summary = run(open_store(database), loaded, SystemClock(), people, actor=actor_name(actor))
    typer.echo(
        f"{file}: {summary.created} new, {summary.updated} updated, {summary.unchanged} unchanged; "
        f"{len(summary.relationships_opened)} relationship(s) opened in {loaded.initial_phase!r}"
    )


@participants.command("list")
def list_participants(
    role: Annotated[str | None, typer.Option("--role", help="mentor or mentee")] = None,
    database: DatabaseOption = None,
    format: FormatTableJson = "table",
) -> None:
    """List participants."""
    from engine.store import reads

    if role is not None:
        check_choice(role, "--role", ("mentor", "mentee"))
    check_choice(format, "--format", ("table", "json"))
    rows = reads.participants_list(open_store(database), role)
    columns = ["id", "external_id", "role", "name", "department", "level", "capacity", "trained"]
    _print_rows(rows, columns, format, title="participants")


@relationships.command("list")
def list_relationships(
    phase: Annotated[str | None, typer.Option("--phase", help="Only relationships in this phase.")] = None,
    database: DatabaseOption = None,
    format: FormatTableJson = "table",
) -> None:
    """List relationships with their mentee, mentor, phase and when something is next due (and their
    policy, when the database holds several programs)."""
    from engine.store import reads

    check_choice(format, "--format", ("table", "json"))
    rows = reads.relationships_list(open_store(database), phase)
    columns = ["id", "mentee", "mentor", "phase", "since", "due_at", "version"]
    if len({row["policy"] for row in rows}) > 1:  # several programs in one database: say whose each is
        columns.insert(1, "policy")
    _print_rows(rows, columns, format, title="relationships")


def advance(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    trigger: Annotated[str, typer.Argument(metavar="TRIGGER", help="Trigger to fire, e.g. match, close.")],
    mentor: Annotated[str | None, typer.Option("--mentor", help="Mentor id, external id or email.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why; required for an early close.")] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Fire a trigger on a relationship; refused with the reason if the policy does not allow it now."""
    from engine.clock import SystemClock
    from engine.domain.lifecycle import Lifecycle
    from engine.services.advance import AdvanceRequest
    from engine.services.advance import advance as run

    lifecycle = Lifecycle(load_policy(policy))
    request = AdvanceRequest(relationship, trigger, actor_name(actor), reason, mentor)
    entry = run(open_store(database), lifecycle, SystemClock(), request)
    typer.echo(
        f"relationship {relationship}: {entry.from_phase} -> {entry.to_phase} ({trigger}, by {entry.actor})"
    )


def history(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    database: DatabaseOption = None,
    format: FormatTableJson = "table",
) -> None:
    """Show who moved a relationship, when, why and under which policy version."""
    from engine.settings import resolve
    from engine.store import lite

    check_choice(format, "--format", ("table", "json"))
    url = resolve(database=database).database_url
    if lite.supported(url):
        rows = lite.history(url, relationship)
    else:
        from engine.store import reads

        rows = reads.history(open_store(database), relationship)
    if format == "json":
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=_json_value))
        return
    for row in rows:
        row["move"], row["reason"] = _move(row), row["reason"] or _recorded(row)
        row["policy"] = f"{row['policy_name']} {row['policy_version'][7:19]}"
        row["hash"] = row["hash"][:12]
    columns = ["seq", "at", "trigger", "move", "actor", "reason", "policy", "hash"]
    _print_rows(rows, columns, "table", title=f"history of relationship {relationship}")


# The triggers of engine.vocabulary.RECORD_TRIGGERS, named here so that `history` stays light.
_RECORDED = ("record_meeting", "record_survey")


def _move(row: dict[str, Any]) -> str:
    """``active -> review``; an entry that records a meeting or a survey answer stays in its phase."""
    if row["trigger"] in _RECORDED:
        return str(row["to_phase"])
    return f"{row['from_phase'] or '-'} -> {row['to_phase']}"


def _recorded(row: dict[str, Any]) -> str | None:
    """What a recorded entry records: ``check-in held``, ``final survey answered by the mentee``."""
    data = row.get("data") or {}
    if row["trigger"] == "record_meeting":
        return f"{data.get('meeting', {}).get('kind')} held"
    if row["trigger"] == "record_survey":
        survey = data.get("survey", {})
        return f"{survey.get('name')} survey answered by the {survey.get('respondent')}"
    return None


def status(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Replay the history up to this date.")] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    format: FormatTableJson = "table",
) -> None:
    """Phase counts and overdue items, now or as of a date (replayed from the audit history)."""
    from engine.clock import SystemClock
    from engine.services.queries import status as run

    check_choice(format, "--format", ("table", "json"))
    loaded = load_policy(policy)
    moment = parse_moment(as_of, "--as-of", loaded.program.timezone, end_of_day=True) if as_of else None
    report = run(open_store(database), loaded, SystemClock().now(), moment)
    phases = {name: report.phases.get(name, 0) for name in loaded.phases}
    phases.update({k: v for k, v in report.phases.items() if k not in phases})
    overdue = [
        {
            "relationship": rid,
            "phase": o.phase,
            "what": o.kind,
            "since": o.since.isoformat(),
            "action": o.action,
        }
        for rid, o in report.overdue
    ]
    stranded = [
        {"relationship": rid, "phase": phase, "since": since} for rid, phase, since in report.stranded
    ]
    if format == "json":
        document = {"as_of": report.as_of.isoformat(), "replayed": report.replayed, "policy": loaded.policy}
        document |= {"phases": phases, "overdue": overdue, "stranded": stranded}
        document["other_policies"] = report.other_policies
        typer.echo(json.dumps(document, indent=2, default=_json_value))
        return
    _print_status(report, loaded.policy, phases, overdue, stranded)


def _print_status(
    report: StatusReport,
    policy: str,
    phases: dict[str, int],
    overdue: list[dict[str, Any]],
    stranded: list[dict[str, Any]],
) -> None:
    from engine.domain.programs import others_note

    label = f"as of {report.as_of:%Y-%m-%d %H:%M %Z}" + (" (replayed)" if report.replayed else "")
    _print_rows(
        [{"phase": k, "relationships": v} for k, v in phases.items()],
        ["phase", "relationships"],
        "table",
        title=f"{policy}: status {label}",
    )
    if report.other_policies:
        typer.echo(others_note(report.other_policies))
    if stranded:
        _print_rows(
            stranded[:50],
            ["relationship", "phase", "since"],
            "table",
            title=f"in a removed phase: {len(stranded)}" + (" (first 50)" if len(stranded) > 50 else ""),
        )
        typer.echo(
            f"policy {policy} no longer has these phases, so the tick leaves these relationships alone: "
            "add the phase back to the policy, or move them on with a version of the policy that has it "
            "(--policy FILE)"
        )
    _print_rows(
        overdue[:50],
        ["relationship", "phase", "what", "since", "action"],
        "table",
        title=f"overdue: {len(overdue)}" + (" (first 50)" if len(overdue) > 50 else ""),
    )


@record.command("meeting")
def record_meeting(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    kind: Annotated[str, typer.Option("--kind", help="kickoff, check-in or group")],
    on: Annotated[str | None, typer.Option("--on", help="Date it was held (default: now).")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="A short note.")] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Record a meeting of a pair as held."""
    from engine.clock import SystemClock
    from engine.services.recording import record_meeting as run

    loaded = load_policy(policy)
    held = parse_moment(on, "--on", loaded.program.timezone) if on else None
    run(
        open_store(database),
        loaded,
        SystemClock(),
        relationship,
        kind,
        held,
        actor=actor_name(actor),
        notes=notes,
    )
    typer.echo(f"relationship {relationship}: {kind} meeting recorded")


@record.command("training")
def record_training(
    mentor: Annotated[str, typer.Argument(help="Mentor id, external id or email.")],
    database: DatabaseOption = None,
) -> None:
    """Record that a mentor finished the mentor training."""
    from engine.clock import SystemClock
    from engine.services.recording import record_training as run

    rel_ids = run(open_store(database), SystemClock(), mentor)
    typer.echo(f"mentor {mentor}: training recorded ({len(rel_ids)} relationship(s) to reconsider)")


@record.command("survey")
def record_survey(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    by: Annotated[str, typer.Option("--by", help="mentor or mentee")],
    survey: Annotated[str, typer.Option("--survey", help="Which survey, e.g. final.")] = "final",
    answer: Annotated[
        list[str] | None,
        typer.Option(
            "--answer",
            "-a",
            metavar="QUESTION=VALUE",
            help="An answer, e.g. -a satisfaction=4 -a met_regularly=yes -a goals='reached;partly'.",
        ),
    ] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Record the mentor's or the mentee's answers to a survey, checked against its questions."""
    from engine.clock import SystemClock
    from engine.services.recording import record_survey as run

    answers, loaded = _answers(answer or []), load_policy(policy)
    store, who = open_store(database), actor_name(actor)
    run(store, loaded, SystemClock(), relationship, survey, by, answers, actor=who)
    typer.echo(f"relationship {relationship}: {survey} survey answered by the {by}")


def _answers(given: list[str]) -> dict[str, str]:
    from engine.errors import InputError

    answers: dict[str, str] = {}
    for item in given:
        question, sep, value = item.partition("=")
        if not sep or not question.strip():
            raise InputError(f"--answer: {item!r} is not QUESTION=VALUE (e.g. -a satisfaction=4)")
        if question.strip() in answers:
            raise InputError(f"--answer: {question.strip()} is answered twice")
        answers[question.strip()] = value
    return answers


@record.command("surveys")
def record_surveys(
    file: Annotated[
        Path, typer.Argument(help="CSV: relationship, respondent, survey, and a column per question id.")
    ],
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Record the survey answers of a CSV file, all or nothing; every problem names its row and column."""
    from engine.clock import SystemClock
    from engine.files.records import read_survey_answers
    from engine.services.recording import record_surveys as run

    responses = read_survey_answers(file)
    loaded = load_policy(policy)
    count = run(open_store(database), loaded, SystemClock(), responses, actor=actor_name(actor))
    typer.echo(f"{file}: {count} survey response(s) recorded")


def _print_rows(rows: list[dict[str, Any]], columns: list[str], format: str, *, title: str) -> None:
    if format == "json":
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False, default=_json_value))
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    console().print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _json_value(value: Any) -> Any:
    from engine.domain.audit import iso

    return iso(value) if isinstance(value, datetime) else str(value)
