"""Properties of every shipped policy: whatever operators do, the history stays true to the lifecycle.

The first property drives the services on a fresh SQLite store with random
sequences of triggers, mentors, reasons, meetings, surveys, training and time;
the second asks the lifecycle alone about random phases, triggers and facts.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle, unmet
from engine.domain.participants import Participant
from engine.domain.relationships import MEETING_KINDS
from engine.errors import InputError, RefusedError
from engine.policy.model import Edge, Policy, load_policy, shipped_policies
from engine.policy.vocabulary import POLICY_MAPPED, RECORD_TRIGGERS, Facts
from engine.services import advance as services
from engine.services import queries, recording
from engine.services.erasure import ErasureRequest, erase_participant
from engine.services.journeys import open_again
from engine.services.leave import change_status
from engine.services.participants import import_participants
from engine.services.replacing import ReplaceRequest, replace_mentor
from engine.services.retraction import retract
from engine.store import relationships as repo
from engine.store.database import UnitOfWork, open_engine
from engine.store.tables import participants, relationships

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
POLICIES = sorted(shipped_policies())
MENTORS = [
    Participant(
        external_id="M1", role="mentor", name="M One", email="m1@example.com", capacity=2, trained=True
    ),
    Participant(external_id="M2", role="mentor", name="M Two", email="m2@example.com", capacity=1),
    Participant(
        external_id="M3", role="mentor", name="M Drie", email="m3@example.com", capacity=1, trained=True
    ),
]
MENTEES = [
    Participant(external_id=f"T{n}", role="mentee", name=f"Mentee {n}", email=f"t{n}@example.com")
    for n in range(1, 3)
]
MENTOR_REFS = ["M1", "M2", "M3", "T1", "m3@example.com", "nobody"]
REASONS = [None, "", "  ", "moving to another team"]
_COMPILED: dict[Any, Any] = {}  # SQLAlchemy's statement cache, per engine by default
_ANSWERS: dict[str, object] = {"scale": 4, "recommend": 8, "yes_no": "ja", "text": "fine", "goals": []}
IN_PLACE = {"meeting", "survey", "retracted", "old_mentor_id"}  # what each in-place entry's data holds
PEOPLE = ["M1", "M2", "M3", "T1", "T2"]
WAITS = [timedelta(hours=1), timedelta(days=3), timedelta(weeks=3), timedelta(days=100), timedelta(days=200)]


@cache
def _policy(name: str) -> Policy:
    return load_policy(shipped_policies()[name])


@cache
def _triggers(name: str) -> list[str]:
    return sorted({edge.trigger for edge in _policy(name).edges})


def _steps(name: str) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    rel = st.integers(0, len(MENTEES) - 1)
    trigger = st.sampled_from(_triggers(name))
    mentor = st.sampled_from([None, *MENTOR_REFS])
    reason = st.sampled_from(REASONS)
    # Mostly a trigger that leads out of the pair's current phase, so pairs get past intake.
    onward = st.tuples(
        st.just("onward"),
        rel,
        st.sampled_from([0, 0, 0, 1, 2]),
        st.sampled_from(["M1", "M3", "M2"]),
        reason,
        st.sampled_from([True, True, True, False]),  # helpful
    )
    step = st.one_of(
        onward,
        onward,
        onward,
        st.tuples(st.just("fire"), rel, trigger, mentor, reason),
        st.tuples(st.just("batch"), st.lists(rel, max_size=3), trigger, reason),
        st.tuples(st.just("meeting"), rel, st.sampled_from(["kickoff", *MEETING_KINDS])),
        st.tuples(st.just("survey"), rel, st.sampled_from(["mentor", "mentee"])),
        st.tuples(st.just("training"), st.sampled_from(MENTOR_REFS)),
        st.tuples(st.just("wait"), st.sampled_from(WAITS)),
        st.tuples(st.just("replace"), rel, st.sampled_from(MENTOR_REFS)),
        st.tuples(st.just("retract"), rel, st.integers(0, 3)),
        st.tuples(st.just("open"), rel),
        st.tuples(st.just("status"), st.sampled_from(PEOPLE), st.sampled_from(["leave", "left", "active"])),
    )
    return st.lists(step, min_size=10, max_size=40)


class _Program:
    """One example's program: a fresh store with three mentors and two open relationships."""

    def __init__(self, store: Engine, policy: Policy) -> None:
        self.store, self.policy = store, policy
        self.lifecycle = Lifecycle(policy)
        self.clock = SimulatedClock(START)
        people = [*MENTORS, *MENTEES]
        summary = import_participants(store, policy, self.clock, people, actor="hr")
        self.rels = summary.relationships_opened  # each mentee's latest relationship
        self.every = list(self.rels)  # and every relationship opened, old ones too

    def run(self, step: tuple[Any, ...]) -> None:
        """Apply one step; a refusal or an unknown name is an expected outcome, anything else is not."""
        kind, *args = step
        with suppress(InputError):
            getattr(self, f"_{kind}")(*args)

    def _fire(self, rel: int, trigger: str, mentor: str | None, reason: str | None) -> None:
        request = services.AdvanceRequest(self.rels[rel], trigger, "op", reason=reason, mentor=mentor)
        entry = services.advance(self.store, self.lifecycle, self.clock, request)
        assert entry.trigger == trigger and entry.at == self.clock.now()

    def _onward(self, rel: int, choice: int, mentor: str, reason: str | None, helpful: bool) -> None:
        """Fire a trigger leading out of the current phase; a helpful operator first meets its requires."""
        with UnitOfWork(self.store, write=False) as uow:
            current = repo.relationship(uow.conn, self.rels[rel])
        assert current is not None
        triggers = self.lifecycle.triggers_from(current.phase)
        if not triggers:
            return
        trigger = triggers[choice % len(triggers)]
        if helpful:
            edge = next(e for e in self.policy.edges if e.source == current.phase and e.trigger == trigger)
            reason = self._help(rel, current.mentor_id, edge) or reason
        self._fire(rel, trigger, mentor if current.mentor_id is None else None, reason)

    def _help(self, rel: int, mentor_id: int | None, edge: Edge) -> str | None:
        """Record what ``edge`` requires (training, meetings, surveys, time); a reason if it needs one."""
        names = {call.name for call in edge.requires}
        if "mentor_trained" in names and mentor_id is not None:
            self._training(str(mentor_id))
        if "kickoff_held" in names:
            self._meeting(rel, "kickoff")
        if "meetings_held" in names:
            for _ in range(6):
                self._meeting(rel, "check-in")
        if "survey_complete" in names:
            self._survey(rel, "mentor")
            self._survey(rel, "mentee")
        if edge.after is not None:
            self.clock.set(edge.after.after(self.clock.now()))
        return "the operator's reason" if "reason" in names else None

    def _batch(self, rels: list[int], trigger: str, reason: str | None) -> None:
        ids = [self.rels[r] for r in rels]
        result = services.advance_many(
            self.store, self.lifecycle, self.clock, ids, trigger, actor="tick", reason=reason
        )
        assert set(result.moved) | set(result.refused) == set(ids)
        assert not set(result.moved) & set(result.refused)

    def _meeting(self, rel: int, kind: str) -> None:
        recording.record_meeting(self.store, self.policy, self.clock, self.rels[rel], kind, None, actor="op")

    def _survey(self, rel: int, respondent: str) -> None:
        """Answer the survey the current phase sent (refused, and nothing written, if it sent none)."""
        with UnitOfWork(self.store, write=False) as uow:
            current = repo.relationship(uow.conn, self.rels[rel])
        assert current is not None
        plans = self.policy.survey_plans.get(current.phase, ())
        survey = plans[0].survey if plans else "final"
        questions = self.policy.survey_definitions[survey].questions
        answers = {q.id: _ANSWERS[q.type] for q in questions}
        recording.record_survey(
            self.store, self.policy, self.clock, self.rels[rel], survey, respondent, answers, actor="op"
        )

    def _training(self, mentor: str) -> None:
        recording.record_training(self.store, self.clock, mentor)

    def _wait(self, by: timedelta) -> None:
        self.clock.advance(by)

    def _replace(self, rel: int, mentor: str) -> None:
        request = ReplaceRequest(self.rels[rel], mentor, "a better fit", "op")
        entry = replace_mentor(self.store, self.policy, self.clock, request)
        assert entry.trigger == "replace_mentor" and entry.from_phase == entry.to_phase

    def _retract(self, rel: int, pick: int) -> None:
        """Retract one of the pair's recorded meetings or answers (recording a check-in first if none)."""
        _, entries = queries.history(self.store, self.rels[rel])
        recorded = [e.seq for e in entries if e.trigger in ("record_meeting", "record_survey")]
        if not recorded and pick:
            self._meeting(rel, "check-in")
            _, entries = queries.history(self.store, self.rels[rel])
            recorded = [entries[-1].seq]
        seq = recorded[pick % len(recorded)] if recorded else entries[-1].seq
        retract(
            self.store, self.policy, self.clock, self.rels[rel], seq, reason="recorded in error", actor="op"
        )

    def _open(self, rel: int) -> None:
        opened = open_again(self.store, self.policy, self.clock, MENTEES[rel].external_id or "", actor="op")
        self.rels[rel] = opened.relationship_id
        self.every.append(opened.relationship_id)
        event("a mentee was given a new relationship")

    def _status(self, person: str, status: str) -> None:
        change_status(self.store, self.policy, self.clock, person, status, reason="on leave", actor="hr")
        event(f"a participant's status became {status}")


