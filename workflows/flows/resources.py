"""What a task opens from its primitive arguments: the store, the policy, its lifecycle, the moment.

Tasks take a database URL, a policy path and an ISO time, so a worker on
another machine can run them; here they become an Engine (one per URL per
process, with its connection pool), a Policy (loaded once per path), a
Lifecycle (one per thread: it is not thread-safe) and an aware datetime.
This module does not import Prefect.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.domain.lifecycle import Lifecycle
    from engine.policy.model import Policy

_lock = threading.Lock()
_stores: dict[str, Engine] = {}
_local = threading.local()


@dataclass(frozen=True)
class Target:
    """What a flow run works on: the store's URL, the policy file, and the moment it runs at."""

    database: str
    policy: str
    now: str


def resolve(database: str | None, policy: str | None, now: str | None) -> Target:
    """The settings resolved (options, environment, mentorflow.toml); ``now`` from the clock if not given."""
    from engine.clock import SystemClock
    from engine.policy.model import resolve_policy_path
    from engine.settings import resolve as settings

    resolved = settings(database=database, policy=policy)
    path = resolve_policy_path(resolved.policy)
    when = moment(now) if now else SystemClock().now()
    return Target(resolved.database_url, str(path.resolve()), when.isoformat())


def store(url: str) -> Engine:
    """The Engine for ``url``, opened (and checked to be initialised) once per process."""
    with _lock:
        engine = _stores.get(url)
        if engine is None:
            from engine.store.database import open_engine, require_schema

            engine = open_engine(url, create=False)
            require_schema(engine)
            _stores[url] = engine
        return engine


def forget_stores() -> None:
    """Close every cached Engine (a test or the demo is done with its database)."""
    with _lock:
        for engine in _stores.values():
            engine.dispose()
        _stores.clear()


@lru_cache(maxsize=16)
def policy(path: str) -> Policy:
    """The policy at ``path``, loaded once per process."""
    from engine.policy.model import load_policy

    return load_policy(path)


def lifecycle(path: str) -> Lifecycle:
    """The lifecycle of the policy at ``path``, one per thread."""
    from engine.domain.lifecycle import Lifecycle

    cache: dict[str, Lifecycle] = _local.__dict__.setdefault("lifecycles", {})
    if path not in cache:
        cache[path] = Lifecycle(policy(path))
    return cache[path]


def moment(text: str) -> datetime:
    """An ISO time as an aware datetime (a time without zone is read as UTC)."""
    from datetime import UTC

    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
