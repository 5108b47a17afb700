"""Commands that run the program: init, participants, relationships, advance, history, status."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
    policy_rules,
    program_zone,
    settings,
)
from workflows.cli.output import Column, moments_of, print_json, print_rows, say

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from engine.policy.retention_periods import RetentionRules
    from engine.services.queries import StatusReport

participants = typer.Typer(help="Import and list mentors and mentees.", no_args_is_help=True)
relationships = typer.Typer(help="List mentor-mentee relationships.", no_args_is_help=True)


def init(database: DatabaseOption = None) -> None:
    """Create the store's schema, or upgrade it to this version of mentorflow."""
    from engine.services.setup import initialise, shown

    store = open_store(settings(database), initialised=False)
    before, after = initialise(store)
    where = shown(store)
    if before == after:
        typer.echo(f"database {where} is up to date (schema {after})")
    else:
        typer.echo(f"database {where} initialised (schema {before or 'none'} -> {after})")


@participants.command("import")
def import_participants(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV exported by HR: role, name and email required, the other columns optional "
            "(see the README, “Participants CSV”)."
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would change, per person; write nothing.")
    ] = False,
    delimiter: Annotated[
        str | None,
        typer.Option("--delimiter", help="Column delimiter: ',', ';' or 'tab' (default: detected)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse unknown columns instead of ignoring them.")
    ] = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    actor: ActorOption = None,
) -> None:
    """Import participants, all or nothing: only the columns in the file change; each new mentee gets a
    relationship in the initial phase; a `status` column puts people on leave or marks them gone."""
    from engine.clock import SystemClock
    from engine.files.participants import check_delimiter, read_participants
    from engine.services.participants import import_participants as run

    sep = check_delimiter(delimiter) if delimiter is not None else None
    read = read_participants(file, delimiter=sep, strict=strict)
    if read.warning:
        say(read.warning, err=True)
    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    summary = run(
        open_store(chosen), loaded, SystemClock(), read.people, actor=actor_name(actor),
        columns=read.columns, rows=read.rows, dry_run=dry_run,
    )  # fmt: skip
    if dry_run:
        _print_plan(summary.people)
    opened = "would open" if dry_run else "opened"
    typer.echo(
        f"{file}: {summary.created} new, {summary.updated} updated, {summary.unchanged} unchanged; "
        f"{summary.opened} relationship(s) {opened} in {loaded.initial_phase!r}"
        + (" (dry run: nothing was written)" if dry_run else "")
    )


def _print_plan(people: Any) -> None:
    """Per person the import would create or change: ``field: old → new`` and the relationships it moves."""
    for person in people:
        if person.action == "unchanged":
            continue
        typer.echo(f"{person.key} ({person.name}): {person.action}")
        for name, old, new in person.changes:
            typer.echo(f"  {name}: {_value(old)} → {_value(new)}")
        for line in person.relationships:
            typer.echo(f"  {line}")


def _value(value: Any) -> str:
    if value is None or value == [] or value == ():
        return "(empty)"
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    return str(value)


PARTICIPANT_COLUMNS = [
    Column("id", 0, justify="right"), Column("external_id", 1, 11), Column("role", 2),
    Column("name", 0, 14), Column("department", 3, 10), Column("level", 4),
    Column("capacity", 4), Column("trained", 3),
]  # fmt: skip
RELATIONSHIP_COLUMNS = [
    Column("id", 0, justify="right"), Column("policy", 1, 10), Column("mentee", 0, 14),
    Column("mentor", 1, 14), Column("phase", 0), Column("since", 3, 20), Column("due_at", 2, 20),
    Column("version", 4),
]  # fmt: skip


@participants.command("list")
def list_participants(
    role: Annotated[str | None, typer.Option("--role", help="mentor or mentee")] = None,
    database: DatabaseOption = None,
    format: FormatTableJson = "table",
) -> None:
    """List participants."""
    from engine.services.listing import participants as run

    if role is not None:
        check_choice(role, "--role", ("mentor", "mentee"))
    check_choice(format, "--format", ("table", "json"))
    rows = run(open_store(settings(database)), role)
    print_rows(rows, PARTICIPANT_COLUMNS, format, title="participants")


