"""``mentorflow record``: what happened outside mentorflow, meetings, trainings, survey answers, and
retracting what was recorded in error."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workflows.cli.common import (
    ActorOption,
    DatabaseOption,
    PolicyOption,
    actor_name,
    load_policy,
    open_store,
    parse_moment,
    settings,
)

app = typer.Typer(help="Record what happened: meetings, training, survey answers.", no_args_is_help=True)


@app.command("meeting")
def record_meeting(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    kind: Annotated[str, typer.Option("--kind", help="kickoff, check-in or group")],
    on: Annotated[str | None, typer.Option("--on", help="Date it was held (default: now).")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="A short note.")] = None,
    again: Annotated[
        bool, typer.Option("--again", help="A genuine second meeting of this kind on the same day.")
    ] = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Record a meeting of a pair as held (not twice a day, not before the pair began, not in the future)."""
    from engine.clock import SystemClock
    from engine.services.recording import record_meeting as run

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    held = parse_moment(on, "--on", loaded.program.timezone) if on else None
    run(
        open_store(chosen),
        loaded,
        SystemClock(),
        relationship,
        kind,
        held,
        actor=actor_name(actor),
        notes=notes,
        again=again,
    )
    typer.echo(f"relationship {relationship}: {kind} meeting recorded")


@app.command("training")
def record_training(
    mentor: Annotated[str, typer.Argument(help="Mentor id, external id or email.")],
    revoke: Annotated[
        bool, typer.Option("--revoke", help="The mentor is not trained after all (recorded in error).")
    ] = False,
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Record that a mentor finished the mentor training (or, with --revoke, that they did not).

    A training the mentor reported through their link and that waits for a coordinator is closed as
    confirmed by this command's actor, so nothing stays pending.
    """
    from engine.clock import SystemClock
    from engine.services.recording import record_training as run
    from engine.services.training import record_and_close

    store, who = open_store(settings(database)), actor_name(actor)
    if revoke:
        rel_ids, closed = run(store, SystemClock(), mentor, actor=who, revoke=True), None
    else:
        rel_ids, closed = record_and_close(store, SystemClock(), mentor, who)
    done = "training revoked" if revoke else "training recorded"
    report = "" if closed is None else f"; training report {closed} confirmed"
    typer.echo(f"mentor {mentor}: {done} ({len(rel_ids)} relationship(s) to reconsider{report})")


@app.command("retract")
def record_retract(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    entry: Annotated[
        int,
        typer.Argument(metavar="ENTRY", help="The seq of the entry that recorded it, as `history` shows."),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why it is retracted (kept in the audit entry).")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Retract a meeting or survey answer recorded in error; a new audit entry, the history stays intact."""
    from engine.clock import SystemClock
    from engine.services.retraction import retract

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    store, who = open_store(chosen), actor_name(actor)
    data = retract(store, loaded, SystemClock(), relationship, entry, reason=reason, actor=who)
    what = "meeting" if "meeting" in data["retracted"] else "survey answer"
    typer.echo(f"relationship {relationship}: the {what} of entry {entry} is retracted")


@app.command("survey")
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

    answers, chosen = _answers(answer or []), settings(database, policy)
    loaded = load_policy(chosen)
    store, who = open_store(chosen), actor_name(actor)
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


@app.command("surveys")
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
    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    count = run(open_store(chosen), loaded, SystemClock(), responses, actor=actor_name(actor))
    typer.echo(f"{file}: {count} survey response(s) recorded")
