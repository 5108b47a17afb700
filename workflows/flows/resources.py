"""What a task opens from its primitive arguments: the store, the policy, its lifecycle, the moment.

Tasks take a database URL, a policy path and an ISO time, so a worker on
another machine can run them; here they become an Engine (one per URL per
process, with its connection pool), a Policy (loaded once per path), a
Lifecycle (one per policy path, shared by the threads) and an aware datetime.
:func:`iso` and :func:`moment` are the two ends of the convention for time
(see :mod:`workflows.flows`). This module does not import Prefect.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.domain.lifecycle import Lifecycle
    from engine.policy.model import Policy

_lock = threading.Lock()
_stores: dict[str, Engine] = {}
_credentials: dict[str, str] = {}  # a URL without its password -> the URL with it, in this process only


@dataclass(frozen=True)
class Target:
    """What a flow run works on: the store's URL (never with its password), the policy file, the moment
    it runs at, and the settings file its runs read (absolute; ``None``: the one in force)."""

    database: str
    policy: str
    now: str
    settings: str | None = None


def target(database: str, policy: str | Path, now: datetime, settings: str | None = None) -> Target:
    """What a command hands its flows: the store and policy of the settings it resolved, and its moment.

    The store's password stays in this process (:func:`store` finds it); the Target has none.
    """
    return Target(credentials(database, settings), str(Path(policy).resolve()), iso(now), settings)


def resolve(database: str | None, policy: str | None, now: str | None, settings: str | None = None) -> Target:
    """A flow's parameters as a Target: what they leave out comes from the settings (environment,
    ``settings`` or mentorflow.toml), ``now`` from the clock.

    A command passes the store's URL and the policy's absolute path (:func:`target`), so its
    settings are not resolved a second time here.
    """
    from engine.clock import SystemClock
    from engine.policy.model import resolve_policy_path

    if database is None or policy is None or not Path(policy).is_absolute():
        from engine.settings import resolve as resolve_settings

        resolved = resolve_settings(database=database, policy=policy, config=settings)
        database, policy = resolved.database_url, resolved.policy
    path = resolve_policy_path(policy)
    when = iso(moment(now) if now else SystemClock().now())
    found = Target(credentials(database, settings), str(path.resolve()), when, settings)
    in_force(found)
    return found


def in_force(target: Target) -> None:
    """Refuse a flow run whose policy is not the version in force in its store (unless pinned)."""
    from engine.services.policy_apply import check_in_force, pinned

    if not pinned():
        check_in_force(store(target.database), policy(target.policy), source=target.policy)


def credentials(url: str, settings: str | None = None) -> str:
    """``url`` without its password, the password kept in this process for :func:`store`.

    A URL without one gets it, by reference, from ``MENTORFLOW_DATABASE_URL`` or the settings file
    naming the same database, or from the Prefect Secret block ``database.password_secret`` names;
    failing those the driver reads ``PGPASSWORD`` or ``~/.pgpass``.
    """
    from engine.settings import has_password, password_secret, with_credentials, without_password

    bare = without_password(url)
    if bare in _credentials:
        return bare
    full = with_credentials(url, settings)
    secret = None if has_password(full) or bare.startswith("sqlite") else password_secret(settings)
    if secret:
        full = _with_secret(bare, secret)
    with _lock:
        _credentials[bare] = full
    return bare


def _with_secret(url: str, block: str) -> str:
    """``url`` with the password the Prefect Secret block ``block`` holds (imports Prefect)."""
    from urllib.parse import quote

    from prefect.blocks.system import Secret

    loaded: Any = Secret.load(block)  # in a flow run's sync code: the block itself, not a coroutine
    password = quote(str(loaded.get()), safe="")
    scheme, _, rest = url.partition("://")
    user, at, host = rest.partition("@")
    return f"{scheme}://{user}:{password}@{host}" if at else url


def store(url: str) -> Engine:
    """The Engine for ``url``, opened (and checked to be initialised) once per process; a URL without
    its password opens with the one :func:`credentials` found."""
    bare = credentials(url)
    with _lock:
        engine = _stores.get(bare)
        if engine is None:
            from engine.services.setup import open_store

            engine = open_store(_credentials.get(bare, url))
            _stores[bare] = engine
        return engine


def forget_stores() -> None:
    """Close every cached Engine (a test or the demo is done with its database)."""
    with _lock:
        for engine in _stores.values():
            engine.dispose()
        _stores.clear()
        _credentials.clear()


@lru_cache(maxsize=16)
def policy(path: str) -> Policy:
    """The policy at ``path``, loaded once per process."""
    from engine.policy.model import load_policy

    return load_policy(path)


@lru_cache(maxsize=16)
def lifecycle(path: str) -> Lifecycle:
    """The lifecycle of the policy at ``path``, built once per process (it is safe to share)."""
    from engine.domain.lifecycle import Lifecycle

    return Lifecycle(policy(path))


def iso(when: datetime) -> str:
    """An aware datetime as a flow's or task's ``now``: ISO 8601 text in UTC, with its offset."""
    if when.tzinfo is None:
        raise ValueError(f"{when!r} has no time zone; a flow's moment must be aware")
    return when.astimezone(UTC).isoformat()


def moment(text: str) -> datetime:
    """A flow's or task's ``now`` as an aware datetime (a time without zone is read as UTC)."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
