"""Who recorded what: each item of a batch may name its own actor, and the simulated participants
record through their personal links, as a real program's participants do on their pages."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import recording
from engine.services.queries import verify
from engine.services.recording import HeldMeeting, SurveyResponse
from engine.store.tables import audit_entries, meetings, participant_entries, participants, relationships

from .report_support import run_program
from .support import TRAINED_MENTOR, final_answers, fire, import_examples, to_review

VIA_LINK = re.compile(r"participant:(.+) via link")


def _entries(store: Engine, trigger: str) -> list[tuple[int, str, dict[str, Any]]]:
    with store.connect() as conn:
        query = select(audit_entries.c.relationship_id, audit_entries.c.actor, audit_entries.c.data)
        rows = conn.execute(query.where(audit_entries.c.trigger == trigger).order_by(audit_entries.c.id))
        return [(rel, actor, data) for rel, actor, data in rows]


def test_each_meeting_of_a_batch_is_recorded_by_its_own_actor_or_the_batchs(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    first, second = import_examples(store, policy, clock)[:2]
    for rel in (first, second):
        fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
        fire(store, lifecycle, clock, rel, "schedule_kickoff")
    held = [HeldMeeting(first, "kickoff", actor="participant:E1102 via link"), HeldMeeting(second, "kickoff")]
    assert recording.record_meetings(store, policy, clock, held, actor="pair") == 2
    with store.connect() as conn:
        query = select(meetings.c.relationship_id, meetings.c.recorded_by).order_by(
            meetings.c.relationship_id
        )
        recorded_by = dict(conn.execute(query).all())
    assert recorded_by == {first: "participant:E1102 via link", second: "pair"}
    assert {rel: actor for rel, actor, _ in _entries(store, "record_meeting")} == recorded_by
    assert verify(store).problems == []


def test_each_answer_of_a_batch_is_recorded_by_its_own_actor_or_the_batchs(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    to_review(store, policy, lifecycle, clock, rel)
    answers = final_answers(store, rel)
    responses = [
        SurveyResponse(rel, "final", "mentee", answers, actor="participant:#12 via link"),
        SurveyResponse(rel, "final", "mentor", answers),
    ]
    assert recording.record_surveys(store, policy, clock, responses, actor="hr") == 2
    by = {data["survey"]["respondent"]: actor for _, actor, data in _entries(store, "record_survey")}
    assert by == {"mentee": "participant:#12 via link", "mentor": "hr"}
    assert verify(store).problems == []


def test_a_simulated_programs_participants_record_through_their_links(
    store: Engine, lifecycle: Lifecycle
) -> None:
    run_program(store, lifecycle, seed=3, mentees=12, mentors=6, days=230)
    with store.connect() as conn:
        pairs = {rid: (mentee, mentor) for rid, mentee, mentor in conn.execute(
            select(relationships.c.id, relationships.c.mentee_id, relationships.c.mentor_id))}  # fmt: skip
        external = dict(conn.execute(select(participants.c.id, participants.c.external_id)).all())
        trainings = conn.execute(
            select(participant_entries.c.participant_id, participant_entries.c.actor).where(
                participant_entries.c.cause == "training"
            )
        ).all()
        recorded_by = Counter(actor for (actor,) in conn.execute(select(meetings.c.recorded_by)))
        everything = conn.execute(select(audit_entries.c.trigger, audit_entries.c.actor)).all()
    confirmed_by: Counter[str] = Counter()
    for rel, actor, _ in _entries(store, "record_meeting"):
        found = VIA_LINK.fullmatch(actor)
        assert found is not None, actor
        mentee, mentor = pairs[rel]
        side = {external[mentee]: "mentee", external.get(mentor): "mentor"}.get(found[1])
        assert side is not None, (rel, actor)  # one of the pair (now or then: no mentor was replaced here)
        confirmed_by[side] += 1
    assert confirmed_by["mentee"] > 0 and confirmed_by["mentor"] > 0  # by the seed, either side confirms
    assert sum(recorded_by.values()) == confirmed_by.total() and all(
        VIA_LINK.fullmatch(a) for a in recorded_by
    )
    answers = _entries(store, "record_survey")
    assert answers
    for rel, actor, data in answers:
        respondent = pairs[rel][0 if data["survey"]["respondent"] == "mentee" else 1]
        assert actor == f"participant:{external[respondent]} via link"
    assert trainings and all(actor == f"participant:{external[pid]} via link" for pid, actor in trainings)
    goals = [*_entries(store, "set_goal"), *_entries(store, "goal_progress")]
    assert [actor for _, actor, _ in goals if "via link" in actor]  # the mentees work on their goals
    for rel, actor, _ in goals:
        assert actor == f"participant:{external[pairs[rel][0]]} via link" or "via link" not in actor
    by_link = ("record_meeting", "record_survey", "set_goal", "goal_progress", "record_attendance")
    others = Counter(actor for trigger, actor in everything if trigger not in by_link)
    assert not [actor for actor in others if "via link" in actor]
    assert others["coordinator"] > 0  # the coordinator's approvals, and closes and rematches where any
    assert verify(store).problems == []
