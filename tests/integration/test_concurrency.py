"""Two writers of one relationship: the version check lets exactly one of them win."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.changes import Cause, phase_change
from engine.domain.lifecycle import Lifecycle
from engine.domain.relationships import AuditEntry
from engine.errors import ConflictError, RefusedError
from engine.policy.model import Policy
from engine.services import advance as services
from engine.services import queries
from engine.store import relationships as repo
from engine.store.database import UnitOfWork

from .support import SINGLE_MENTOR, TRAINED_MENTOR, fire, footprint, import_examples


def test_a_change_built_from_a_stale_row_is_refused_and_writes_nothing(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel_id = import_examples(store, policy, clock)[0]
    with UnitOfWork(store, write=False) as uow:
        stale = repo.relationship(uow.conn, rel_id)
    assert stale is not None
    fire(store, lifecycle, clock, rel_id, "match", mentor=TRAINED_MENTOR)  # the other writer wins
    before = footprint(store)
    clock.advance(timedelta(minutes=1))
    cause = Cause("second-writer", "close", "stale decision", {"requires": ["reason"]})
    change = phase_change(stale, "closed", cause, policy, clock.now())

    with UnitOfWork(store) as uow, pytest.raises(ConflictError, match="changed by another writer"):
        repo.apply_moves(uow.conn, [change.update], [change.entry], change.effects)

    assert footprint(store) == before
    current, entries = queries.history(store, rel_id)
    assert current.phase == "matched" and len(entries) == 2
    assert queries.verify(store).problems == []


def _race(calls: list[Callable[[], AuditEntry]]) -> tuple[list[AuditEntry], list[Exception]]:
    """Run ``calls`` in threads started together; returns what succeeded and what was raised."""
    barrier = threading.Barrier(len(calls))
    won: list[AuditEntry] = []
    lost: list[Exception] = []
    lock = threading.Lock()

    def run(call: Callable[[], AuditEntry]) -> None:
        barrier.wait()
        try:
            entry = call()
        except Exception as exc:
            with lock:
                lost.append(exc)
        else:
            with lock:
                won.append(entry)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return won, lost


@pytest.mark.postgres
@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_two_threads_firing_one_trigger_at_once_move_the_pair_once(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)

    for rel_id in rels[:6]:
        calls = [
            lambda rel_id=rel_id, n=n: fire(  # one Lifecycle per thread: it is not thread-safe
                store, Lifecycle(policy), clock, rel_id, "close", reason=f"writer {n}", actor=f"worker-{n}"
            )
            for n in range(2)
        ]
        won, lost = _race(calls)

        assert len(won) == 1, lost
        assert len(lost) == 1 and isinstance(lost[0], ConflictError | RefusedError), lost
        current, entries = queries.history(store, rel_id)
        assert current.phase == "closed" and current.version == 2
        assert [e.trigger for e in entries] == ["create", "close"]
        assert entries[-1].actor == won[0].actor
    assert queries.verify(store).problems == []


@pytest.mark.postgres
@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_two_pairs_racing_for_a_mentors_last_place_do_not_overbook_them(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    first, second = import_examples(store, policy, clock)[1:3]  # Anouk manages Zoë, the first
    calls = [
        lambda rel_id=rel_id: fire(store, Lifecycle(policy), clock, rel_id, "match", mentor=SINGLE_MENTOR)
        for rel_id in (first, second)
    ]

    won, lost = _race(calls)

    assert len(won) == 1, lost
    assert len(lost) == 1 and isinstance(lost[0], RefusedError), lost
    assert "no places left" in str(lost[0])
    assert queries.verify(store).problems == []


@pytest.mark.postgres
@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_batch_racing_a_single_advance_never_moves_a_pair_twice(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    target = rels[3]

    def batch() -> AuditEntry:
        result = services.advance_many(
            store, Lifecycle(policy), clock, rels, "close", actor="batch", reason="program ends"
        )
        assert result.moved == rels or result.refused
        return AuditEntry.model_construct(actor="batch")

    def single() -> AuditEntry:
        return fire(store, Lifecycle(policy), clock, target, "close", reason="left", actor="single")

    won, lost = _race([batch, single])

    assert all(isinstance(exc, ConflictError | RefusedError) for exc in lost), lost
    _, entries = queries.history(store, target)
    closings = [e for e in entries if e.trigger == "close"]
    assert len(closings) == 1 and closings[0].actor in {w.actor for w in won}
    assert queries.verify(store).problems == []
