"""The tables of the REST API (/api/v1): its tokens, its idempotency keys, the event feed's order and the
webhook subscribers' deliveries, on the store's
:data:`~engine.store.schema.metadata` (:mod:`engine.store.tables` imports and names them).
"""

from __future__ import annotations

from sqlalchemy import JSON, CheckConstraint, Column, Integer, String, Table, UniqueConstraint

from engine.store.schema import UTCDateTime, metadata

RATE_LIMIT_DEFAULT = 600
"""Requests a minute a token may make unless it was created with another limit."""
RATE_LIMIT_MAX = 100_000

# The API's tokens (migration 0013): a unique name, the SHA-256 (hex) of the secret (the secret itself is
# stored nowhere), the scopes granted (a JSON list of text), requests a minute, who made it and when, when
# it was last used (written at most once a minute), who revoked it when (then it authenticates no more).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("rate_limit", Integer, nullable=False, server_default=str(RATE_LIMIT_DEFAULT)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("revoked_by", String(200)),
    CheckConstraint(f"rate_limit BETWEEN 1 AND {RATE_LIMIT_MAX}", name="ck_api_tokens_rate_limit"),
    CheckConstraint("(revoked_at IS NULL) = (revoked_by IS NULL)", name="ck_api_tokens_revoked"),
)

# The API's idempotency keys (migration 0014): who sent a key (the token's name), the key, a SHA-256 of the
# method, path and body it came with, when; then the status and JSON body of the answer, for a repeat.
api_requests = Table(
    "api_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token", String(100), nullable=False),
    Column("key", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
    Column("status", Integer),
    Column("body", JSON),
    UniqueConstraint("token", "key"),
)

# The event feed's order (migration 0015): a position for each committed audit entry ("audit") and
# participant entry ("participant"), given by engine.store.events.publish in the order they became
# visible; the entries are the events, this only numbers them.
events = Table(
    "events",
    metadata,
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("source", String(12), nullable=False),
    Column("entry_id", Integer, nullable=False),
    UniqueConstraint("source", "entry_id"),
)

# Each webhook subscriber's delivery (migration 0015): the position delivered up to, the failed attempts
# at the next event, when to try again, the last error, and when it was parked (given up on, until retried).
subscriptions = Table(
    "event_subscriptions",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("last_error", String(500)),
    Column("parked_at", UTCDateTime),
)