@relationships.command("list")
def list_relationships(
    phase: Annotated[str | None, typer.Option("--phase", help="Only relationships in this phase.")] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    format: FormatTableJson = "table",
) -> None:
    """List relationships with their mentee, mentor, phase and when something is next due (and their
    policy, when the database holds several programs)."""
    from engine.services.listing import check_phase
    from engine.services.listing import relationships_at as run

    check_choice(format, "--format", ("table", "json"))
    chosen = settings(database, policy)
    if phase is not None:
        check_phase(policy_rules(chosen), phase)
    rows = run(chosen.database_url, phase)
    columns = RELATIONSHIP_COLUMNS
    if len({row["policy"] for row in rows}) <= 1:  # several programs in one database: say whose each is
        columns = [c for c in columns if c.header != "policy"]
    zone = None if format == "json" else program_zone(chosen)
    print_rows(rows, columns, format, title="relationships", zone=zone)


def advance(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    trigger: Annotated[str, typer.Argument(metavar="TRIGGER", help="Trigger to fire, e.g. match, close.")],
    mentor: Annotated[str | None, typer.Option("--mentor", help="Mentor id, external id or email.")] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why; required for an early close and an --override.")
    ] = None,
    override: Annotated[
        list[str] | None,
        typer.Option(
            "--override",
            metavar="CONSTRAINT",
            help="Overrule a hard constraint of matching for --mentor knowingly (with --reason); repeatable.",
        ),
    ] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Fire a trigger on a relationship; refused with the reason if the policy does not allow it now.

    A mentor given by hand is held to every hard constraint of `match propose`.
    """
    from engine.clock import SystemClock
    from engine.domain.lifecycle import Lifecycle
    from engine.services.advance import AdvanceRequest
    from engine.services.advance import advance as run

    chosen = settings(database, policy)
    lifecycle = Lifecycle(load_policy(chosen))
    request = AdvanceRequest(
        relationship, trigger, actor_name(actor), reason, mentor, overrides=tuple(override or ())
    )
    entry = run(open_store(chosen), lifecycle, SystemClock(), request)
    typer.echo(
        f"relationship {relationship}: {entry.from_phase} -> {entry.to_phase} ({trigger}, by {entry.actor})"
    )


def history(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    format: FormatTableJson = "table",
) -> None:
    """Show who moved a relationship, when, why and under which policy version."""
    from engine.services.listing import history as run

    check_choice(format, "--format", ("table", "json"))
    chosen = settings(database, policy)
    url = chosen.database_url
    rows = run(url, relationship)
    if format == "json":
        print_rows(rows, [], "json", title="")
        return
    for row in rows:
        row["move"], row["reason"] = _move(row), row["reason"] or _recorded(row)
        row["policy"] = f"{row['policy_name']} {row['policy_version'][7:19]}"
        row["hash"] = row["hash"][:12]
    title = f"history of relationship {relationship}"
    print_rows(rows, HISTORY_COLUMNS, "table", title=title, zone=program_zone(chosen))
    _print_journey(url, relationship)


HISTORY_COLUMNS = [
    Column("seq", 0, justify="right"), Column("at", 0, 20), Column("trigger", 1, 14),
    Column("move", 1, 12), Column("actor", 3), Column("reason", 2, 16), Column("policy", 4),
    Column("hash", 5),
]  # fmt: skip


def _print_journey(url: str, relationship: int) -> None:
    """Where the mentee has had more than one relationship: each of them, oldest first."""
    from engine.services.listing import journey

    steps = journey(url, relationship)
    if len(steps) > 1:
        shown = " → ".join(
            f"{rid} ({phase}{', this one' if rid == relationship else ''})" for rid, phase in steps
        )
        typer.echo(f"the mentee's relationships: {shown}; see each with `mentorflow history ID`")


# The triggers of engine.vocabulary.RECORD_TRIGGERS, named here so that `history` stays light.
_RECORDED = (
    "record_meeting", "record_survey", "replace_mentor", "retract", "help_requested", "purge", "erase",
    "policy_applied", "set_goal", "goal_progress", "session_invited", "record_attendance",
)  # fmt: skip
"""engine.policy.vocabulary.RECORD_TRIGGERS (a test keeps them equal), without importing pydantic."""


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
    if row["trigger"] in ("set_goal", "goal_progress"):
        goal = data.get("goal", {})
        if row["trigger"] == "goal_progress":
            return f"goal {goal.get('id')}: {goal.get('level')}"
        serves = f" (serves {goal['program_goal']})" if goal.get("program_goal") else ""
        return f"goal {goal.get('id')} set{serves}"
    if row["trigger"] == "purge":
        purged = data.get("purged") or {}
        return "purged: " + ", ".join(f"{kind} {count}" for kind, count in sorted(purged.items()))
    return None


def status(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Replay the history up to this date.")] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    format: FormatTableJson = "table",
) -> None:
    """Phase counts and overdue items, now or as of a date (replayed from the audit history)."""
    from zoneinfo import ZoneInfo

    from engine.clock import SystemClock
    from engine.services.queries import status_at as run

    check_choice(format, "--format", ("table", "json"))
    chosen = settings(database, policy)
    loaded = policy_rules(chosen)
    moment = parse_moment(as_of, "--as-of", loaded.timezone, end_of_day=True) if as_of else None
    now = SystemClock().now()
    report = run(chosen.database_url, loaded, now, moment)
    purge = _due_for_purge(chosen, loaded.retention, now) if moment is None else None
    phases = {name: report.phases.get(name, 0) for name in loaded.phases}
    phases.update({k: v for k, v in report.phases.items() if k not in phases})
    overdue = [
        {
            "relationship": rid,
            "phase": o.phase,
            "what": o.kind,
            "since": o.since.isoformat(),
            "due": o.due.isoformat(),
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
        if purge is not None:
            document["due_for_purge"] = purge
        print_json(document, ascii=True)
        return
    _print_status(report, loaded.policy, phases, overdue, stranded, ZoneInfo(loaded.timezone))
    if purge is not None:
        from engine.services.retention import purged_line

        typer.echo(f"due for purging (retention): {purged_line(purge)}")


def _due_for_purge(chosen: Any, rules: RetentionRules | None, now: datetime) -> dict[str, int] | None:
    """Per kind the policy's ``retention:`` limits, how much has expired and waits for the cadence's purge;
    ``None`` for a policy without the block."""
    if rules is None:
        return None
    from engine.services.retention import due_for_purge

    return due_for_purge(open_store(chosen), rules, now)


def _print_status(
    report: StatusReport,
    policy: str,
    phases: dict[str, int],
    overdue: list[dict[str, Any]],
    stranded: list[dict[str, Any]],
    shown_in: tzinfo,
) -> None:
    from engine.clock import shown
    from engine.domain.programs import others_note

    label = f"as of {shown(report.as_of, shown_in)}" + (" (replayed)" if report.replayed else "")
    print_rows(
        [{"phase": k, "relationships": v} for k, v in phases.items()],
        [Column("phase", 0), Column("relationships", 0, justify="right")],
        "table",
        title=f"{policy}: status {label}",
    )
    if report.other_policies:
        say(others_note(report.other_policies))
    if stranded:
        print_rows(
            stranded[:50],
            [Column("relationship", 0, justify="right"), Column("phase", 0), Column("since", 1, 20)],
            "table",
            title=f"in a removed phase: {len(stranded)}" + (" (first 50)" if len(stranded) > 50 else ""),
            zone=shown_in,
        )
        typer.echo(
            f"policy {policy} no longer has these phases, so the tick leaves these relationships alone: "
            "add the phase back to the policy, or move them on with a version of the policy that has it "
            "(--policy FILE)"
        )
    if not overdue:
        typer.echo("overdue: none")
        return
    print_rows(
        [moments_of(row) for row in overdue[:50]],
        [
            Column(name, 0 if name == "relationship" else 1, 20 if name in ("since", "due") else 8)
            for name in ["relationship", "phase", "what", "since", "due", "action"]
        ],
        "table",
        title=f"overdue: {len(overdue)}" + (" (first 50)" if len(overdue) > 50 else ""),
        zone=shown_in,
    )
