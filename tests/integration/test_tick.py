"""The cadence tick on both back ends: due selection, idempotence, crash safety, concurrent workers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import queries, tick
from engine.store.tables import audit_entries, outbox, relationships
from tests.integration.support import TRAINED_MENTOR, count, fire, footprint, import_examples

ROOT = Path(__file__).parents[2]

# Trained mentors for the first six example mentees, each outside the mentee's reporting line (Jeroen
# is above Zoë, Marieke manages Sanne), Marieke and Jeroen at their capacity of three.
TRAINED_MENTORS = ("E1004", "E1001", "E1001", "E1001", "E1004", "E1004")


def _rows(store: Engine) -> dict[int, tuple[str, int]]:
    with store.connect() as conn:
        return {r.id: (r.phase, r.version) for r in conn.execute(select(relationships))}


def test_tick_fires_auto_transitions_and_deadlines(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    fire(store, lifecycle, clock, rels[0], "match", mentor=TRAINED_MENTOR)
    summary = tick.run_tick(store, lifecycle, clock.now())
    assert summary.advanced == {"schedule_kickoff": 1}
    assert _rows(store)[rels[0]][0] == "kickoff"
    # the pair in kickoff was due again at once; the tick's second pass set its next moment
    assert tick.run_tick(store, lifecycle, clock.now()).examined == 0

    clock.advance(timedelta(days=21))
    summary = tick.run_tick(store, lifecycle, clock.now())
    # 13 pairs still in intake pass their 21-day deadline: the coordinator hears of each, once
    assert summary.escalations == 13
    assert summary.reminders == 2  # the kickoff deadline (10 days): mentee and mentor
    assert tick.run_tick(store, lifecycle, clock.now()).examined == 0


def test_a_batch_decides_a_pair_it_moved_again_at_once_in_its_own_transaction(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    fire(store, lifecycle, clock, rels[0], "match", mentor=TRAINED_MENTOR)
    now = clock.now()
    due = tick.due_ids(store, now, policy_name=policy.policy)
    assert due == [rels[0]]
    summary = tick.tick_batch(store, lifecycle, now, due)
    assert summary.advanced == {"schedule_kickoff": 1}
    assert summary.examined == 2  # matched, then again in kickoff, whose start waits for no time
    assert tick.due_ids(store, now, policy_name=policy.policy) == []  # no second pass needed


def test_tick_twice_at_the_same_moment_changes_nothing(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    for rel, mentor in zip(rels[:3], TRAINED_MENTORS, strict=False):
        fire(store, lifecycle, clock, rel, "match", mentor=mentor)
    clock.advance(timedelta(days=30))
    tick.run_tick(store, lifecycle, clock.now())
    after_first = footprint(store)
    with store.begin() as conn:  # even if every pair were due again, nothing new may be written
        conn.execute(update(relationships).values(due_at=clock.now()))
    again = tick.run_tick(store, lifecycle, clock.now())
    assert again.advanced == {} and again.reminders == 0 and again.escalations == 0
    assert footprint(store) == after_first


def test_a_tick_that_fails_halfway_leaves_each_pair_whole_or_untouched(
    store: Engine,
    policy: Policy,
    lifecycle: Lifecycle,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rels = import_examples(store, policy, clock)
    for rel, mentor in zip(rels[:6], TRAINED_MENTORS, strict=True):
        fire(store, lifecycle, clock, rel, "match", mentor=mentor)
    before = footprint(store)
    decided: set[int] = set()
    real = tick.decide

    def failing(*args: object, **kwargs: object) -> tick.Decision:
        decided.add(args[1].id)  # type: ignore[attr-defined]
        if len(decided) == 4:  # the second batch's first pair (the first batch decides its three twice)
            raise RuntimeError("worker died")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tick, "decide", failing)
    with pytest.raises(RuntimeError):
        tick.run_tick(store, lifecycle, clock.now(), batch_size=3)
    after = footprint(store)
    moved = [rid for rid, version in after.versions.items() if version != before.versions[rid]]
    assert len(moved) == 3  # the first batch committed whole, the second not at all
    assert after.audit == before.audit + 3
    assert queries.verify(store).problems == []
    monkeypatch.setattr(tick, "decide", real)
    tick.run_tick(store, lifecycle, clock.now(), batch_size=3)
    assert all(_rows(store)[rel][0] == "kickoff" for rel in rels[:6])


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_killed_tick_process_leaves_each_pair_whole_or_untouched(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    """A real process, killed with SIGKILL while it writes a batch: what committed is whole."""
    rels = import_examples(store, policy, clock)
    for rel, mentor in zip(rels[:6], TRAINED_MENTORS, strict=True):
        fire(store, lifecycle, clock, rel, "match", mentor=mentor)
    url = store.url.render_as_string(hide_password=False)
    script = textwrap.dedent(
        f"""
        import os, signal
        from datetime import datetime
        from engine.services import tick
        from engine.domain.lifecycle import Lifecycle
        from engine.policy.model import load_policy
        from engine.store.database import open_engine
        store = open_engine({url!r})
        lifecycle = Lifecycle(load_policy({str(ROOT / "policies" / "default.yaml")!r}))
        real, seen = tick.decide, set()
        def dying(*args, **kwargs):
            seen.add(args[1].id)
            if len(seen) == 5:  # the second batch's second pair
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        tick.decide = dying
        tick.run_tick(store, lifecycle, datetime.fromisoformat({clock.now().isoformat()!r}), batch_size=3)
        """
    )
    store.dispose()
    done = subprocess.run(
        [sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60
    )
    assert done.returncode == -9
    phases = [_rows(store)[rel][0] for rel in rels[:6]]
    assert phases.count("kickoff") == 3 and phases.count("matched") == 3
    assert queries.verify(store).problems == []
    assert count(store, audit_entries) == 14 + 6 + 3


@pytest.mark.parametrize("store", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_concurrent_ticks_never_handle_a_pair_twice(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    mentors = [*TRAINED_MENTORS, "E1002", "E1002"]  # all trained, at their capacity
    for rel, mentor in zip(rels, mentors, strict=False):
        fire(store, lifecycle, clock, rel, "match", mentor=mentor)
    clock.advance(timedelta(days=25))
    now, barrier, results = clock.now(), threading.Barrier(3), []

    def worker() -> None:
        barrier.wait()
        results.append(tick.run_tick(store, Lifecycle(policy), now, batch_size=2))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = results[0].merged(results[1]).merged(results[2])
    assert total.advanced == {"schedule_kickoff": 8}
    assert total.escalations == 6  # the six pairs left in intake, each escalated once
    with store.connect() as conn:
        keys = list(conn.execute(select(outbox.c.idempotency_key)).scalars())
    assert len(keys) == len(set(keys))
    assert queries.verify(store).problems == []
    assert _entries(store).count("schedule_kickoff") == 8


def _entries(store: Engine) -> list[str]:
    with store.connect() as conn:
        return list(conn.execute(select(audit_entries.c.trigger)).scalars())
