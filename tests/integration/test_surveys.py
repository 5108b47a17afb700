"""Surveys in the store: validated answers, recorded facts in the audit chain, timed sends and reminders."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.audit import iso
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, NotFoundError, RefusedError
from engine.files.records import read_survey_answers
from engine.policy.model import Policy, load_policy_text, shipped_policies
from engine.policy.surveys import SurveyRemind
from engine.services import queries, recording, tick
from engine.services.recording import SurveyResponse, record_surveys
from engine.store.tables import relationships, survey_responses

from .support import (
    TRAINED_MENTOR,
    answer_final,
    count,
    final_answers,
    fire,
    footprint,
    import_examples,
    outbox_rows,
    to_review,
)

DAY = timedelta(days=1)
# Zoë Çelik (E1101, the first mentee of the examples) has two development goals.
GOOD = {"satisfaction": "4", "recommend": "9", "met_regularly": "ja", "goals": "reached;partly"}


def _responses(store: Engine, rel: int | None = None) -> list[dict[str, Any]]:
    query = select(survey_responses).order_by(survey_responses.c.id)
    if rel is not None:
        query = query.where(survey_responses.c.relationship_id == rel)
    with store.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def _in_review(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> int:
    rel = import_examples(store, policy, clock)[0]
    to_review(store, policy, lifecycle, clock, rel)
    clock.advance(DAY)
    return rel


# --- answers are checked against the survey's questions, and stored normalised ---------------------


def test_an_answer_is_stored_normalised_and_recorded_in_the_chain_without_free_text(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _in_review(store, policy, lifecycle, clock)
    answers = {**GOOD, "comments": "Zoë was great to work with"}

    stored = recording.record_survey(store, policy, clock, rel, "final", "mentee", answers, actor="Zoë")

    expected = {
        "satisfaction": 4,
        "recommend": 9,
        "met_regularly": True,
        "goals": ["reached", "partly"],
        "comments": "Zoë was great to work with",
    }
    assert stored == expected
    (row,) = _responses(store)
    kept = {k: v for k, v in expected.items() if k != "comments"}  # free text has its own, erasable column
    assert (row["survey"], row["respondent"], row["answers"]) == ("final", "mentee", kept)
    assert row["free_text"] == {"comments": "Zoë was great to work with"}
    _, entries = queries.history(store, rel)
    last, *moved = entries[-3:]  # the answer, then how far the mentee got with each of their two goals
    assert (last.trigger, last.from_phase, last.to_phase, last.actor) == (
        "record_survey", "review", "review", "Zoë"
    )  # fmt: skip
    goals = [e.data["goal"] for e in moved if e.trigger == "goal_progress" and e.actor == "Zoë"]
    assert [(g["level"], g["survey"]) for g in goals] == [("reached", "final"), ("partly", "final")]
    without_text = {k: v for k, v in expected.items() if k != "comments"}
    assert last.data == {"survey": {"name": "final", "respondent": "mentee", "answers": without_text}}
    assert "Zoë was great" not in str([e.data for e in entries])
    assert queries.verify(store).problems == []


@pytest.mark.parametrize(
    ("change", "error", "fragment"),
    [
        (
            {"satisfaction": "7"},
            InputError,
            "final survey of the mentee: satisfaction: 7 is not on the 1-5 scale",
        ),
        ({"recommend": "11"}, InputError, "recommend: 11 is not a 0-10 recommend score"),
        ({"recommend": ""}, InputError, "recommend: is not answered (expected an answer: it is required)"),
        ({"met_regularly": "maybe"}, InputError, "met_regularly: maybe is not yes or no"),
        ({"goals": "reached"}, InputError, "goals: 1 level(s) for 2 development goal(s) of the mentee"),
        ({"goals": "reached;done"}, InputError, "goals: done is not a goal level"),
        ({"satisfation": "4"}, InputError, 'unknown question "satisfation": did you mean "satisfaction"?'),
    ],
)
def test_an_answer_that_does_not_fit_the_questions_is_refused_and_nothing_is_written(
    store: Engine,
    policy: Policy,
    lifecycle: Lifecycle,
    clock: SimulatedClock,
    change: dict[str, str],
    error: type[Exception],
    fragment: str,
) -> None:
    rel = _in_review(store, policy, lifecycle, clock)
    before = footprint(store)

    with pytest.raises(error) as refused:
        recording.record_survey(store, policy, clock, rel, "final", "mentee", {**GOOD, **change}, actor="x")

    assert fragment in str(refused.value)
    assert footprint(store) == before and _responses(store) == []


def test_a_survey_that_was_not_sent_or_is_unknown_or_answered_already_is_refused(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _in_review(store, policy, lifecycle, clock)
    answer_final(store, policy, clock, rel, "mentee")
    before = footprint(store)

    with pytest.raises(InputError, match="unknown survey 'finale'"):
        recording.record_survey(store, policy, clock, rel, "finale", "mentor", GOOD, actor="x")
    with pytest.raises(RefusedError, match=r"pulse survey was not sent .* \(review\) \(this policy never"):
        recording.record_survey(store, policy, clock, rel, "pulse", "mentor", {}, actor="x")
    with pytest.raises(RefusedError, match="the mentee already answered the final survey"):
        recording.record_survey(store, policy, clock, rel, "final", "mentee", GOOD, actor="x")
    with pytest.raises(NotFoundError, match="no relationship 999"):
        recording.record_survey(store, policy, clock, 999, "final", "mentee", GOOD, actor="x")
    with store.connect() as conn:  # a pair still in intake: no survey was sent to it
        other = conn.execute(select(relationships.c.id).where(relationships.c.phase == "intake")).scalar()
    with pytest.raises(RefusedError, match=r"final survey was not sent .* \(it is sent on entering review\)"):
        recording.record_survey(store, policy, clock, other, "final", "mentee", {}, actor="x")

    assert footprint(store) == before and len(_responses(store)) == 1


def test_a_batch_with_one_bad_response_records_nothing_and_names_every_problem(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _in_review(store, policy, lifecycle, clock)
    before = footprint(store)
    batch = [
        SurveyResponse(rel, "final", "mentee", final_answers(store, rel)),
        SurveyResponse(rel, "final", "mentor", {**final_answers(store, rel), "satisfaction": 0}),
        SurveyResponse(rel, "final", "mentee", final_answers(store, rel)),
    ]

    with pytest.raises(InputError) as refused:
        record_surveys(store, policy, clock, batch, actor="hr")

    assert "cannot be recorded (2 problem(s)); nothing was recorded" in refused.value.message
    assert refused.value.problems == [
        f"relationship {rel}, final survey of the mentor: satisfaction: 0 is not on the 1-5 scale "
        "(expected a whole number from 1 to 5)",
        "the mentee's answers to final are given twice",
    ]
    assert footprint(store) == before and _responses(store) == []


def test_a_csv_file_is_checked_whole_and_its_errors_name_row_and_column(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, tmp_path: Path
) -> None:
    rels = import_examples(store, policy, clock)
    for rel in rels[:2]:
        to_review(store, policy, lifecycle, clock, rel)
    path = tmp_path / "answers.csv"
    header = "relationship,respondent,survey,satisfaction,recommend,met_regularly,goals,comments"
    rows = [
        f"{rels[0]},mentee,final,4,9,ja,reached;partly,Heel fijn",
        f"{rels[0]},mentor,final,5,10,true,reached;reached,",
        f"{rels[1]},mentee,final,7,8,nee,not started;partly,",
        f"{rels[1]},mentor,,3,6,no,partly,",
    ]
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    before = footprint(store)
    responses = read_survey_answers(path)

    with pytest.raises(InputError) as refused:
        record_surveys(store, policy, clock, responses, actor="hr")

    assert refused.value.problems == [
        f"{path}:row 4: column satisfaction: 7 is not on the 1-5 scale (expected a whole number from 1 to 5)",
        f"{path}:row 5: column goals: 1 level(s) for 2 development goal(s) of the mentee "
        "(expected one level per goal, in the order of their goals)",
    ]
    assert footprint(store) == before and _responses(store) == []

    assert record_surveys(store, policy, clock, responses[:2], actor="hr") == 2
    answers = [{**row["answers"], **(row["free_text"] or {})} for row in _responses(store)]
    assert answers[0] == {
        "satisfaction": 4, "recommend": 9, "met_regularly": True, "goals": ["reached", "partly"],
        "comments": "Heel fijn",
    }  # fmt: skip
    assert answers[1]["met_regularly"] is True and "comments" not in answers[1]


# --- recorded facts in the audit history ------------------------------------------------------------


def test_a_meeting_is_an_audit_entry_in_its_phase_and_the_history_stays_true(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    clock.advance(DAY)
    held = clock.now() - timedelta(hours=3)

    recording.record_meeting(store, policy, clock, rel, "kickoff", held, actor="coordinator", notes="private")

    current, entries = queries.history(store, rel)
    last = entries[-1]
    assert (last.seq, last.trigger, last.from_phase, last.to_phase, last.actor, last.reason) == (
        4, "record_meeting", "kickoff", "kickoff", "coordinator", None
    )  # fmt: skip
    assert last.data == {"meeting": {"kind": "kickoff", "held_on": iso(held)}}
    assert (current.phase, current.audit_seq, current.audit_head, current.due_at) == (
        "kickoff", 4, last.hash, clock.now()
    )  # fmt: skip
    assert current.phase_entered_at == entries[2].at  # the stay in kickoff did not begin again
    assert queries.verify(store).problems == []
    assert fire(store, lifecycle, clock, rel, "start").seq == 5


def test_a_recorded_fact_does_not_resend_a_deadline_notice_of_the_same_stay(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _in_review(store, policy, lifecycle, clock)
    clock.advance(timedelta(days=14))  # the review deadline (14 days, remind) has passed
    tick.run_tick(store, lifecycle, clock.now())
    answer_final(store, policy, clock, rel, "mentee")  # a new head of the chain, the same stay
    clock.advance(DAY)
    tick.run_tick(store, lifecycle, clock.now())

    reminders = [r for r in outbox_rows(store, rel) if r["action"] == "remind"]
    assert sorted(r["params"]["recipient"] for r in reminders) == ["mentee", "mentor"]  # type: ignore[index]


# --- reminders and timed sends ------------------------------------------------------------------------


def _reminders(store: Engine, rel: int) -> list[tuple[object, object]]:
    rows = [r["params"] for r in outbox_rows(store, rel) if r["action"] == "survey_reminder"]
    return [(p["recipient"], p["reminder"]) for p in rows]  # type: ignore[index]


def test_a_mentee_answers_a_mentor_does_not_and_only_the_mentor_is_reminded_as_often_as_the_policy_says(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    assert policy.survey_definitions["final"].remind == SurveyRemind.model_validate(
        {"every": "1 week", "times": 2}
    )
    rel = import_examples(store, policy, clock)[0]
    to_review(store, policy, lifecycle, clock, rel)
    entered = clock.now()
    tick.run_tick(store, lifecycle, clock.now())
    assert _due(store, rel) == entered + timedelta(weeks=1)  # the first reminder: due exactly then
    clock.advance(DAY)
    answer_final(store, policy, clock, rel, "mentee")

    for _ in range(5 * 7):
        clock.advance(DAY)
        tick.run_tick(store, lifecycle, clock.now())

    assert _reminders(store, rel) == [("mentor", 1), ("mentor", 2)]
    sent = [r["created_at"] for r in outbox_rows(store, rel) if r["action"] == "survey_reminder"]
    assert sent == [entered + timedelta(weeks=1), entered + timedelta(weeks=2)]
    assert queries.history(store, rel)[0].phase == "review"

    answer_final(store, policy, clock, rel, "mentor")
    for _ in range(14):
        clock.advance(DAY)
        tick.run_tick(store, lifecycle, clock.now())
    assert _reminders(store, rel) == [("mentor", 1), ("mentor", 2)]
    assert queries.history(store, rel)[0].phase == "closed"  # the survey complete, review closed itself


def test_an_answer_between_reminders_stops_the_next_one(
    store: Engine, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    text = shipped_policies()["default"].read_text("utf-8")
    policy = load_policy_text(text.replace("[survey_complete], auto: true}", "[survey_complete]}"), "p.yaml")
    lifecycle = Lifecycle(policy)  # review waits for the coordinator: the pair stays there once answered
    rel = import_examples(store, policy, clock)[0]
    to_review(store, policy, lifecycle, clock, rel)
    for day in range(1, 36):
        clock.advance(DAY)
        if day == 10:  # after the first reminder (day 7), before the second (day 14)
            answer_final(store, policy, clock, rel, "mentor")
            answer_final(store, policy, clock, rel, "mentee")
        tick.run_tick(store, lifecycle, clock.now())

    assert _reminders(store, rel) == [("mentee", 1), ("mentor", 1)]
    assert queries.history(store, rel)[0].phase == "review"


PULSE = """\
surveys:
  pulse:
    send: {phase: active, after: 10 days}
