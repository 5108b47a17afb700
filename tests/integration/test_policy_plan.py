"""Planning a change of the program's policy (SQLite and PostgreSQL): what the plan says, checked against
the tick it foresees, and a store left as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.errors import RefusedError
from engine.policy.durations import Duration
from engine.policy.model import Policy, load_policy, load_policy_text, shipped_policies
from engine.services import recording, tick
from engine.services.plan import plan_change
from engine.store.tables import audit_entries, metadata
from tests.integration.support import TRAINED_MENTOR, fire, import_examples, without_paused_text

START = datetime(2027, 1, 5, 9, tzinfo=UTC)


def _dump(store: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table."""
    with store.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in metadata.sorted_tables
        }


def _shortened(policy_name: str = "default") -> Policy:
    text = Path(shipped_policies()[policy_name]).read_text(encoding="utf-8")
    return load_policy_text(text.replace("duration: 6 months", "duration: 4 months"), "new.yaml")


def _active_pairs(store: Engine, policy: Policy, clock: SimulatedClock, count: int) -> list[int]:
    """``count`` pairs started one after another, a month apart, with the trained mentor."""
    lifecycle, rels = Lifecycle(policy), []
    for rel in import_examples(store, policy, clock):
        if len(rels) == count:
            break
        try:
            fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
        except RefusedError:  # a hard constraint of matching: the mentor's own report
            continue
        rels.append(rel)
        fire(store, lifecycle, clock, rel, "schedule_kickoff")
        recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
        fire(store, lifecycle, clock, rel, "start")
        clock.advance(timedelta(days=31))
    return rels


def test_an_unchanged_policy_changes_nothing(store: Engine) -> None:
    policy = load_policy(shipped_policies()["default"])
    clock = SimulatedClock(START)
    _active_pairs(store, policy, clock, 2)
    before = _dump(store)
    plan = plan_change(
        store, policy, load_policy(shipped_policies()["default"]), clock.now() + timedelta(days=30)
    )
    assert plan.changes == [] and plan.stranded == [] and plan.extra_messages == []
    assert plan.under_new == plan.under_current
    assert plan.concerns == []
    assert _dump(store) == before


def test_a_shorter_program_lists_the_pairs_the_next_tick_sends_to_review(store: Engine) -> None:
    policy, new = load_policy(shipped_policies()["default"]), _shortened()
    clock = SimulatedClock(START)
    rels = _active_pairs(store, policy, clock, 3)  # active since START, START + 31 and + 62 days
    moment = Duration(months=4).after(START) + timedelta(days=45)  # past 4 months for the first two only
    before = _dump(store)

    plan = plan_change(store, policy, new, moment)

    assert [d.line for d in plan.changes] == ["program.duration: 6 months → 4 months"]
    assert plan.under_new.moves.get("review") == rels[:2]
    assert "review" not in plan.under_current.moves
    surveyed = {m.relationship for m in plan.extra_messages if m.action == "send_survey"}
    assert surveyed == set(rels[:2])  # the final survey goes out on entering review
    assert _dump(store) == before  # the plan wrote nothing

    last = max(row[0] for row in before["audit_entries"])
    tick.run_tick(store, Lifecycle(new), moment)
    with store.connect() as conn:
        reviewed = conn.execute(
            select(audit_entries.c.relationship_id)
            .where(audit_entries.c.id > last, audit_entries.c.trigger == "review")
            .order_by(audit_entries.c.id)
        ).scalars()
        assert list(reviewed) == plan.under_new.moves["review"]


def test_removing_a_phase_with_pairs_in_it_strands_them(store: Engine) -> None:
    policy = load_policy(shipped_policies()["with-pause"])
    new = load_policy_text(without_paused_text(), "new.yaml")
    clock = SimulatedClock(START)
    rels = _active_pairs(store, policy, clock, 2)
    fire(store, Lifecycle(policy), clock, rels[1], "pause", reason="parental leave")
    before = _dump(store)

    plan = plan_change(store, policy, new, clock.now() + timedelta(days=1))

    assert [(s.relationship, s.phase) for s in plan.stranded] == [(rels[1], "paused")]
    assert "phase paused removed" in [d.line for d in plan.changes]
    assert plan.concerns and "stranded" in plan.concerns[0]
    assert _dump(store) == before


def test_a_message_limit_makes_a_plan_unsafe(store: Engine) -> None:
    policy = load_policy(shipped_policies()["default"])
    clock = SimulatedClock(START)
    _active_pairs(store, policy, clock, 2)
    plan = plan_change(store, policy, policy, clock.now() + timedelta(days=60), max_messages=0)
    assert plan.under_new.messages  # check-in reminders are due
    assert plan.concerns == [
        f"the next tick would write {len(plan.under_new.messages)} messages, more than the 0 allowed at once"
    ]
