"""The API's idempotency keys in the store: a POST's key claimed, then its response kept for repeats.

A row per (token, key): the fingerprint of the request it was first sent with, and once that request
is answered, its status and body (``NULL`` while it runs). Every function takes the Connection of the
caller's unit of work and never commits (:mod:`engine.services.idempotency` decides).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from engine.errors import ConflictError
from engine.store.api_tables import api_requests


class RequestRow(NamedTuple):
    fingerprint: str
    created_at: datetime
    status: int | None
    body: Any


def claim(conn: Connection, token: str, key: str, fingerprint: str, now: datetime) -> None:
    """Claim ``key`` of ``token`` for a request (not claimed yet: see :func:`claimed`); ConflictError if
    another request claimed it meanwhile (the transaction is then spoilt: roll it back)."""
    values = {"token": token, "key": key, "fingerprint": fingerprint, "created_at": now}
    try:
        conn.execute(api_requests.insert().values(values))
    except IntegrityError:
        raise ConflictError(
            f"Idempotency-Key {key!r}: another request with it is being carried out"
        ) from None


def claimed(conn: Connection, token: str, key: str) -> RequestRow | None:
    c = api_requests.c
    row = conn.execute(
        select(c.fingerprint, c.created_at, c.status, c.body).where(c.token == token, c.key == key)
    ).first()
    return None if row is None else RequestRow(*row)


def answer(conn: Connection, token: str, key: str, status: int, body: Any) -> None:
    """Keep the answer of the request that claimed ``key``."""
    c = api_requests.c
    conn.execute(update(api_requests).where(c.token == token, c.key == key).values(status=status, body=body))


def release(conn: Connection, token: str, key: str) -> None:
    """Let ``key`` go unanswered (its request failed on the server): a repeat runs anew."""
    c = api_requests.c
    conn.execute(delete(api_requests).where(c.token == token, c.key == key, c.status.is_(None)))


def forget_before(conn: Connection, moment: datetime) -> int:
    """Drop the keys claimed before ``moment``; how many."""
    return int(conn.execute(delete(api_requests).where(api_requests.c.created_at < moment)).rowcount)