"""


def _due(store: Engine, rel: int) -> object:
    with store.connect() as conn:
        return conn.execute(select(relationships.c.due_at).where(relationships.c.id == rel)).scalar()


def test_a_timed_pulse_goes_out_once_per_stay_and_is_reminded_to_whoever_has_not_answered(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = load_policy_text(shipped_policies()["with-pause"].read_text("utf-8") + PULSE, "pulse.yaml")
    lifecycle = Lifecycle(policy)
    rel = import_examples(store, policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
    start = fire(store, lifecycle, clock, rel, "start")
    tick.run_tick(store, lifecycle, clock.now())
    assert _due(store, rel) == start.at + timedelta(days=10)  # the pulse, before the 3-week nudge

    for day in range(1, 29):
        clock.advance(DAY)
        if day == 5:
            recording.record_meeting(store, policy, clock, rel, "check-in", None, actor="pair")
        if day == 12:
            answers = {"satisfaction": 4, "met_regularly": "yes"}
            recording.record_survey(store, policy, clock, rel, "pulse", "mentee", answers, actor="Zoë")
        tick.run_tick(store, lifecycle, clock.now())
        before = footprint(store)
        tick.run_tick(store, lifecycle, clock.now())  # a second tick at the same moment writes nothing
        assert footprint(store) == before

    pulses = [r for r in outbox_rows(store, rel) if r["action"] == "send_survey"]
    assert [(r["params"]["survey"], r["params"]["recipient"]) for r in pulses] == [  # type: ignore[index]
        ("pulse", "mentee"),
        ("pulse", "mentor"),
    ]
    assert {r["idempotency_key"] for r in pulses} == {
        f"rel:{rel}:entry:{start.seq}:send_survey:pulse:mentee",
        f"rel:{rel}:entry:{start.seq}:send_survey:pulse:mentor",
    }
    assert {r["created_at"] for r in pulses} == {start.at + timedelta(days=10)}
    assert _reminders(store, rel) == [("mentor", 1)]  # the mentee answered on day 12

    fire(store, lifecycle, clock, rel, "pause", reason="parental leave")
    resumed = fire(store, lifecycle, clock, rel, "resume")
    for _ in range(12):
        clock.advance(DAY)
        tick.run_tick(store, lifecycle, clock.now())
    pulses = [r for r in outbox_rows(store, rel) if r["action"] == "send_survey"]
    assert len(pulses) == 4  # a new stay in active, a new pulse
    assert pulses[-1]["idempotency_key"] == f"rel:{rel}:entry:{resumed.seq}:send_survey:pulse:mentor"
    assert queries.verify(store).problems == []


def test_a_final_survey_answered_by_both_lets_review_close_on_the_next_tick(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _in_review(store, policy, lifecycle, clock)
    answer_final(store, policy, clock, rel, "mentee")
    answer_final(store, policy, clock, rel, "mentor")
    assert count(store, survey_responses, rel) == 2
    summary = tick.run_tick(store, lifecycle, clock.now())
    assert summary.advanced == {"close": 1}
