"""Several deliverers at once never send one row twice (PostgreSQL: SKIP LOCKED; SQLite: the write lock)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import Engine, insert

from engine.clock import SimulatedClock
from engine.delivery.channels import Message
from engine.policy.model import Policy
from engine.services import delivery as outbox
from engine.store.tables import outbox as outbox_table

from .delivery_support import FakeChannel, channels_of, statuses
from .support import import_examples

ROWS = 120
WORKERS = 3


def _queue_coordinator_notes(store: Engine, rel_id: int, clock: SimulatedClock) -> None:
    now = clock.now()
    with store.begin() as conn:
        conn.execute(
            insert(outbox_table),
            [
                {"relationship_id": rel_id, "idempotency_key": f"test:{i}:notify_coordinator",
                 "action": "notify_coordinator", "params": {"phase": "intake"}, "created_at": now,
                 "status": "pending", "attempts": 0, "next_attempt_at": now - timedelta(seconds=i)}
                for i in range(ROWS)
            ],
        )  # fmt: skip


def test_concurrent_deliverers_send_every_row_exactly_once(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rel_id = import_examples(store, policy, clock)[0]
    _queue_coordinator_notes(store, rel_id, clock)
    channel = FakeChannel()
    channel.fail = _slowly  # a send takes a moment, so the workers' batches overlap
    channels = channels_of(channel)
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            while outbox.deliver_due(store, channels, clock.now(), limit=7).claimed:
                pass
        except BaseException as exc:  # surfaced below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(channel.sent) == ROWS
    assert set(channel.keys().values()) == {1}
    assert statuses(store) == {"delivered": ROWS}


def _slowly(message: Message) -> None:
    time.sleep(0.002)
