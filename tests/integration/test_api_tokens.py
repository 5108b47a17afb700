"""The REST API's tokens: made with a secret shown once and stored as its SHA-256, listed, revoked, and
authenticating requests (their last use written at most once a minute), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import re
from dataclasses import fields
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select

from engine.clock import SimulatedClock
from engine.errors import InputError, NotFoundError, RefusedError
from engine.services.tokens import (
    SCOPE_DESCRIPTIONS,
    SCOPES,
    TokenInfo,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
)
from engine.store.api_tables import api_tokens
from engine.store.database import SCHEMA_REVISION, initialise, migrate, schema_revision
from engine.store.tables import metadata

ADMIN = "cli:admin"


def _dump(store: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the tokens' among them): a refused call must leave them as they were."""
    assert "api_tokens" in metadata.tables
    with store.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in metadata.sorted_tables
        }


def _rows(store: Engine) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(api_tokens).order_by(api_tokens.c.id))]


def test_each_scope_has_a_one_line_description() -> None:
    assert SCOPES == (
        "read", "participants:write", "participants:erase", "records:write", "matching:write", "events:read"
    )  # fmt: skip
    assert tuple(SCOPE_DESCRIPTIONS) == SCOPES
    assert all(text and "\n" not in text for text in SCOPE_DESCRIPTIONS.values())


def test_a_token_is_stored_as_the_digest_of_its_secret(store: Engine, clock: SimulatedClock) -> None:
    now = clock.now()
    token, secret = create_token(store, "ci-bot", ["records:write", "read", "read"], now, actor=ADMIN)
    assert re.fullmatch(r"mf_[A-Za-z0-9_-]{43}", secret)
    assert token == TokenInfo("ci-bot", ("read", "records:write"), 600, now, ADMIN, None, None, None)
    assert token.actor == "api:ci-bot"
    [row] = _rows(store)
    assert row["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["scopes"] == ["read", "records:write"] and row["rate_limit"] == 600
    assert row["created_at"] == now and row["created_by"] == ADMIN
    assert row["last_used_at"] is None and row["revoked_at"] is None and row["revoked_by"] is None
    assert not any(secret in str(value) or secret[3:] in str(value) for value in row.values())
    other, other_secret = create_token(store, "reports", ["read"], now, actor=ADMIN, rate_limit=30)
    assert other_secret != secret and other.rate_limit == 30


def test_tokens_are_listed_by_name_without_secret_or_digest(store: Engine, clock: SimulatedClock) -> None:
    assert list_tokens(store) == []
    create_token(store, "zeta", ["events:read"], clock.now(), actor=ADMIN)
    create_token(store, "alpha", ["matching:write"], clock.now(), actor=ADMIN, rate_limit=1)
    listed = list_tokens(store)
    assert [(t.name, t.scopes, t.rate_limit) for t in listed] == [
        ("alpha", ("matching:write",), 1),
        ("zeta", ("events:read",), 600),
    ]
    names = {f.name for f in fields(TokenInfo)}
    assert not names & {"digest", "secret", "id"}


def test_a_token_authenticates_with_exactly_its_scopes(store: Engine, clock: SimulatedClock) -> None:
    _, secret = create_token(store, "sync", ["participants:write"], clock.now(), actor=ADMIN)
    found = authenticate(store, secret, clock.now())
    assert found is not None and found.name == "sync" and found.actor == "api:sync"
    assert found.allows("participants:write")
    assert not found.allows("read") and not found.allows("records:write") and not found.allows("sync")


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "mf_",
        "mf_" + "a" * 42,
        "mf_" + "a" * 44,
        "mf_" + "a" * 42 + "!",
        "xx_" + "a" * 43,
        "MF_" + "a" * 43,
        "mf_" + "a" * 43 + "\n",
        "mf_" + "a" * 10_000,
    ],
)
def test_a_malformed_secret_authenticates_nobody(store: Engine, clock: SimulatedClock, secret: str) -> None:
    create_token(store, "ci", ["read"], clock.now(), actor=ADMIN)
    before = _dump(store)
    assert authenticate(store, secret, clock.now()) is None
    assert _dump(store) == before


def test_an_unknown_secret_authenticates_nobody(store: Engine, clock: SimulatedClock) -> None:
    _, secret = create_token(store, "ci", ["read"], clock.now(), actor=ADMIN)
    before = _dump(store)
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert authenticate(store, wrong, clock.now()) is None
    assert authenticate(store, "mf_" + "a" * 43, clock.now()) is None
    assert _dump(store) == before


def test_a_revoked_token_authenticates_no_more(store: Engine, clock: SimulatedClock) -> None:
    _, secret = create_token(store, "ci", ["read"], clock.now(), actor=ADMIN)
    _, kept = create_token(store, "kept", ["read"], clock.now(), actor=ADMIN)
    assert authenticate(store, secret, clock.now()) is not None
    clock.advance(timedelta(hours=1))
    revoked = revoke_token(store, "ci", clock.now(), actor="cli:sam")
    assert revoked.revoked_at == clock.now() and revoked.revoked_by == "cli:sam" and revoked.revoked
    clock.advance(timedelta(minutes=5))
    assert authenticate(store, secret, clock.now()) is None
    assert authenticate(store, kept, clock.now()) is not None
    shown = {t.name: (t.revoked_at, t.revoked_by) for t in list_tokens(store)}
    assert shown == {"ci": (revoked.revoked_at, "cli:sam"), "kept": (None, None)}


