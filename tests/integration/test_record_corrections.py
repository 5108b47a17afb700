"""Corrections of what was recorded: retracting a meeting or answer, meetings checked before they are
recorded, trainings revoked, and meeting and answer rows that cannot change behind the chain's back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, NotFoundError, RefusedError
from engine.policy.model import Policy
from engine.reporting.outcomes import load_outcomes
from engine.services import queries, recording, retraction
from engine.services.facts import load_facts
from engine.services.goals import GoalLevel, record_levels
from engine.store import goals as goal_store
from engine.store import participant_entries, records
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.tables import metadata, participants
from tests.integration.support import final_answers, fire, import_examples

MENTOR = "E1002"  # Fatima El Amrani: trained, in no mentee's reporting line
UNTRAINED = "E1003"


def dump(store: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: to show a refusal changed nothing."""
    with store.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in metadata.sorted_tables
        }


def _matched(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> int:
    rel = import_examples(store, policy, clock)[0]
    clock.advance(timedelta(days=1))
    fire(store, lifecycle, clock, rel, "match", mentor=MENTOR)
    return rel


def _kickoff(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> int:
    rel = _matched(store, policy, lifecycle, clock)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    return rel


def _head(store: Engine, rel: int) -> int:
    return queries.history(store, rel)[0].audit_seq


def _meetings(store: Engine, policy: Policy, rel: int, now: Any) -> tuple[int, bool]:
    with UnitOfWork(store, write=False) as uow:
        rows = rel_store.relationship_rows(uow.conn, [rel])
        facts = load_facts(uow, policy, list(rows.values()), now, None)[rel]
    return facts.meetings_held, facts.kickoff_held


def test_a_retracted_meeting_no_longer_counts_anywhere(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _kickoff(store, policy, lifecycle, clock)
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
    seq = _head(store, rel)
    assert _meetings(store, policy, rel, clock.now()) == (1, True)
    clock.advance(timedelta(hours=1))
    data = retraction.retract(store, policy, clock, rel, seq, reason="wrong pair", actor="coordinator")
    assert data["retracted"]["seq"] == seq and data["retracted"]["meeting"]["kind"] == "kickoff"
    assert _meetings(store, policy, rel, clock.now()) == (0, False)
    with store.connect() as conn:
        assert rel not in records.meeting_stats(conn, [rel])
        assert rel not in records.last_meetings(conn, clock.now())
    entry = queries.history(store, rel)[1][-1]
    assert (entry.trigger, entry.from_phase, entry.to_phase, entry.reason) == (
        "retract", "kickoff", "kickoff", "wrong pair"
    )  # fmt: skip
    with pytest.raises(RefusedError, match="no kickoff"):
        fire(store, lifecycle, clock, rel, "start")
    (pair,) = [p for p in load_outcomes(store, policy) if p.id == rel]
    assert pair.meetings == []
    assert queries.verify(store).problems == []


def test_retractions_that_cannot_be_are_refused_and_change_nothing(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _kickoff(store, policy, lifecycle, clock)
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
    seq = _head(store, rel)
    retraction.retract(store, policy, clock, rel, seq, reason="typo", actor="c")
    before = dump(store)
    cases: list[tuple[type[Exception], str, int, int, str]] = [
        (RefusedError, "already retracted", rel, seq, "again"),
        (RefusedError, "not a meeting or survey answer", rel, 1, "x"),
        (RefusedError, "not a meeting or survey answer", rel, seq + 1, "x"),  # the retraction itself
        (NotFoundError, "has no entry 99", rel, 99, "x"),
        (NotFoundError, "no relationship 999", 999, 1, "x"),
        (InputError, "reason", rel, seq, "  "),
    ]
    for error, message, rid, entry, reason in cases:
        with pytest.raises(error, match=message):
            retraction.retract(store, policy, clock, rid, entry, reason=reason, actor="c")
    assert dump(store) == before


def _to_review(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> int:
    rel = _kickoff(store, policy, lifecycle, clock)
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
    fire(store, lifecycle, clock, rel, "start")
    clock.set(policy.program.duration.after(clock.now()))
    fire(store, lifecycle, clock, rel, "review")
    return rel


def test_an_answer_is_corrected_by_retracting_it_and_answering_again(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _to_review(store, policy, lifecycle, clock)
    record = recording.record_survey
    before = _head(store, rel)
    record(store, policy, clock, rel, "final", "mentee", final_answers(store, rel, 1), actor="mentee")
    seq = before + 1  # the answer; then an entry per goal it moved to partly
    assert [g.status for g in _goals(store, rel)] == ["partly", "partly"]
    with pytest.raises(RefusedError, match="already answered"):
        record(store, policy, clock, rel, "final", "mentee", final_answers(store, rel, 5), actor="mentee")
    retraction.retract(store, policy, clock, rel, seq, reason="answered for the wrong pair", actor="c")
    assert [g.status for g in _goals(store, rel)] == ["not_started", "not_started"]  # put back
    _, entries = queries.history(store, rel)
    back = [e.data["goal"] for e in entries[-2:]]
    assert [(g["level"], g["was"], g["retracted"]) for g in back] == [("not_started", "partly", seq)] * 2
    record(store, policy, clock, rel, "final", "mentee", final_answers(store, rel, 5), actor="mentee")
    (pair,) = [p for p in load_outcomes(store, policy) if p.id == rel]
    assert [a.answers["satisfaction"] for a in pair.answers] == [5]
    assert [g.level for g in pair.goals.values()] == ["partly", "partly"]
    assert queries.verify(store).problems == []


def test_a_retracted_answer_leaves_a_goal_that_moved_on_since_where_it_is(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _to_review(store, policy, lifecycle, clock)
    seq = _head(store, rel) + 1
    recording.record_survey(
        store, policy, clock, rel, "final", "mentee", final_answers(store, rel), actor="m"
    )
    first, _ = _goals(store, rel)
    record_levels(store, policy, clock, [GoalLevel(rel, first.id, "reached")], actor="coordinator")

    retraction.retract(store, policy, clock, rel, seq, reason="the wrong pair", actor="c")

    assert [g.status for g in _goals(store, rel)] == ["reached", "not_started"]


def _goals(store: Engine, rel: int) -> list[goal_store.GoalRow]:
    with store.connect() as conn:
        return goal_store.goal_rows(conn, [rel])[rel]


def test_meetings_twice_a_day_before_the_start_in_the_future_or_misplaced_are_refused(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _matched(store, policy, lifecycle, clock)
    before = dump(store)
    with pytest.raises(RefusedError, match=r"matched: the policy expects a kickoff only in kickoff, active"):
        recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="c")
    with pytest.raises(RefusedError, match="before the relationship began"):
        recording.record_meeting(
            store, policy, clock, rel, "check-in", clock.now() - timedelta(days=30), actor="c"
        )
    with pytest.raises(InputError, match="in the future"):
        recording.record_meeting(
            store, policy, clock, rel, "check-in", clock.now() + timedelta(days=1), actor="c"
        )
    assert dump(store) == before
    recording.record_meeting(store, policy, clock, rel, "check-in", None, actor="c")
    before = dump(store)
    with pytest.raises(RefusedError, match=r"already recorded.*`again`"):
        recording.record_meeting(store, policy, clock, rel, "check-in", None, actor="c")
    assert dump(store) == before
    recording.record_meeting(store, policy, clock, rel, "check-in", None, actor="c", again=True)
    assert _meetings(store, policy, rel, clock.now())[0] == 2


def test_a_batch_with_the_same_meeting_twice_is_refused(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _matched(store, policy, lifecycle, clock)
    held = [recording.HeldMeeting(rel, "check-in"), recording.HeldMeeting(rel, "check-in")]
    before = dump(store)
    with pytest.raises(RefusedError, match="already recorded"):
        recording.record_meetings(store, policy, clock, held, actor="c")
    assert dump(store) == before


def test_a_training_and_its_revocation_are_audited(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    recording.record_training(store, clock, UNTRAINED, actor="trainer")
    recording.record_training(store, clock, UNTRAINED, actor="coordinator", revoke=True)
    with store.connect() as conn:
        (row,) = conn.execute(select(participants).where(participants.c.external_id == UNTRAINED)).all()
        assert row.trained is False
        entries = participant_entries.entries_of(conn, row.id)
    before = dump(store)
    with pytest.raises(RefusedError, match="not trained"):
        recording.record_training(store, clock, UNTRAINED, actor="coordinator", revoke=True)
    assert dump(store) == before
    assert [(e["cause"], e["actor"]) for e in entries][-2:] == [
        ("training", "trainer"), ("training_revoked", "coordinator")
    ]  # fmt: skip


@pytest.fixture
def drop_record_triggers(store: Engine) -> Iterator[None]:
    """Drop the meetings' and answers' append-only triggers, as a database superuser could."""
    with store.begin() as conn:
        if store.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER meetings_append_only ON meetings"))
            conn.execute(text("DROP TRIGGER survey_responses_append_only ON survey_responses"))
        else:
            for name in ("meetings_no_update", "meetings_no_delete", "survey_responses_no_update",
                         "survey_responses_no_delete"):  # fmt: skip
                conn.execute(text(f"DROP TRIGGER {name}"))
    yield
    if store.dialect.name == "postgresql":
        with store.begin() as conn:
            conn.execute(
                text(
                    "CREATE TRIGGER meetings_append_only BEFORE UPDATE OR DELETE ON meetings "
                    "FOR EACH ROW EXECUTE FUNCTION mentorflow_meetings_append_only()"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER survey_responses_append_only BEFORE UPDATE OR DELETE ON survey_responses "
                    "FOR EACH ROW EXECUTE FUNCTION mentorflow_answers_append_only()"
                )
            )


def _answered(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> int:
    rel = _to_review(store, policy, lifecycle, clock)
    answers = {**final_answers(store, rel, 2), "comments": "my manager is lovely"}
    recording.record_survey(store, policy, clock, rel, "final", "mentee", answers, actor="mentee")
    return rel


def _sql(store: Engine, statement: str) -> None:
    with store.begin() as conn:
        conn.execute(text(statement))


def test_meetings_and_answers_cannot_be_changed_but_free_text_can_be_erased(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    _answered(store, policy, lifecycle, clock)
    for statement in (
        "UPDATE survey_responses SET answers = '{\"satisfaction\": 5}'",
        "UPDATE survey_responses SET respondent = 'mentor'",
        "DELETE FROM survey_responses",
        "UPDATE meetings SET kind = 'group'",
        "DELETE FROM meetings",
    ):
        with pytest.raises(Exception, match="append-only"):
            _sql(store, statement)
    with store.connect() as conn:
        (free,) = conn.execute(text("SELECT free_text FROM survey_responses")).scalars().all()
    assert free is not None and "lovely" in str(free)
    _sql(store, "UPDATE survey_responses SET free_text = NULL")
    assert queries.verify(store).problems == []


@pytest.mark.usefixtures("drop_record_triggers")
def test_verify_names_a_changed_answer_and_the_report_leaves_it_out(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, tmp_path: Any
) -> None:
    rel = _answered(store, policy, lifecycle, clock)
    anchor = tmp_path / "anchor.jsonl"
    queries.write_anchor(store, anchor)
    with store.connect() as conn:
        (row_id,) = conn.execute(text("SELECT id FROM survey_responses")).scalars().all()
    _sql(store, 'UPDATE survey_responses SET answers = \'{"satisfaction": 5, "recommend": 10}\'')
    _sql(store, "UPDATE meetings SET kind = 'group'")
    for anchors in (None, queries.read_anchor(anchor)):
        found = [str(p) for p in queries.verify(store, anchors).problems]
        assert any(f"survey answer row {row_id} differs" in p and "satisfaction" in p for p in found), found
        assert any("meeting row" in p and "kind" in p for p in found), found
    (pair,) = [p for p in load_outcomes(store, policy) if p.id == rel]
    assert pair.answers == [] and pair.meetings == []
    _sql(store, "DELETE FROM meetings")
    found = [str(p) for p in queries.verify(store).problems]
    assert any("recorded a meeting whose row is gone" in p for p in found), found