@contextmanager
def _fresh_store(template: Path) -> Iterator[Engine]:
    """A copy of the template store; its engine shares compiled SQL with the other examples' engines."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "mentorflow.db"
        shutil.copyfile(template, path)
        store = open_engine(f"sqlite:///{path}")
        try:
            yield store.execution_options(compiled_cache=_COMPILED)
        finally:
            store.dispose()


def _check_invariants(store: Engine, policy: Policy, rel_ids: list[int]) -> None:
    edges = {(e.trigger, e.source, e.dest) for e in policy.edges}
    assert queries.verify(store).problems == []
    for rel_id in rel_ids:
        rel, entries = queries.history(store, rel_id)
        assert rel.phase in policy.phases
        assert [e.seq for e in entries] == list(range(1, rel.audit_seq + 1))
        first, *later = entries
        assert (first.trigger, first.from_phase, first.to_phase) == ("create", None, policy.initial_phase)
        phase = first.to_phase
        for entry in later:
            assert entry.from_phase == phase
            if (
                entry.trigger in RECORD_TRIGGERS
            ):  # a fact recorded (or retracted, or a mentor replaced) in place
                assert entry.to_phase == phase and set(entry.data) & {
                    "meeting",
                    "survey",
                    "retracted",
                    "old_mentor_id",
                    "redacted",  # an erasure
                    "from_version",  # a new version of the policy applied
                }
                event(f"a {entry.trigger} entry in {phase}")
                continue
            if entry.trigger == POLICY_MAPPED:  # a new version applied, the pair's removed phase mapped
                assert entry.to_phase in policy.phases and entry.data["to_version"] == entry.policy_version
            else:
                assert (entry.trigger, entry.from_phase, entry.to_phase) in edges
            phase = entry.to_phase
        assert phase == rel.phase
        assert (rel.due_at is None) == policy.phases[rel.phase].terminal
        for visited in {e.to_phase for e in entries}:
            event(f"a pair was in {visited}")
    _check_capacity(store, policy)


def _check_capacity(store: Engine, policy: Policy) -> None:
    terminal = [name for name, phase in policy.phases.items() if phase.terminal]
    with store.connect() as conn:
        capacity = dict(conn.execute(select(participants.c.id, participants.c.capacity)).all())
        open_pairs = Counter(
            conn.execute(
                select(relationships.c.mentor_id).where(
                    relationships.c.mentor_id.is_not(None), relationships.c.phase.not_in(terminal)
                )
            ).scalars()
        )
    assert all(count <= capacity[mentor] for mentor, count in open_pairs.items()), open_pairs


@pytest.mark.parametrize("name", POLICIES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_sequence_of_operations_keeps_the_history_true(
    sqlite_template: Path, name: str, data: st.DataObject
) -> None:
    policy = _policy(name)
    steps = data.draw(_steps(name), label="steps")

    with _fresh_store(sqlite_template) as store:
        program = _Program(store, policy)
        for step in steps:
            program.run(step)
        _check_invariants(store, policy, program.every)


@pytest.mark.parametrize("name", POLICIES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_erasing_anyone_after_any_sequence_keeps_every_chain_and_phase(
    sqlite_template: Path, name: str, data: st.DataObject
) -> None:
    policy = _policy(name)
    steps = data.draw(_steps(name), label="steps")
    person = data.draw(st.sampled_from(PEOPLE), label="erased")

    with _fresh_store(sqlite_template) as store:
        program = _Program(store, policy)
        for step in steps:
            program.run(step)
        request = ErasureRequest(person, "request 17", "dpo", close=True)
        try:
            done = erase_participant(store, program.lifecycle, program.clock, request)
        except RefusedError as refused:  # a pair the policy will not close from where it stands
            event("an erasure was refused")
            assert "could not be closed" in str(refused) or "open relationship" in str(refused)
        else:
            event(f"an erasure recorded in {min(done.relationships, 2)}+ relationship(s)")
            assert done.relationships == len(_pairs_of(store, person))
        _check_invariants(store, policy, program.every)


def _pairs_of(store: Engine, person: str) -> list[int]:
    with store.connect() as conn:
        pid = conn.execute(
            select(participants.c.id).where(participants.c.erased_at.is_not(None))
        ).scalar_one()
        query = select(relationships.c.id).where(
            (relationships.c.mentee_id == pid) | (relationships.c.mentor_id == pid)
        )
        return list(conn.execute(query).scalars())


def _facts() -> st.SearchStrategy[Facts]:
    return st.builds(
        Facts,
        now=st.integers(0, 400 * 24).map(lambda hours: START + timedelta(hours=hours)),
        phase_entered_at=st.just(START),
        mentor_id=st.none() | st.integers(1, 3),
        mentor_trained=st.booleans(),
        kickoff_held=st.booleans(),
        meetings_held=st.integers(0, 8),
        goals_set=st.integers(0, 3),
        surveys_answered=st.frozensets(st.sampled_from(["mentor", "mentee"])),
        reason=st.sampled_from(REASONS),
    )


@pytest.mark.parametrize("name", POLICIES)
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_fire_takes_the_first_edge_allowed_or_refuses(name: str, data: st.DataObject) -> None:
    policy = _policy(name)
    lifecycle = _lifecycle(name)
    phase = data.draw(st.sampled_from([*policy.phases, "nowhere"]), label="phase")
    trigger = data.draw(st.sampled_from([*_triggers(name), "fly"]), label="trigger")
    facts = data.draw(_facts(), label="facts")
    allowed = [e for e in policy.edges if e.source == phase and e.trigger == trigger and not unmet(e, facts)]

    try:
        move = lifecycle.fire(phase, trigger, facts)
    except RefusedError as exc:
        assert allowed == [], exc.message
        assert exc.message
    else:
        assert move.edge == allowed[0]
        assert (move.source, move.trigger) == (phase, trigger)
        assert move.dest in policy.phases


@cache
def _lifecycle(name: str) -> Lifecycle:
    return Lifecycle(_policy(name))