def test_revoking_twice_or_an_unknown_token_is_refused(store: Engine, clock: SimulatedClock) -> None:
    create_token(store, "ci", ["read"], clock.now(), actor=ADMIN)
    revoke_token(store, "ci", clock.now(), actor="cli:sam")
    before = _dump(store)
    clock.advance(timedelta(days=1))
    with pytest.raises(RefusedError, match=r"'ci' was revoked already, at 2026-01-05 09:00 UTC by cli:sam"):
        revoke_token(store, "ci", clock.now(), actor="cli:vera")
    with pytest.raises(NotFoundError, match="no token 'nope'"):
        revoke_token(store, "nope", clock.now(), actor="cli:vera")
    assert _dump(store) == before


def test_the_last_use_is_written_at_most_once_a_minute(store: Engine, clock: SimulatedClock) -> None:
    _, secret = create_token(store, "ci", ["read"], clock.now(), actor=ADMIN)
    first = clock.now()
    found = authenticate(store, secret, first)
    assert found is not None and found.last_used_at == first
    assert _rows(store)[0]["last_used_at"] == first
    before = _dump(store)
    for seconds in (1, 30, 59):
        again = authenticate(store, secret, first + timedelta(seconds=seconds))
        assert again is not None and again.last_used_at == first
    assert _dump(store) == before  # the requests within the minute only read
    later = first + timedelta(seconds=60)
    assert authenticate(store, secret, later) is not None
    assert _rows(store)[0]["last_used_at"] == later
    assert [t.last_used_at for t in list_tokens(store)] == [later]


@pytest.mark.parametrize(
    ("name", "scopes", "rate_limit", "error", "message"),
    [
        ("ci", ["read"], 600, RefusedError, "there is already a token 'ci'"),
        ("new", ["read", "write"], 600, InputError, "unknown scope 'write'; the scopes are read, "
         "participants:write, participants:erase, records:write, matching:write, events:read"),
        ("new", ["Read"], 600, InputError, "unknown scope 'Read'"),
        ("new", [], 600, InputError, "a token needs at least one scope"),
        ("new", ["read"], 0, InputError, "0 requests a minute? Give a whole number from 1 to 100000"),
        ("new", ["read"], -5, InputError, "from 1 to 100000"),
        ("new", ["read"], 100_001, InputError, "100001 requests a minute?"),
        ("new", ["read"], True, InputError, "requests a minute?"),
        ("", ["read"], 600, InputError, "cannot name a token"),
        ("two words", ["read"], 600, InputError, "cannot name a token"),
        ("x" * 101, ["read"], 600, InputError, "cannot name a token"),
        ("-dash", ["read"], 600, InputError, "cannot name a token"),
    ],
)  # fmt: skip
def test_a_refused_token_writes_nothing(
    store: Engine, clock: SimulatedClock, name: str, scopes: list[str], rate_limit: int,
    error: type[Exception], message: str,
) -> None:  # fmt: skip
    create_token(store, "ci", ["read"], clock.now(), actor=ADMIN)
    before = _dump(store)
    with pytest.raises(error, match=re.escape(message)):
        create_token(store, name, scopes, clock.now(), actor=ADMIN, rate_limit=rate_limit)
    assert _dump(store) == before


def test_the_bounds_of_the_rate_limit_are_accepted(store: Engine, clock: SimulatedClock) -> None:
    create_token(store, "slow", ["read"], clock.now(), actor=ADMIN, rate_limit=1)
    create_token(store, "fast", ["read"], clock.now(), actor=ADMIN, rate_limit=100_000)
    name_100 = "n" * 100
    create_token(store, name_100, ["read"], clock.now(), actor=ADMIN)
    assert {t.name: t.rate_limit for t in list_tokens(store)} == {"fast": 100_000, "slow": 1, name_100: 600}


def test_the_migration_adds_the_tokens_table_and_goes_back(store: Engine, clock: SimulatedClock) -> None:
    assert schema_revision(store) == SCHEMA_REVISION
    inspector = inspect(store)
    assert [c["name"] for c in inspector.get_columns("api_tokens")] == list(api_tokens.c.keys())
    unique = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("api_tokens")}
    assert unique == {("name",), ("digest",)}
    create_token(store, "ci", ["read"], clock.now(), actor=ADMIN)
    migrate(store, "downgrade", "0012")
    assert schema_revision(store) == "0012"
    assert "api_tokens" not in inspect(store).get_table_names()
    assert "account_events" in inspect(store).get_table_names()
    initialise(store)
    assert schema_revision(store) == SCHEMA_REVISION and "api_tokens" in inspect(store).get_table_names()
    assert list_tokens(store) == []
    _, secret = create_token(store, "ci", ["read"], clock.now(), actor=ADMIN)
    assert authenticate(store, secret, clock.now()) is not None
