"""The accounts of the coordinator pages: adding, listing and disabling them; signing in and out.

An account has a name, a role (``coordinator`` acts, ``viewer`` only reads: auditors, HR business
partners) and an Argon2 hash of its password (``argon2-cffi``; a hash made with older parameters is
rehashed at the next sign-in). A session is a random id in an HttpOnly cookie, stored as its SHA-256
only, with a form token of its own; signing out or disabling the account deletes it, so either takes
effect at the next request. Failed sign-ins are recorded by account name and client address, in the
store so that every worker agrees: :data:`MAX_FAILURES` within :data:`LOCK_WINDOW` lock that account,
or that address, for :data:`LOCK_WINDOW` after the last of them, and a locked attempt checks no password.

For auditors, each sign-in (by password, or by a trusted proxy's header), failed sign-in, sign-out,
session found expired, account added or disabled is an account event (:data:`EVENT_KINDS`), written in
the transaction of what it records, in a table the database keeps append-only; never a password or a
token. A locked attempt writes nothing (it checks nothing either), so a flood of them fills no table.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.errors import InputError, NotFoundError, RefusedError, field
from engine.store import account_events as event_store
from engine.store import users as user_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

ROLES = ("coordinator", "viewer")
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_FAILURES = 5
LOCK_WINDOW = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")

SIGNED_IN = "signed_in"
SIGN_IN_FAILED = "sign_in_failed"
SIGNED_OUT = "signed_out"
SESSION_EXPIRED = "session_expired"
ACCOUNT_ADDED = "account_added"
ACCOUNT_DISABLED = "account_disabled"
EVENT_KINDS = (SIGNED_IN, SIGN_IN_FAILED, SIGNED_OUT, SESSION_EXPIRED, ACCOUNT_ADDED, ACCOUNT_DISABLED)
ANONYMOUS = "anonymous"
"""The actor of a failed sign-in: whoever typed the name is not known to be its account."""


@dataclass(frozen=True)
class Account:
    """An account as the pages and ``users list`` show it (never its hash)."""

    name: str
    role: str
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def actor(self) -> str:
        """Who the audit history names for what this account does."""
        return f"coordinator:{self.name}"

    @property
    def may_act(self) -> bool:
        return self.role == "coordinator" and not self.disabled


@dataclass(frozen=True)
class AccountEvent:
    """Something that happened to an account: when, which, what (:data:`EVENT_KINDS`), who did it, from
    which client address (for what came through the pages) and a short detail."""

    at: datetime
    account: str
    kind: str
    actor: str
    address: str | None
    detail: str | None


@dataclass(frozen=True)
class Session:
    """A signed-in session: the cookie's id (only the browser has it), its form token, its account."""

    cookie: str
    csrf_token: str
    expires_at: datetime
    account: Account


@dataclass(frozen=True)
class Locked:
    """A sign-in refused unchecked: too many failures of the account or from the address, until when."""

    until: datetime


