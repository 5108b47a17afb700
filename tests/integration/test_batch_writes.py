"""The batch write path stores exactly what a Core insert of the same rows stores, on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, String, cast, select

from engine.clock import SimulatedClock
from engine.domain.changes import Cause, Mover
from engine.domain.effects import OUTBOX_FIELDS, outbox_row
from engine.policy.model import Policy
from engine.store import relationships as repo
from engine.store.database import UnitOfWork
from engine.store.tables import audit_entries, outbox, relationships

from .support import import_examples

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
PARAMS = {"phase": "matched", "recipient": "mentee", "note": "Zoë"}


def _entry(rel_id: int, seq: int, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {
        "relationship_id": rel_id, "seq": seq, "at": at, "actor": "bench", "trigger": "t",
        "from_phase": None, "to_phase": "intake", "reason": None, "policy_name": "p",
        "policy_version": "v", "data": data, "prev_hash": "0" * 64, "hash": f"{seq:064d}",
        "reason_seal": None, "reason_salt": None,
    }  # fmt: skip


def _stored(store: Engine, table: Any, columns: list[str], where: Any) -> list[tuple[Any, ...]]:
    with store.connect() as conn:
        query = select(*(cast(table.c[name], String) for name in columns)).where(where)
        return [tuple(row) for row in conn.execute(query.order_by(table.c.id))]


def test_entries_and_outbox_rows_are_stored_as_core_stores_them(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    data = {"requires": ["reason"], "mentor": "Zoë Çelik", "n": 1.5}
    # a shared data object, another equal one, and a time in another zone: each rendered alike
    amsterdam = NOW.astimezone(ZoneInfo("Europe/Amsterdam"))
    whole = NOW.replace(microsecond=0)  # a time on the second is still written with its microseconds
    by_core = [_entry(rel, 100 + i, dict(data), at) for i, at in enumerate((NOW, NOW, whole))]
    by_driver = [
        _entry(rel, 200, data, NOW),
        _entry(rel, 201, data, amsterdam),
        _entry(rel, 202, {**data}, whole),
    ]
    later = NOW + timedelta(days=1)
    core_rows = [outbox_row(rel, f"core:{i}", "remind", dict(PARAMS), later) for i in range(2)]
    driver_rows = [outbox_row(rel, f"driver:{i}", "remind", PARAMS, later) for i in range(2)]
    with UnitOfWork(store) as uow:
        uow.conn.execute(audit_entries.insert(), by_core)
        uow.conn.execute(outbox.insert(), core_rows)
        repo.append(uow.conn, by_driver, driver_rows)
        uow.commit()
    columns = ["at", "actor", "from_phase", "reason", "data", "prev_hash"]
    core = _stored(store, audit_entries, columns, audit_entries.c.seq.between(100, 102))
    driver = _stored(store, audit_entries, columns, audit_entries.c.seq.between(200, 202))
    assert driver == core and len(core) == 3
    fields = [name for name in OUTBOX_FIELDS if name != "idempotency_key"]
    core = _stored(store, outbox, fields, outbox.c.idempotency_key.like("core:%"))
    driver = _stored(store, outbox, fields, outbox.c.idempotency_key.like("driver:%"))
    assert driver == core and len(core) == 2
    assert None in core[0]  # delivered_at and last_error stay NULL


def test_an_outbox_row_with_a_known_key_is_skipped(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    with UnitOfWork(store) as uow:
        repo.append(uow.conn, [], [outbox_row(rel, "once", "remind", PARAMS, NOW)])
        repo.append(uow.conn, [], [outbox_row(rel, "once", "escalate", PARAMS, NOW)])
        uow.commit()
    with store.connect() as conn:
        rows = conn.execute(select(outbox.c.action).where(outbox.c.idempotency_key == "once")).all()
    assert [tuple(r) for r in rows] == [("remind",)]


def test_a_batch_of_moves_is_stored_as_the_same_moves_one_by_one(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    """Rows a batch renders once per shape (the moment, the data, the params, a phase clock) are stored
    as the single-change path stores them, which renders each row's values as Core does."""
    rels = import_examples(store, policy, clock)[:4]
    clock_before = {"matched": [60, "2026-01-05T09:00:00.000000Z"]}
    with UnitOfWork(store) as uow:  # two pairs carry an earlier stay, one of each group
        uow.conn.execute(
            relationships.update().where(relationships.c.id.in_(rels[1::2])).values(phase_clock=clock_before)
        )
        uow.commit()
    cause = Cause("ops", "close", "left the company", {"requires": ["reason"], "note": "Zoë"})
    later = clock.now() + timedelta(days=3, microseconds=17)
    with UnitOfWork(store) as uow:
        found = repo.relationship_rows(uow.conn, rels)
        mover = Mover(policy, later)
        batch = [(found[i], "closed", cause, None) for i in rels[:2]]
        repo.write_moves(uow.conn, mover.rows(batch, repo.rendering(uow.conn)))
        alone = [mover.change(found[i], "closed", cause) for i in rels[2:]]
        repo.apply_moves(
            uow.conn,
            [c.update for c in alone],
            [c.entry for c in alone],
            [e for c in alone for e in c.effects],
        )
        uow.commit()
    row_columns = ["phase", "phase_entered_at", "due_at", "phase_clock", "version", "audit_seq", "mentor_id"]
    moved = _stored(store, relationships, row_columns, relationships.c.id.in_(rels))
    assert moved[:2] == moved[2:] and moved[0] != moved[1]  # each pair of a group as its twin in the other
    entry_columns = ["at", "actor", "trigger", "from_phase", "to_phase", "reason", "policy_version", "data"]
    entries = _stored(store, audit_entries, entry_columns, audit_entries.c.trigger == "close")
    assert len(entries) == 4 and len(set(entries)) == 1
    fields = ["action", "params", "created_at", "status", "attempts", "next_attempt_at", "delivered_at"]
    sent = _stored(store, outbox, fields, outbox.c.idempotency_key.like("%:entry:%:send_survey%"))
    assert len(sent) == 8 and len(set(sent)) == 2  # the closing survey, to mentee and mentor, four times
