"""The check-in rule is written once: change ``remind_after`` and the tick, the texts and insights follow."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.delivery.channels import ProgramInfo
from engine.delivery.messages import Contact, OutboxRow, Pair, compose
from engine.domain.audit import iso
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy, load_policy_text
from engine.reporting.build import program_insights
from engine.services.recording import HeldMeeting, record_meetings
from engine.services.tick import run_tick
from engine.store.tables import outbox, relationships
from tests.conftest import START
from tests.design_policy import DESIGN_BLOCK
from tests.integration.support import TRAINED_MENTOR, fire, import_examples

SHIPPED = "remind_after: 3 weeks"


def _policy(remind_after: str) -> Policy:
    text = DESIGN_BLOCK.replace(SHIPPED, f"remind_after: {remind_after}")
    assert text.count(f"remind_after: {remind_after}") == 1
    return load_policy_text(text, f"remind-after-{remind_after.replace(' ', '-')}.yaml")


def _active_pair(store: Engine, lifecycle: Lifecycle, clock: SimulatedClock) -> int:
    """One pair matched with a trained mentor, kicked off and active; the others stay in intake."""
    rel = import_examples(store, lifecycle.policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    run_tick(store, lifecycle, clock.now())  # trained mentor: on to kickoff
    clock.advance(timedelta(days=2))
    record_meetings(store, lifecycle.policy, clock, [HeldMeeting(rel, "kickoff")], actor="pair")
    run_tick(store, lifecycle, clock.now())  # kickoff held: active, quiet since now
    return rel


def _due_at(store: Engine, rel: int) -> datetime:
    with store.connect() as conn:
        due = conn.execute(select(relationships.c.due_at).where(relationships.c.id == rel)).scalar_one()
    return due if due.tzinfo else due.replace(tzinfo=START.tzinfo)


def _reminders(store: Engine, rel: int) -> list[OutboxRow]:
    query = select(outbox).where(outbox.c.relationship_id == rel, outbox.c.action == "remind")
    with store.connect() as conn:
        rows = conn.execute(query.order_by(outbox.c.id)).all()
    return [
        OutboxRow(r.id, r.relationship_id, r.idempotency_key, r.action, r.params, r.created_at) for r in rows
    ]


@pytest.mark.parametrize(
    ("remind_after", "after"), [("3 weeks", timedelta(weeks=3)), ("10 days", timedelta(days=10))]
)
def test_remind_after_moves_the_tick_the_reminder_text_and_insights_alike(
    store: Engine, remind_after: str, after: timedelta
) -> None:
    policy = _policy(remind_after)
    lifecycle = Lifecycle(policy)
    clock = SimulatedClock(START)
    rel = _active_pair(store, lifecycle, clock)
    quiet = clock.now()
    remind_at = quiet + after

    # the tick: the pair is next looked at when the reminder is due, and reminded then, not before
    assert _due_at(store, rel) == remind_at
    assert run_tick(store, lifecycle, remind_at - timedelta(seconds=1)).reminders == 0
    assert _reminders(store, rel) == []
    summary = run_tick(store, lifecycle, remind_at)
    assert summary.reminders == 2  # mentee and mentor
    rows = _reminders(store, rel)
    assert [row.key for row in rows] == [
        f"rel:{rel}:quiet:{iso(quiet)}:remind:{who}" for who in ("mentee", "mentor")
    ]
    # "since": the start of the silence (the kickoff meeting that began it), not the moment the nudge fell due
    assert {row.params["since"] for row in rows} == {iso(quiet)}

    # the reminder's text: "no meeting recorded since" the start of the silence the same rule gave
    zone = ZoneInfo(policy.program.timezone)
    day = quiet.astimezone(zone)
    pair = Pair(
        Contact("Zoë Çelik", "zoe@example.com"), Contact("Jeroen van den Bergh", "j@example.com"), "active"
    )
    (message,) = compose(rows[0], pair, ProgramInfo(timezone=policy.program.timezone))
    assert f"since {day:%A} {day.day} {day:%B %Y}" in message.body

    # insights, a day later: the silence outlasted remind_after; the pair is quiet since the kickoff meeting,
    # and overdue since the reminder fell due
    found, _ = program_insights(store, policy, remind_at + timedelta(days=1))
    (active,) = [stall for stall in found.stalls if stall.phase == "active"]
    assert active.quiet == remind_after and rel in active.quiet_spells
    (attention,) = [item for item in found.attention if item.relationship_id == rel]
    assert [(o.action, o.since, o.due) for o in attention.overdue] == [("remind", quiet, remind_at)]
