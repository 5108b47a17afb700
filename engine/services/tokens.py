"""The REST API's tokens (/api/v1): creating, listing and revoking them; authenticating a request by one.

A token is a secret, ``mf_`` and 43 URL-safe characters (32 random bytes), shown once when it is made and
stored as its SHA-256 only, so a copy of the table authenticates nobody. It has a unique name (the rule of
the accounts' names), the scopes it is granted (:data:`SCOPES`, exact: a write scope implies no read), a
rate limit in requests a minute, who made it and when; a revoked token authenticates no more. What a
request does with a token is recorded as done by :attr:`TokenInfo.actor`, ``api:<name>``.

:func:`authenticate` reads the token by the digest of the secret, and records when it was last used at most
once a minute (:data:`USE_RECORDED_EVERY`), so that most requests only read.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from engine.clock import shown
from engine.errors import InputError, NotFoundError, RefusedError, field
from engine.store import api_tokens as token_store
from engine.store.api_tables import RATE_LIMIT_DEFAULT, RATE_LIMIT_MAX
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import Engine

SCOPES = (
    "read",
    "participants:write",
    "participants:erase",
    "records:write",
    "matching:write",
    "events:read",
)
SCOPE_DESCRIPTIONS = {
    "read": "Read participants, relationships, their history, records, match proposals and reports.",
    "participants:write": "Import and change participants: details, training, leave, return, leaving.",
    "participants:erase": "Erase a participant (right to erasure): their record and free text, for good.",
    "records:write": "Record what happened: meetings, trainings, survey answers, goals.",
    "matching:write": "Propose matches, and approve or reject proposals.",
    "events:read": "Follow the stream of what changes: phase changes, records, messages sent.",
}
"""What each of :data:`SCOPES` allows, in one line."""

PREFIX = "mf_"
USE_RECORDED_EVERY = timedelta(minutes=1)
ACTOR_LENGTH = 200  # the created_by and revoked_by columns
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")  # engine.services.users' rule for accounts
_SECRET = re.compile(r"mf_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class TokenInfo:
    """A token as the commands and the API see it: never its secret, nor the digest of it."""

    name: str
    scopes: tuple[str, ...]
    rate_limit: int
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def actor(self) -> str:
        """Who the audit history names for what a request with this token does."""
        return f"api:{self.name}"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def allows(self, scope: str) -> bool:
        """Whether the token was granted ``scope``, exactly (a write scope implies no other)."""
        return scope in self.scopes


def digest(secret: str) -> str:
    """What the store keeps of a token's secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    """``name`` if it can name a token: letters, digits and ``. _ @ -``, up to 100 characters."""
    if not _NAME.fullmatch(name):
        raise InputError(
            f"{field('name')}: {name!r} cannot name a token (letters, digits and . _ @ -, up to 100, "
            "starting with a letter or digit)"
        )
    return name


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """``scopes`` without repeats, in the order of :data:`SCOPES`; refused if empty or one is unknown."""
    given = list(scopes)
    for scope in given:
        if scope not in SCOPES:
            raise InputError(f"{field('scope')}: unknown scope {scope!r}; the scopes are {', '.join(SCOPES)}")
    if not given:
        raise InputError(f"{field('scope')}: a token needs at least one scope, of {', '.join(SCOPES)}")
    return tuple(scope for scope in SCOPES if scope in given)


def check_rate_limit(rate_limit: int) -> int:
    if (
        isinstance(rate_limit, bool)
        or not isinstance(rate_limit, int)
        or not 1 <= rate_limit <= RATE_LIMIT_MAX
    ):
        raise InputError(
            f"{field('rate_limit')}: {rate_limit!r} requests a minute? Give a whole number from 1 to "
            f"{RATE_LIMIT_MAX}"
        )
    return rate_limit


def _check_actor(actor: str) -> str:
    if not actor or len(actor) > ACTOR_LENGTH:
        raise InputError(f"{field('actor')}: {len(actor)} characters (1 to {ACTOR_LENGTH} are recorded)")
    return actor


def _info(row: token_store.TokenRow) -> TokenInfo:
    return TokenInfo(
        row.name, tuple(row.scopes), row.rate_limit, row.created_at, row.created_by,
        row.last_used_at, row.revoked_at, row.revoked_by,
    )  # fmt: skip


