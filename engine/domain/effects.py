"""The outbox row: one message to send, keyed by its cause. Built here only.

A phase change's ``on_enter`` actions (:class:`engine.domain.changes.Mover`)
and the tick's notices (reminders, escalations, surveys) become rows of the
same shape, so the store and the delivery read one kind of row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

OUTBOX_FIELDS = (
    "relationship_id", "idempotency_key", "action", "params", "created_at", "status", "attempts",
    "next_attempt_at", "delivered_at", "last_error",
)  # fmt: skip
"""The fields of an outbox row, in the order :func:`outbox_row` gives them."""


def outbox_row(
    rel_id: int | None, key: str, action: str, params: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """A pending outbox row for ``action`` with ``params``, written at ``now``, due for delivery at once."""
    return {
        "relationship_id": rel_id,
        "idempotency_key": key,
        "action": action,
        "params": params,
        "created_at": now,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "delivered_at": None,
        "last_error": None,
    }
