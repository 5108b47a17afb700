"""The coordinator pages' accounts, sessions and failed sign-ins in the store.

Every function takes the Connection of the caller's unit of work and never commits: the service that
calls it (:mod:`engine.services.users`) decides what one transaction is.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, delete, insert, or_, select, update

from engine.store.tables import login_failures, users, web_sessions


class UserRow(NamedTuple):
    """An account as stored."""

    id: int
    name: str
    role: str
    password_hash: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None


class SessionRow(NamedTuple):
    """A session with its account."""

    id: str
    csrf_token: str
    expires_at: datetime
    user: UserRow


_USER = (
    users.c.id, users.c.name, users.c.role, users.c.password_hash, users.c.disabled,
    users.c.created_at, users.c.last_login_at,
)  # fmt: skip


def user_by_name(conn: Connection, name: str) -> UserRow | None:
    """The account named ``name`` (exactly), or ``None``."""
    row = conn.execute(select(*_USER).where(users.c.name == name)).first()
    return None if row is None else UserRow(*row)


def all_users(conn: Connection) -> list[UserRow]:
    """Every account, by name."""
    return [UserRow(*row) for row in conn.execute(select(*_USER).order_by(users.c.name))]


def insert_user(conn: Connection, name: str, role: str, password_hash: str, now: datetime) -> int:
    """A new enabled account; returns its id (the name's uniqueness is the table's)."""
    values = {
        "name": name,
        "role": role,
        "password_hash": password_hash,
        "disabled": False,
        "created_at": now,
    }
    return int(conn.execute(insert(users).values(values).returning(users.c.id)).scalar_one())


def set_disabled(conn: Connection, user_id: int) -> int:
    """Disable an account and end every session of it; returns how many sessions ended."""
    conn.execute(update(users).where(users.c.id == user_id).values(disabled=True))
    return int(conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id)).rowcount)


def signed_in(conn: Connection, user_id: int, now: datetime, password_hash: str | None) -> None:
    """Record a sign-in at ``now`` (and a rehashed password, if the hash's parameters changed)."""
    values: dict[str, object] = {"last_login_at": now}
    if password_hash is not None:
        values["password_hash"] = password_hash
    conn.execute(update(users).where(users.c.id == user_id).values(values))


def claim_sign_in(conn: Connection, user_id: int, now: datetime, before: datetime) -> bool:
    """Record a sign-in at ``now`` unless the account signed in after ``before``; whether it did (of two
    workers seeing the same request at once, only one claims it)."""
    since = or_(users.c.last_login_at.is_(None), users.c.last_login_at <= before)
    done = conn.execute(update(users).where(users.c.id == user_id, since).values(last_login_at=now))
    return bool(done.rowcount)


def insert_session(
    conn: Connection, digest: str, user_id: int, csrf_token: str, now: datetime, expires_at: datetime
) -> None:
    """A new session, stored by the digest of its cookie's id."""
    values = {
        "id": digest, "user_id": user_id, "csrf_token": csrf_token,
        "created_at": now, "seen_at": now, "expires_at": expires_at,
    }  # fmt: skip
    conn.execute(insert(web_sessions).values(values))


def session_of(conn: Connection, digest: str) -> SessionRow | None:
    """The session stored under ``digest``, with its account; ``None`` if there is none."""
    columns = (web_sessions.c.id, web_sessions.c.csrf_token, web_sessions.c.expires_at, *_USER)
    query = (
        select(*columns).join(users, users.c.id == web_sessions.c.user_id).where(web_sessions.c.id == digest)
    )
    row = conn.execute(query).first()
    return None if row is None else SessionRow(row[0], row[1], row[2], UserRow._make(row[3:]))


def delete_session(conn: Connection, digest: str) -> bool:
    """End the session stored under ``digest``; whether there was one (another worker may have ended it)."""
    return bool(conn.execute(delete(web_sessions).where(web_sessions.c.id == digest)).rowcount)


def delete_expired_sessions(conn: Connection, now: datetime) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))


def insert_failure(conn: Connection, account: str, address: str, now: datetime) -> None:
    conn.execute(insert(login_failures).values(account=account, address=address, at=now))


def failures_since(
    conn: Connection, account: str, address: str, since: datetime
) -> list[tuple[str, str, datetime]]:
    """The failed sign-ins after ``since`` of ``account`` or from ``address``: (account, address, at)."""
    which = or_(login_failures.c.account == account, login_failures.c.address == address)
    query = select(login_failures.c.account, login_failures.c.address, login_failures.c.at).where(
        which, login_failures.c.at > since
    )
    return [(str(a), str(b), at) for a, b, at in conn.execute(query.order_by(login_failures.c.at))]


def forget_failures(conn: Connection, account: str, before: datetime) -> None:
    """Drop the failures of ``account`` (after a sign-in), and everyone's older than ``before``."""
    conn.execute(
        delete(login_failures).where(or_(login_failures.c.account == account, login_failures.c.at < before))
    )
