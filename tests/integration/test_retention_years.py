"""Two simulated years under a policy with short retention: the purge the cadence runs after each day's
tick leaves nothing expired in a dump of the database, and every chain verifies."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy, load_policy_text, resolve_policy_path
from engine.policy.retention_periods import retention_rules
from engine.services.leave import change_status
from engine.services.matching import propose
from engine.services.participants import import_participants
from engine.services.queries import verify
from engine.services.recording import record_meeting
from engine.services.retention import due_for_purge, purge_expired
from engine.services.tick import run_tick
from engine.simulation import generate_program, simulate_day
from engine.store.tables import audit_entries, meetings, outbox, participants, relationships, survey_responses
from tests.conftest import START

from .test_erasure import dump

KEYS = ("k" * 40,)
DAYS = 730
RETENTION = """
retention:
  survey_text: 30 days
  meeting_notes: 30 days
  message_bodies: 14 days
  closed_relationships: 60 days
"""


def _policy() -> Policy:
    text = Path(resolve_policy_path("default")).read_text(encoding="utf-8").rstrip("\n") + "\n" + RETENTION
    return load_policy_text(text, "short-retention.yaml")


def test_two_years_of_a_program_leave_no_expired_data(store: Engine) -> None:
    policy = _policy()
    lifecycle, clock = Lifecycle(policy), SimulatedClock(START)
    program = generate_program(11, mentees=8, mentors=4, days=DAYS)
    notes: list[tuple[datetime, str]] = []
    leavers: list[str] = []
    for day in range(DAYS + 1):
        now = START + timedelta(days=day)
        clock.set(now)
        if day in program.import_days:
            import_participants(store, policy, clock, program.arriving(day), actor="hr")
        simulate_day(store, lifecycle, 11, now, KEYS)
        if now.weekday() == 0:
            propose(store, lifecycle, clock, actor="matching")
        if day % 9 == 0:
            notes += _noted(store, policy, clock, day)
        if day in (200, 400):
            leavers += _one_leaves(store, policy, clock)
        run_tick(store, lifecycle, now)
        purge_expired(store, policy, now)

    end = clock.now()
    assert not any(due_for_purge(store, retention_rules(policy), end).values())  # type: ignore[arg-type]
    dumped = dump(store)
    expired = [text for at, text in notes if at < end - timedelta(days=30)]
    assert expired and [text for text in expired if text in dumped] == []
    _nothing_older_is_left(store, end)
    with store.connect() as conn:
        erased = conn.execute(select(participants.c.id).where(participants.c.erased_at.is_not(None))).all()
    assert len(erased) == 2 and [said for said in leavers if said in dumped] == []
    assert verify(store).problems == []


def _noted(store: Engine, policy: Policy, clock: SimulatedClock, day: int) -> list[tuple[datetime, str]]:
    """A check-in with a note of its own for each active pair."""
    with store.connect() as conn:
        active = (
            conn.execute(select(relationships.c.id).where(relationships.c.phase == "active")).scalars().all()
        )
    written = []
    for rel in active:
        text = f"private note {day}-{rel}: talked about family"
        record_meeting(store, policy, clock, rel, "check-in", None, actor="coordinator", notes=text)
        written.append((clock.now(), text))
    return written


def _one_leaves(store: Engine, policy: Policy, clock: SimulatedClock) -> list[str]:
    """A mentee with a relationship leaves the organisation (their pair closes, as the policy says); their
    name, address and employee id."""
    with store.connect() as conn:
        mentee = conn.execute(
            select(participants.c.external_id, participants.c.name, participants.c.email)
            .join(relationships, relationships.c.mentee_id == participants.c.id)
            .where(participants.c.status == "active")
            .order_by(participants.c.id)
        ).first()
    assert mentee is not None
    change_status(
        store, policy, clock, mentee.external_id, "left", reason="left the organisation", actor="hr"
    )
    return [mentee.name, mentee.email, f'"{mentee.external_id}"']


def _nothing_older_is_left(store: Engine, end: datetime) -> None:
    with store.connect() as conn:
        notes = conn.execute(
            select(meetings.c.id).where(
                meetings.c.recorded_at < end - timedelta(days=30), meetings.c.notes.is_not(None)
            )
        ).all()
        texts = conn.execute(
            select(survey_responses.c.id).where(
                survey_responses.c.answered_at < end - timedelta(days=30),
                survey_responses.c.free_text.is_not(None),
            )
        ).all()
        errors = conn.execute(
            select(outbox.c.id).where(
                outbox.c.created_at < end - timedelta(days=14), outbox.c.last_error.is_not(None)
            )
        ).all()
        closed = select(relationships.c.id).where(
            relationships.c.phase == "closed", relationships.c.phase_entered_at < end - timedelta(days=60)
        )
        reasons = conn.execute(
            select(audit_entries.c.id).where(
                audit_entries.c.relationship_id.in_(closed), audit_entries.c.reason.is_not(None),
                audit_entries.c.trigger.not_in(("purge", "erase")),  # theirs say why they erased
            )
        ).all()  # fmt: skip
    assert (notes, texts, errors, reasons) == ([], [], [], [])
