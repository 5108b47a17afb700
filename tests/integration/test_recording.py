"""Recording meetings and survey answers in batches: all or nothing, each pair due again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, RefusedError
from engine.policy.model import Policy
from engine.policy.surveys import RESPONDENTS
from engine.services.recording import HeldMeeting, SurveyResponse, record_meetings, record_surveys
from engine.store.tables import meetings, relationships, survey_responses
from tests.integration.support import TRAINED_MENTOR, count, final_answers, fire, import_examples, to_review


def _due(store: Engine, rel_id: int) -> object:
    with store.connect() as conn:
        return conn.execute(select(relationships.c.due_at).where(relationships.c.id == rel_id)).scalar()


def test_meetings_of_many_pairs_are_recorded_at_once_and_make_them_due(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    opened = import_examples(store, policy, clock)
    first, second = opened[:2]
    for rel in (first, second):  # a kickoff is held in `kickoff` (or later), where the policy expects it
        fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
        fire(store, lifecycle, clock, rel, "schedule_kickoff")
    clock.advance(timedelta(days=3))
    held = [HeldMeeting(first, "kickoff"), HeldMeeting(second, "kickoff", clock.now() - timedelta(days=1))]

    assert record_meetings(store, policy, clock, held, actor="pair") == 2

    assert count(store, meetings) == 2
    assert _due(store, first) == clock.now() and _due(store, second) == clock.now()


def test_one_bad_meeting_and_none_is_recorded(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    opened = import_examples(store, policy, clock)
    fire(store, lifecycle, clock, opened[0], "match", mentor=TRAINED_MENTOR)
    held = [HeldMeeting(opened[0], "kickoff"), HeldMeeting(opened[1], "check-in")]  # the second: no mentor

    with pytest.raises(RefusedError) as refused:
        record_meetings(store, policy, clock, held, actor="pair")

    assert "no mentor yet" in refused.value.problems[0]
    assert count(store, meetings) == 0
    with pytest.raises(InputError, match="cannot be recorded"):
        record_meetings(store, policy, clock, [HeldMeeting(opened[0], "lunch")], actor="pair")


def test_survey_answers_of_many_pairs_are_recorded_at_once_and_make_them_due(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    opened = import_examples(store, policy, clock)
    for rel in opened[:2]:
        to_review(store, policy, lifecycle, clock, rel)
    clock.advance(timedelta(days=2))
    answers = [
        SurveyResponse(rel, "final", who, final_answers(store, rel))
        for rel in opened[:2]
        for who in RESPONDENTS
    ]

    assert record_surveys(store, policy, clock, answers, actor="hr") == 4

    assert count(store, survey_responses) == 4
    assert _due(store, opened[0]) == clock.now() and _due(store, opened[1]) == clock.now()
    with pytest.raises(InputError, match="'manager' is not a respondent"):
        record_surveys(store, policy, clock, [SurveyResponse(opened[1], "final", "manager")], actor="hr")
    assert count(store, survey_responses) == 4
