"""A read path that skips SQLAlchemy, for the commands that must start fast.

Importing SQLAlchemy costs about half a second on a small machine; ``history``,
``status`` and ``relationships list`` are run often and by hand, so for SQLite
and PostgreSQL URLs they read through the DB-API driver directly (``sqlite3`` or
``psycopg``); for other URLs (:func:`supported` is false) the caller uses the
SQLAlchemy path. Contract tests check both paths return the same rows.
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

RECORD_RETRACT = "retract"  # engine.policy.vocabulary.RECORD_RETRACT; a test keeps them equal

SCHEMA_REVISION = "0018"  # engine.store.database.SCHEMA_REVISION; a test keeps them equal

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


def _stored(moment: datetime, mark: str) -> Any:
    """``moment`` as the store keeps it: naive UTC (as text on SQLite, as SQLAlchemy writes it there)."""
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if mark == "?" else naive


def _require_schema(cursor: Any, url: str) -> None:
    """Refuse a database ``mentorflow init`` has not prepared (or prepared for another version)."""
    try:
        cursor.execute("SELECT version_num FROM alembic_version")
        revision = cursor.fetchone()
    except Exception:
        revision = None
    if revision is None:
        raise ConfigError(f"database {_hidden(url)} is not initialised (run `mentorflow init`)")
    if revision[0] != SCHEMA_REVISION:
        raise ConfigError(
            f"database {_hidden(url)} is at schema {revision[0]}, this mentorflow expects "
            f"{SCHEMA_REVISION} (run `mentorflow init` to upgrade)"
        )


def history(url: str, rel_id: int) -> list[dict[str, Any]]:
    """A relationship's audit entries, oldest first, as the SQLAlchemy path returns them."""
    with _connect(url) as (conn, mark):
        cursor = conn.cursor()
        _require_schema(cursor, url)
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


RELATIONSHIP_COLUMNS = ("id", "mentee", "mentor", "phase", "since", "due_at", "version", "policy")


def relationships_list(url: str, phase: str | None = None) -> list[dict[str, Any]]:
    """Every relationship (or those in ``phase``) with its mentee's and mentor's names, by id."""
    with _connect(url) as (conn, mark):
        cursor = conn.cursor()
        _require_schema(cursor, url)
        where, values = (f"WHERE r.phase = {mark}", (phase,)) if phase is not None else ("", ())
        cursor.execute(
            "SELECT r.id, mentee.name, mentor.name, r.phase, r.phase_entered_at, r.due_at, r.version, "
            "r.policy_name FROM relationships r JOIN participants mentee ON mentee.id = r.mentee_id "
            f"LEFT OUTER JOIN participants mentor ON mentor.id = r.mentor_id {where} ORDER BY r.id",
            values,
        )
        rows = [dict(zip(RELATIONSHIP_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        row["since"] = _utc(row["since"])
        row["due_at"] = None if row["due_at"] is None else _utc(row["due_at"])
    return rows


Standings = list[tuple[int, str, datetime]]


def status_reads(
    url: str, policy_name: str, moment: datetime
) -> tuple[Standings, dict[int, datetime], dict[str, int]]:
    """What ``status`` reads now: (id, phase, entered) of the policy's relationships, each relationship's
    last meeting held by ``moment`` (none retracted), and how many relationships each policy has."""
    with _connect(url) as (conn, mark):
        cursor = conn.cursor()
        _require_schema(cursor, url)
        cursor.execute(
            f"SELECT id, phase, phase_entered_at FROM relationships WHERE policy_name = {mark}",
            (policy_name,),
        )
        standings = [(int(rid), str(phase), _utc(at)) for rid, phase, at in cursor.fetchall()]
        last = _last_meetings(cursor, mark, _stored(moment, mark))
        cursor.execute("SELECT policy_name, count(*) FROM relationships GROUP BY policy_name")
        counts = {str(name): int(count) for name, count in cursor.fetchall()}
    return standings, last, counts


def _last_meetings(cursor: Any, mark: str, by: Any) -> dict[int, datetime]:
    """Per relationship, its last meeting held by ``by`` that no ``retract`` entry by then took back."""
    cursor.execute(
        f"SELECT relationship_id, data FROM audit_entries WHERE trigger = {mark} AND at <= {mark}",
        (RECORD_RETRACT, by),
    )
    gone: set[tuple[int, int]] = set()
    for rid, data in cursor.fetchall():
        seq = ((json.loads(data) if isinstance(data, str) else data or {}).get("retracted") or {}).get("seq")
        if isinstance(seq, int):
            gone.add((int(rid), seq))
    if not gone:
        cursor.execute(
            f"SELECT relationship_id, max(held_on) FROM meetings WHERE held_on <= {mark} "
            "GROUP BY relationship_id",
            (by,),
        )
        return {int(rid): _utc(last) for rid, last in cursor.fetchall()}
    cursor.execute(f"SELECT relationship_id, entry_seq, held_on FROM meetings WHERE held_on <= {mark}", (by,))
    found: dict[int, datetime] = {}
    for rid, seq, held in cursor.fetchall():
        if (int(rid), seq) not in gone:
            at = _utc(held)
            found[int(rid)] = max(found.get(int(rid), at), at)
    return found
