"""The REST API's tokens in the store: by name, by the digest of their secret; revoked; marked used.

Every function takes the Connection of the caller's unit of work and never commits: the service that calls
it (:mod:`engine.services.tokens`) decides what one transaction is. No function reads or writes a secret:
the store knows a token by the SHA-256 of it only.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, insert, or_, select, update

from engine.store.api_tables import api_tokens


class TokenRow(NamedTuple):
    """A token as stored (its digest included: only the service sees it, never a command)."""

    id: int
    name: str
    digest: str
    scopes: list[str]
    rate_limit: int
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None


_TOKEN = tuple(api_tokens.c[name] for name in TokenRow._fields)


def token_by_name(conn: Connection, name: str) -> TokenRow | None:
    """The token named ``name`` (exactly), or ``None``."""
    row = conn.execute(select(*_TOKEN).where(api_tokens.c.name == name)).first()
    return None if row is None else TokenRow(*row)


def token_by_digest(conn: Connection, digest: str) -> TokenRow | None:
    """The token whose secret has the SHA-256 ``digest``, or ``None``."""
    row = conn.execute(select(*_TOKEN).where(api_tokens.c.digest == digest)).first()
    return None if row is None else TokenRow(*row)


def all_tokens(conn: Connection) -> list[TokenRow]:
    """Every token, revoked ones too, by name."""
    return [TokenRow(*row) for row in conn.execute(select(*_TOKEN).order_by(api_tokens.c.name))]


def insert_token(
    conn: Connection,
    name: str,
    digest: str,
    scopes: list[str],
    rate_limit: int,
    now: datetime,
    created_by: str,
) -> int:
    """A new token; returns its id (the uniqueness of name and digest is the table's)."""
    values = {
        "name": name, "digest": digest, "scopes": scopes, "rate_limit": rate_limit,
        "created_at": now, "created_by": created_by,
    }  # fmt: skip
    return int(conn.execute(insert(api_tokens).values(values).returning(api_tokens.c.id)).scalar_one())


def set_revoked(conn: Connection, token_id: int, now: datetime, actor: str) -> bool:
    """Revoke a token unless it is revoked already; whether this did (another writer may have first)."""
    live = (api_tokens.c.id == token_id) & api_tokens.c.revoked_at.is_(None)
    done = conn.execute(update(api_tokens).where(live).values(revoked_at=now, revoked_by=actor))
    return bool(done.rowcount)


def mark_used(conn: Connection, token: int | str, now: datetime, before: datetime) -> bool:
    """Record a use of ``token`` (its id or its name) at ``now`` unless it was last used after ``before``,
    or is revoked; whether it did (of two requests at once, only one writes it)."""
    stale = or_(api_tokens.c.last_used_at.is_(None), api_tokens.c.last_used_at <= before)
    named = api_tokens.c.id == token if isinstance(token, int) else api_tokens.c.name == token
    which = named & api_tokens.c.revoked_at.is_(None) & stale
    return bool(conn.execute(update(api_tokens).where(which).values(last_used_at=now)).rowcount)
