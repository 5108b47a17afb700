"""Idempotency keys of the API's writes: the same POST sent twice with one key is carried out once.

The first request with a key claims it, with a fingerprint of what it asked (method, path, body); once
answered, its status and body are kept for :data:`KEPT` (a day). A repeat with the same fingerprint gets
that answer again and writes nothing; with another fingerprint it is refused (the key names another
request); while the first still runs it is refused as in progress. A request that failed on the server
lets its key go, so a repeat runs anew. Keys are per token: two clients cannot collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.errors import ConflictError, InputError, field
from engine.store import api_requests as request_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

KEPT = timedelta(days=1)
"""How long an answer is kept for a repeat of its key."""
ABANDONED = timedelta(minutes=15)
"""A claim unanswered for this long belongs to a request that died: a repeat may run anew."""
MAX_KEY = 200


@dataclass(frozen=True)
class Answer:
    """The answer kept for a key: its HTTP status and JSON body."""

    status: int
    body: Any


def check_key(key: str) -> str:
    """A key is 1 to 200 printable ASCII characters (a UUID, say)."""
    if not 1 <= len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        raise InputError(f"{field('Idempotency-Key')}: expected 1 to {MAX_KEY} printable ASCII characters")
    return key


def begin(store: Engine, token: str, key: str, fingerprint: str, now: datetime) -> Answer | None:
    """Claim ``key`` for a request; ``None`` when it is this request's to carry out, the kept
    :class:`Answer` for a repeat; refused (nothing done) for another request's key or one in progress."""
    check_key(key)
    with UnitOfWork(store) as uow:
        request_store.forget_before(uow.conn, now - KEPT)
        found = request_store.claimed(uow.conn, token, key)
        if found is None:
            request_store.claim(uow.conn, token, key, fingerprint, now)
            uow.commit()
            return None
        if found.fingerprint != fingerprint:
            raise InputError(
                f"{field('Idempotency-Key')}: {key!r} was sent with another request (another path or body); "
                "use a new key for a new request"
            )
        if found.status is not None:
            return Answer(found.status, found.body)
        if found.created_at > now - ABANDONED:
            raise ConflictError(
                f"{field('Idempotency-Key')}: the request of {key!r} is still being carried out"
            )
        request_store.release(uow.conn, token, key)
        request_store.claim(uow.conn, token, key, fingerprint, now)
        uow.commit()
    return None


def finish(store: Engine, token: str, key: str, answer: Answer) -> None:
    """Keep ``answer`` for the repeats of ``key``."""
    with UnitOfWork(store) as uow:
        request_store.answer(uow.conn, token, key, answer.status, answer.body)
        uow.commit()


def abandon(store: Engine, token: str, key: str) -> None:
    """The request of ``key`` failed on the server: a repeat runs anew."""
    with UnitOfWork(store) as uow:
        request_store.release(uow.conn, token, key)
        uow.commit()
