"""The store itself: open it by URL, check or create its schema, show its URL without a password.

The CLI and the flows reach the store through these functions and the other
services, never through :mod:`engine.store` (whose modules import SQLAlchemy).
Each function imports the store when it is called, so importing this module
costs nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine


def open_store(url: str, *, initialised: bool = True) -> Engine:
    """The store at ``url``; checked to be initialised, unless ``initialised=False`` (then a SQLite file
    that does not exist is created)."""
    from engine.store.database import open_engine, require_schema

    store = open_engine(url, create=not initialised)
    if initialised:
        require_schema(store)
    return store


def commits() -> int:
    """How many transactions this process has committed so far (0 if it never opened the store)."""
    database = sys.modules.get("engine.store.database")  # not imported: nothing opened, nothing committed
    return int(database.UnitOfWork.commits) if database is not None else 0


def rolled_back(exc: BaseException) -> bool:
    """Whether ``exc`` interrupted an operation's transaction, which was then rolled back whole."""
    database = sys.modules.get("engine.store.database")
    return database is not None and bool(getattr(exc, database.ROLLED_BACK, False))


def initialise(store: Engine) -> tuple[str | None, str]:
    """Create or upgrade the store's schema; returns the revisions (before, after)."""
    from engine.store.database import initialise as upgrade

    return upgrade(store)


def shown(store: Engine) -> str:
    """The store's URL as an operator may see it: the password hidden."""
    return store.url.render_as_string(hide_password=True)


def sqlite_file(url: str) -> str | None:
    """The file a SQLite URL names (maybe relative); ``None`` for another database or an in-memory one."""
    from engine.store.urls import sqlite_file as named

    return named(url)


def absolute_url(url: str) -> str:
    """``url`` with a SQLite file's path made absolute, for a run that may start in another directory."""
    from engine.store.urls import absolute

    return absolute(url)


def fresh_store(url: str) -> tuple[Engine, str | None]:
    """A new, initialised store at ``url``, and the SQLite file it replaced (``None`` if none).

    A SQLite file (and its journal files) is deleted first; any other database must hold no
    participants yet.
    """
    from engine.errors import ConfigError
    from engine.store.database import initialise as upgrade
    from engine.store.database import open_engine
    from engine.store.reads import participant_count

    replaced = None
    path = sqlite_file(url)
    if path:
        replaced = path if Path(path).exists() else None
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(path + suffix).unlink(missing_ok=True)
    store = open_engine(url)
    upgrade(store)
    if participant_count(store):
        raise ConfigError(f"the demo needs an empty database; {url} already has participants")
    return store, replaced
