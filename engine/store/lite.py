"""A read path that skips SQLAlchemy, for the commands that must start fast.

Importing SQLAlchemy costs about half a second on a small machine; ``history``
is run often and by hand, so for SQLite and PostgreSQL URLs it reads through
the DB-API driver directly (``sqlite3`` or ``psycopg``). Other URLs return
``None`` and the caller uses the SQLAlchemy path. A contract test checks both
paths return the same rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from engine.errors import ConfigError, NotFoundError, field

SCHEMA_REVISION = "0007"  # engine.store.database.SCHEMA_REVISION; a test keeps them equal

HISTORY_COLUMNS = (
    "id", "relationship_id", "seq", "at", "actor", "trigger", "from_phase", "to_phase", "reason",
    "policy_name", "policy_version", "data", "prev_hash", "hash",
)  # fmt: skip


def supported(url: str) -> bool:
    """Whether this module can read the database at ``url``."""
    scheme = url.split(":", 1)[0]
    return scheme in ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


@contextmanager
def _connect(url: str) -> Iterator[tuple[Any, str]]:
    """A DB-API connection and its parameter style (``?`` or ``%s``)."""
    scheme, rest = url.split(":", 1)
    try:
        if scheme.startswith("sqlite"):
            path = unquote(urlsplit(url).path)[1:] or ":memory:"
            if path != ":memory:" and not Path(path).is_file():
                raise ConfigError(
                    f"no database file {path!r} (run `mentorflow init`, or give {field('database')})"
                )
            # not mode=ro: a read-only WAL reader waits for a -shm file it may not create
            with closing(sqlite3.connect(path, timeout=30)) as conn:
                yield conn, "?"
            return
        import psycopg

        with psycopg.connect("postgresql:" + rest, autocommit=True) as conn:
            yield conn, "%s"
    except (sqlite3.Error, ImportError) as exc:
        raise ConfigError(f"cannot open database {_hidden(url)}: {exc}") from None
    except Exception as exc:  # psycopg.Error, imported lazily
        if type(exc).__module__.startswith("psycopg"):
            raise ConfigError(f"cannot open database {_hidden(url)}: {str(exc).strip()}") from None
        raise


def _hidden(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def _utc(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC)


def history(url: str, rel_id: int) -> list[dict[str, Any]]:
    """A relationship's audit entries, oldest first, as the SQLAlchemy path returns them."""
    with _connect(url) as (conn, mark):
        cursor = conn.cursor()
        try:
            cursor.execute("SELECT version_num FROM alembic_version")
            revision = cursor.fetchone()
        except Exception:
            revision = None
        if revision is None or revision[0] != SCHEMA_REVISION:
            raise ConfigError(f"database {_hidden(url)} is not initialised (run `mentorflow init`)")
        cursor.execute(f"SELECT id FROM relationships WHERE id = {mark}", (rel_id,))
        if cursor.fetchone() is None:
            raise NotFoundError(f"no relationship {rel_id} (see `mentorflow relationships list`)")
        columns = ", ".join(f'"{c}"' for c in HISTORY_COLUMNS)
        cursor.execute(
            f"SELECT {columns} FROM audit_entries WHERE relationship_id = {mark} ORDER BY id", (rel_id,)
        )
        rows = [dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["at"] = _utc(row["at"])
        if isinstance(row["data"], str):
            row["data"] = json.loads(row["data"])
    return rows


def journey(url: str, rel_id: int) -> list[tuple[int, str]]:
    """(id, phase) of every relationship of this relationship's mentee, oldest first."""
    with _connect(url) as (conn, mark):
        cursor = conn.cursor()
        cursor.execute(
            "SELECT id, phase FROM relationships WHERE mentee_id = "
            f"(SELECT mentee_id FROM relationships WHERE id = {mark}) ORDER BY id",
            (rel_id,),
        )
        return [(int(rid), str(phase)) for rid, phase in cursor.fetchall()]
