"""Requeueing parked outbox rows (``mentorflow outbox retry``), once a person fixed what made them fail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from engine.domain.audit import iso
from engine.errors import InputError, NotFoundError
from engine.errors import field as field_name
from engine.store import outbox
from engine.store.database import UnitOfWork
from engine.store.outbox import FAILED

if TYPE_CHECKING:
    from sqlalchemy import Engine

_NOTE_LENGTH = 2000


def retry(
    store: Engine, now: datetime, *, ids: Sequence[int] = (), all_failed: bool = False, actor: str
) -> list[int]:
    """Requeue parked rows (all of ``ids``, or every parked row): due at ``now``, attempts from zero.

    The row keeps its history: the note says who requeued it, when, after how many
    attempts, and the error it had. Only parked rows can be requeued; if any of
    ``ids`` is not one, nothing is requeued and the error lists them.
    """
    if not ids and not all_failed:
        raise InputError(f"name the outbox rows to retry, or give {field_name('all_failed')}")
    with UnitOfWork(store) as uow:
        rows = outbox.retry_candidates(uow.conn, ids, all_failed=all_failed)
        _refuse_unparked(ids if not all_failed else (), rows)
        if rows:
            notes = [
                {
                    "b_id": row.id,
                    "b_note": f"requeued by {actor} at {iso(now)} after {row.attempts} attempt(s); "
                    f"last error: {row.last_error}"[:_NOTE_LENGTH],
                }
                for row in rows
            ]
            outbox.requeue(uow.conn, now, notes)
        uow.commit()
    return [row.id for row in rows]


def _refuse_unparked(ids: Sequence[int], rows: Sequence[outbox.ParkedRow]) -> None:
    found = {row.id: row.status for row in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFoundError(f"no outbox row {', '.join(map(str, missing))} (see `mentorflow outbox list`)")
    unparked = [f"outbox row {i} is {found[i]}" for i in ids if found[i] != FAILED]
    if unparked:
        raise InputError("only parked (failed) rows can be retried; nothing was requeued", unparked)