@dataclass(frozen=True)
class WrongCredentials:
    """A sign-in refused: no such enabled account, or the wrong password (the page says no more)."""

    locked_until: datetime | None = None


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when there is no such account, so that the answer takes as long."""
    return _hasher().hash(secrets.token_urlsafe(16))


def check_name(name: str) -> str:
    """``name`` if it can name an account: letters, digits and ``. _ @ -``, up to 100 characters."""
    if not _NAME.fullmatch(name):
        raise InputError(
            f"{field('name')}: {name!r} cannot name an account (letters, digits and . _ @ -, up to 100, "
            "starting with a letter or digit)"
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"{field('password')}: at least {MIN_PASSWORD} characters, please")
    if len(password) > MAX_PASSWORD or "\x00" in password:
        raise InputError(f"{field('password')}: at most {MAX_PASSWORD} characters, and no NUL")
    return password


def _account(row: user_store.UserRow) -> Account:
    return Account(row.name, row.role, bool(row.disabled), row.created_at, row.last_login_at)


def add_user(
    store: Engine, name: str, role: str, password: str, now: datetime, *, actor: str = "mentorflow"
) -> Account:
    """A new enabled account, and its event by ``actor``; refused for a name already taken, an unknown
    role, a short password."""
    check_name(name)
    if role not in ROLES:
        raise InputError(f"{field('role')}: {role!r} is not one of {', '.join(ROLES)}")
    hashed = _hasher().hash(check_password(password))
    with UnitOfWork(store) as uow:
        if user_store.user_by_name(uow.conn, name) is not None:
            raise RefusedError(f"there is already an account {name!r} (see `mentorflow users list`)")
        user_store.insert_user(uow.conn, name, role, hashed, now)
        event_store.insert_event(uow.conn, now, name, ACCOUNT_ADDED, actor, detail=f"role {role}")
        uow.commit()
    return Account(name, role, False, now, None)


def list_users(store: Engine) -> list[Account]:
    with UnitOfWork(store, write=False) as uow:
        return [_account(row) for row in user_store.all_users(uow.conn)]


def disable_user(
    store: Engine, name: str, now: datetime | None = None, *, actor: str = "mentorflow"
) -> Account:
    """Disable the account ``name`` (its event by ``actor``, at ``now`` or the present moment): it signs
    in no more, and its sessions end now."""
    from engine.clock import SystemClock

    at = now if now is not None else SystemClock().now()
    with UnitOfWork(store) as uow:
        row = user_store.user_by_name(uow.conn, name)
        if row is None:
            raise NotFoundError(f"no account {name!r} (see `mentorflow users list`)")
        ended = user_store.set_disabled(uow.conn, row.id)
        detail = f"{ended} session(s) ended" + ("; it was disabled already" if row.disabled else "")
        event_store.insert_event(uow.conn, at, name, ACCOUNT_DISABLED, actor, detail=detail)
        uow.commit()
    return _account(row._replace(disabled=True))


def enabled_account(store: Engine, name: str) -> Account | None:
    """The enabled account ``name`` (for a trusted proxy's sign-on header), or ``None``."""
    with UnitOfWork(store, write=False) as uow:
        row = user_store.user_by_name(uow.conn, name)
    return None if row is None or row.disabled else _account(row)


def header_sign_in(store: Engine, name: str, header: str, address: str, now: datetime) -> Account | None:
    """The enabled account ``name`` that a trusted proxy's ``header`` names, or ``None``.

    The proxy names it on every request, and there is no session: a request counts as a sign-in (its
    event written, ``last_login_at`` set) when the account has not signed in within
    :data:`SESSION_LIFETIME`, so an auditor sees one sign-in per working day, not one per page.
    """
    account = enabled_account(store, name)
    if account is None or (account.last_login_at and account.last_login_at > now - SESSION_LIFETIME):
        return account
    with UnitOfWork(store) as uow:
        row = user_store.user_by_name(uow.conn, name)
        if row is None or row.disabled:
            return None
        if user_store.claim_sign_in(uow.conn, row.id, now, now - SESSION_LIFETIME):
            detail = f"trusted header {header}"[:200]
            event_store.insert_event(uow.conn, now, name, SIGNED_IN, account.actor, address[:64], detail)
            uow.commit()
    return _account(row._replace(last_login_at=now))


def digest(cookie: str) -> str:
    """What the store keeps of a session's cookie: its SHA-256, so a copy of the table signs nobody in."""
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


def sign_in(
    store: Engine, name: str, password: str, address: str, now: datetime
) -> Session | Locked | WrongCredentials:
    """A new session for ``name`` with ``password`` from ``address``, or why not (a failure is recorded).

    A NUL typed into the name (which PostgreSQL cannot store, and no account's name holds) is recorded
    as U+FFFD, so that the attempt fails as a wrong name, not as an error."""
    name, address = name.strip().replace("\x00", "\ufffd")[:100], address[:64]
    with UnitOfWork(store) as uow:
        locked = _locked_until(uow, name, address, now)
        if locked is not None:
            return Locked(locked)
        row = user_store.user_by_name(uow.conn, name)
        rehashed = _verified(row, password)
        if row is None or row.disabled or rehashed is False:
            user_store.insert_failure(uow.conn, name, address, now)
            why = "no such account" if row is None else "disabled" if row.disabled else "wrong password"
            event_store.insert_event(uow.conn, now, name, SIGN_IN_FAILED, ANONYMOUS, address, why)
            uow.commit()
            return WrongCredentials(_locked_until(uow, name, address, now))
        user_store.signed_in(uow.conn, row.id, now, rehashed if isinstance(rehashed, str) else None)
        user_store.forget_failures(uow.conn, name, now - LOCK_WINDOW)
        user_store.delete_expired_sessions(uow.conn, now)
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        user_store.insert_session(uow.conn, digest(cookie), row.id, csrf, now, now + SESSION_LIFETIME)
        account = _account(row._replace(last_login_at=now))
        event_store.insert_event(uow.conn, now, name, SIGNED_IN, account.actor, address, "password")
        uow.commit()
    return Session(cookie, csrf, now + SESSION_LIFETIME, account)


def _verified(row: user_store.UserRow | None, password: str) -> bool | str:
    """False for a wrong password (or no account); True, or a fresh hash when the stored one is outdated."""
    hasher = _hasher()
    try:
        hasher.verify(row.password_hash if row is not None else _dummy_hash(), password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False
    if row is None:
        return False
    return hasher.hash(password) if hasher.check_needs_rehash(row.password_hash) else True


def _locked_until(uow: UnitOfWork, name: str, address: str, now: datetime) -> datetime | None:
    """Until when sign-ins for ``name`` or from ``address`` are locked, or ``None``."""
    recent = user_store.failures_since(uow.conn, name, address, now - 2 * LOCK_WINDOW)
    untils = [
        _lock_end([at for account, where, at in recent if (account, where)[column] == value], now)
        for column, value in ((0, name), (1, address))
    ]
    found = [until for until in untils if until is not None]
    return max(found) if found else None


def _lock_end(times: list[datetime], now: datetime) -> datetime | None:
    """When a lock by the failures at ``times`` (oldest first) ends, if it is on at ``now``."""
    if not times:
        return None
    last = times[-1]
    if sum(1 for at in times if at > last - LOCK_WINDOW) >= MAX_FAILURES and now < last + LOCK_WINDOW:
        return last + LOCK_WINDOW
    return None


def session(store: Engine, cookie: str | None, now: datetime, address: str | None = None) -> Session | None:
    """The live session of ``cookie``: not expired, its account enabled; ``None`` otherwise.

    A session found expired is ended then, with its event (from ``address``), once: of two requests that
    find it at the same moment, the one that deletes it records it.
    """
    if not cookie or len(cookie) > 100:
        return None
    with UnitOfWork(store, write=False) as uow:
        found = user_store.session_of(uow.conn, digest(cookie))
    if found is not None and found.expires_at <= now:
        _expired(store, found, now, address)
        return None
    if found is None or found.user.disabled:
        return None
    return Session(cookie, found.csrf_token, found.expires_at, _account(found.user))


def _expired(store: Engine, found: user_store.SessionRow, now: datetime, address: str | None) -> None:
    with UnitOfWork(store) as uow:
        if user_store.delete_session(uow.conn, found.id):
            actor, when = _account(found.user).actor, f"expired at {found.expires_at:%Y-%m-%d %H:%M} UTC"
            event_store.insert_event(uow.conn, now, found.user.name, SESSION_EXPIRED, actor, address, when)
            uow.commit()


def sign_out(store: Engine, cookie: str | None, now: datetime, address: str | None = None) -> None:
    """End the session of ``cookie``, with its event (nothing if there is no such session)."""
    if not cookie or len(cookie) > 100:
        return
    with UnitOfWork(store) as uow:
        found = user_store.session_of(uow.conn, digest(cookie))
        if found is None or not user_store.delete_session(uow.conn, found.id):
            return
        actor = _account(found.user).actor
        event_store.insert_event(uow.conn, now, found.user.name, SIGNED_OUT, actor, address)
        uow.commit()


def account_events(store: Engine, account: str | None = None, limit: int | None = None) -> list[AccountEvent]:
    """The account events (of ``account`` only, if given), newest first, at most ``limit`` (1 or more)."""
    if limit is not None and limit < 1:
        raise InputError(f"{field('limit')}: {limit} events? Ask for 1 or more")
    with UnitOfWork(store, write=False) as uow:
        rows = event_store.events(uow.conn, account, limit)
    return [AccountEvent(r.at, r.account, r.kind, r.actor, r.address, r.detail) for r in rows]
