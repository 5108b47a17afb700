"""The "since" of reminders and escalations is true, and a deadline reminder skips who answered the survey.

A check-in notice's ``since`` is the start of the silence (the last meeting, or the entry into the phase),
a deadline notice's the entry into the phase; the texts say "no meeting recorded since" and "in phase X
since" that day. Their idempotency keys do not change (``quiet:`` the silence, ``entry:`` the stay).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.delivery.channels import ProgramInfo
from engine.delivery.messages import Contact, OutboxRow, Pair, compose
from engine.domain.audit import iso
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import recording, tick
from engine.store.tables import outbox

from .support import TRAINED_MENTOR, answer_final, fire, import_examples, to_review

DAY = timedelta(days=1)
PAIR = Pair(Contact("Zoë Çelik", "zoe@example.com"), Contact("Marieke de Vries", "m@example.com"), "x")


def _rows(store: Engine, rel: int, action: str) -> list[OutboxRow]:
    query = select(outbox).where(outbox.c.relationship_id == rel, outbox.c.action == action)
    with store.connect() as conn:
        found = conn.execute(query.order_by(outbox.c.id)).all()
    return [
        OutboxRow(r.id, r.relationship_id, r.idempotency_key, r.action, r.params, r.created_at) for r in found
    ]


def _day(policy: Policy, moment: datetime) -> str:
    day = moment.astimezone(ZoneInfo(policy.program.timezone))
    return f"{day:%A} {day.day} {day:%B %Y}"


def _body(policy: Policy, row: OutboxRow) -> str:
    (message,) = compose(row, PAIR, ProgramInfo(timezone=policy.program.timezone))
    return message.body


def _to_active(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, rel: int) -> None:
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
    fire(store, lifecycle, clock, rel, "start")


def test_a_check_in_reminder_and_escalation_say_since_the_last_meeting_not_since_they_fell_due(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    _to_active(store, policy, lifecycle, clock, rel)
    clock.advance(5 * DAY)
    met = clock.now()
    recording.record_meeting(store, policy, clock, rel, "check-in", None, actor="pair")
    clock.set(met + timedelta(weeks=6))  # remind_after 3 weeks, escalate_after 6 weeks
    tick.run_tick(store, lifecycle, clock.now())

    reminders, escalations = _rows(store, rel, "remind"), _rows(store, rel, "escalate")
    assert [r.key for r in reminders] == [
        f"rel:{rel}:quiet:{iso(met)}:remind:{w}" for w in ("mentee", "mentor")
    ]
    assert [r.key for r in escalations] == [f"rel:{rel}:quiet:{iso(met)}:escalate:coordinator"]
    assert {r.params["since"] for r in reminders + escalations} == {iso(met)}
    assert f"since {_day(policy, met)}" in _body(policy, reminders[0])
    assert f"no meeting recorded since {_day(policy, met)}" in _body(policy, escalations[0])


def test_a_check_in_reminder_without_any_meeting_in_the_phase_says_since_the_entry(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    _to_active(store, policy, lifecycle, clock, rel)
    entered = clock.now()
    clock.advance(timedelta(weeks=3, days=2))  # the tick ran late: the text still names the entry
    tick.run_tick(store, lifecycle, clock.now())
    reminders = _rows(store, rel, "remind")
    assert [r.params["since"] for r in reminders] == [iso(entered)] * 2
    assert f"We have not seen a meeting recorded since {_day(policy, entered)}" in _body(policy, reminders[0])


def test_a_deadline_escalation_says_since_the_entry_into_the_phase(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    clock.advance(DAY)
    fire(store, lifecycle, clock, rel, "match", mentor="E1003")  # untrained: waits in matched
    entered = clock.now()
    clock.advance(15 * DAY)  # the matched deadline: 14 days, escalate
    tick.run_tick(store, lifecycle, clock.now())
    (row,) = _rows(store, rel, "escalate")
    assert row.key == f"rel:{rel}:entry:2:deadline:escalate:coordinator"
    assert row.params["since"] == iso(entered)
    assert f'has been in phase "matched" since {_day(policy, entered)}, past the deadline' in _body(
        policy, row
    )


def test_the_review_deadline_reminder_goes_only_to_who_has_not_answered_the_survey(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    to_review(store, policy, lifecycle, clock, rel)
    entered = clock.now()
    clock.advance(3 * DAY)
    answer_final(store, policy, clock, rel, "mentee")
    for _ in range(20):  # past the review deadline (14 days, remind)
        clock.advance(DAY)
        tick.run_tick(store, lifecycle, clock.now())

    reminders = _rows(store, rel, "remind")
    assert [(r.params["recipient"], r.params["since"]) for r in reminders] == [("mentor", iso(entered))]
    assert reminders[0].key.endswith(":deadline:remind:mentor")
    survey = [r.params["recipient"] for r in _rows(store, rel, "survey_reminder")]
    assert survey == ["mentor", "mentor"]  # the survey's own reminders: also only the mentor


def test_the_review_deadline_reminder_goes_to_both_when_neither_answered(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    to_review(store, policy, lifecycle, clock, rel)
    clock.advance(15 * DAY)
    tick.run_tick(store, lifecycle, clock.now())
    assert sorted(r.params["recipient"] for r in _rows(store, rel, "remind")) == ["mentee", "mentor"]