def create_token(
    store: Engine,
    name: str,
    scopes: Iterable[str],
    now: datetime,
    *,
    actor: str,
    rate_limit: int = RATE_LIMIT_DEFAULT,
) -> tuple[TokenInfo, str]:
    """A new token made by ``actor``, and its secret (the one time it is known); refused for a name already
    taken, an unknown scope or none, a rate limit outside 1 to :data:`RATE_LIMIT_MAX` a minute."""
    check_name(name)
    granted = check_scopes(scopes)
    check_rate_limit(rate_limit)
    _check_actor(actor)
    secret = PREFIX + secrets.token_urlsafe(32)
    with UnitOfWork(store) as uow:
        if token_store.token_by_name(uow.conn, name) is not None:
            raise RefusedError(f"there is already a token {name!r} (see `mentorflow tokens list`)")
        token_store.insert_token(uow.conn, name, digest(secret), list(granted), rate_limit, now, actor)
        uow.commit()
    return TokenInfo(name, granted, rate_limit, now, actor, None, None, None), secret


def list_tokens(store: Engine) -> list[TokenInfo]:
    """Every token, revoked ones too, by name."""
    with UnitOfWork(store, write=False) as uow:
        return [_info(row) for row in token_store.all_tokens(uow.conn)]


def revoke_token(store: Engine, name: str, now: datetime, *, actor: str) -> TokenInfo:
    """Revoke the token ``name`` (by ``actor``, at ``now``): from now on it authenticates no request."""
    _check_actor(actor)
    with UnitOfWork(store) as uow:
        row = token_store.token_by_name(uow.conn, name)
        if row is None:
            raise NotFoundError(f"no token {name!r} (see `mentorflow tokens list`)")
        if row.revoked_at is not None or not token_store.set_revoked(uow.conn, row.id, now, actor):
            raise RefusedError(_revoked_already(row, uow))
        uow.commit()
    return _info(row._replace(revoked_at=now, revoked_by=actor))


def _revoked_already(row: token_store.TokenRow, uow: UnitOfWork) -> str:
    """Why a token cannot be revoked: it was, when and by whom (read again if another writer just did)."""
    found = row if row.revoked_at is not None else token_store.token_by_name(uow.conn, row.name)
    if found is None or found.revoked_at is None:
        return f"token {row.name!r} is being revoked by someone else"
    return f"token {row.name!r} was revoked already, at {shown(found.revoked_at, UTC)} by {found.revoked_by}"


def authenticate(
    store: Engine, secret: str | None, now: datetime, *, record_use: bool = True
) -> TokenInfo | None:
    """The live token whose secret is ``secret``, or ``None`` (no such token, not a token's form, revoked).

    Its use is recorded at ``now`` if the last one recorded is :data:`USE_RECORDED_EVERY` old or more
    (unless ``record_use`` is false: the API records it with :func:`record_use` once the request passed
    its scope and rate, so a refused request writes nothing).
    """
    if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
        return None
    with UnitOfWork(store, write=False) as uow:
        row = token_store.token_by_digest(uow.conn, digest(secret))
    if row is None or row.revoked_at is not None:
        return None
    if not record_use or (row.last_used_at is not None and row.last_used_at > now - USE_RECORDED_EVERY):
        return _info(row)
    with UnitOfWork(store) as uow:
        if not token_store.mark_used(uow.conn, row.id, now, now - USE_RECORDED_EVERY):
            again = token_store.token_by_digest(uow.conn, row.digest)  # revoked, or used, meanwhile
            return None if again is None or again.revoked_at is not None else _info(again)
        uow.commit()
    return _info(row._replace(last_used_at=now))


def record_use(store: Engine, token: TokenInfo, now: datetime) -> None:
    """Record that ``token`` was used at ``now``, if its last recorded use is :data:`USE_RECORDED_EVERY`
    old or more (nothing is written otherwise, so most requests only read)."""
    if token.last_used_at is not None and token.last_used_at > now - USE_RECORDED_EVERY:
        return
    with UnitOfWork(store) as uow:
        if token_store.mark_used(uow.conn, token.name, now, now - USE_RECORDED_EVERY):
            uow.commit()
