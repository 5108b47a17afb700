"""Recording deliveries and settling rows go straight to the driver: the rows stored are the ones Core's
own statements store, value for value as the database holds them, and a delivery already recorded stands."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, update

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.store import outbox
from engine.store.outbox import DELIVERED, FAILED, PENDING, SENDING
from engine.store.tables import outbox as outbox_table
from engine.store.tables import outbox_deliveries

from .delivery_support import matched_pairs


def _writes(conn: Connection, now: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Deliveries and settlements of the rows claimed at ``now``: every kind of value they hold (an
    address or none, a note or none, a retry time or none), with microseconds."""
    rows = outbox.claim_due(conn, now, 10, timedelta(minutes=10), None)
    assert len(rows) >= 3
    sent_at = now + timedelta(microseconds=123456)
    records = [
        {"outbox_id": row["id"], "recipient": "mentee", "channel": "log", "address": address,
         "message_id": f"<{row['id']}@mentorflow>", "sent_at": sent_at}
        for row, address in zip(rows, ["zoë@example.com", None, "a@example.com"], strict=False)
    ]  # fmt: skip
    outcomes = [(DELIVERED, None, now), (PENDING, "smtp: 451 try again", None), (FAILED, "ünknown", None)]
    settlements = [
        {"b_id": row["id"], "b_attempts": row["attempts"] + 1, "b_status": status,
         "b_next": sent_at + timedelta(minutes=5) if status == PENDING else None,
         "b_delivered": delivered, "b_note": note}
        for row, (status, note, delivered) in zip(rows, outcomes, strict=False)
    ]  # fmt: skip
    return records, settlements


def _core(conn: Connection, records: list[dict[str, Any]], settlements: list[dict[str, Any]]) -> None:
    """The same writes through Core's executemany, as they were made before (the same settle statement)."""
    conn.execute(insert(outbox_deliveries), records)
    conn.execute(outbox._SETTLE, settlements)


def _stored(conn: Connection) -> tuple[list[Any], list[Any]]:
    """What the database holds, as its driver reads it (no Core conversion), ids of deliveries left out."""
    kept = "outbox_id, recipient, channel, address, message_id, sent_at"
    done = conn.exec_driver_sql(f"SELECT {kept} FROM outbox_deliveries ORDER BY outbox_id, recipient").all()
    rows = conn.exec_driver_sql("SELECT * FROM outbox ORDER BY id").all()
    return [tuple(row) for row in done], [tuple(row) for row in rows]


def test_the_driver_stores_what_core_stores(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    matched_pairs(store, policy, lifecycle, clock)
    now = clock.now()
    with store.connect() as conn, conn.begin():
        records, settlements = _writes(conn, now)
        with conn.begin_nested() as driver:
            outbox.record_deliveries(conn, records)
            outbox.settle(conn, settlements)
            by_driver = _stored(conn)
            driver.rollback()
        with conn.begin_nested() as core:
            _core(conn, records, settlements)
            by_core = _stored(conn)
            core.rollback()
    assert by_driver == by_core
    assert len(by_driver[0]) == len(records)


def test_a_claim_stores_what_core_stores(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    matched_pairs(store, policy, lifecycle, clock)
    now, lease = clock.now() + timedelta(microseconds=654321), timedelta(minutes=10)
    with store.connect() as conn, conn.begin():
        with conn.begin_nested() as claimed:
            rows = outbox.claim_due(conn, now, 10, lease, policy.policy)
            by_claim = _stored(conn)
            claimed.rollback()
        with conn.begin_nested() as core:
            conn.execute(
                update(outbox_table)
                .where(outbox_table.c.id.in_([row["id"] for row in rows]))
                .values(status=SENDING, attempts=outbox_table.c.attempts + 1, next_attempt_at=now + lease)
            )
            by_core = _stored(conn)
            core.rollback()
    assert rows and by_claim == by_core


def test_a_delivery_recorded_twice_stands_as_first_recorded(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    matched_pairs(store, policy, lifecycle, clock)
    with store.connect() as conn, conn.begin():
        records, _ = _writes(conn, clock.now())
        outbox.record_deliveries(conn, records)
        outbox.record_deliveries(conn, [{**record, "message_id": "<again@mentorflow>"} for record in records])
        stored, _ = _stored(conn)
    assert {row[0]: row[4] for row in stored} == {r["outbox_id"]: r["message_id"] for r in records}
