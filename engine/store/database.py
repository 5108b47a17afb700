"""Opening the store: engines, the unit of work, and schema initialisation.

SQLite writers take the database lock when their transaction begins
(``BEGIN IMMEDIATE``), so two writers never interleave; PostgreSQL relies on
row locks and the relationship's version column.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, Transaction, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError, ProgrammingError

from engine.errors import ConfigError, field

SCHEMA_REVISION = "0018"
"""The Alembic head this code expects; a test checks it against the migrations."""


def open_engine(url: str, *, create: bool = True) -> Engine:
    """An Engine for ``url``; SQLite gets foreign keys, WAL, a busy timeout and immediate writes.

    With ``create=False`` a SQLite file that does not exist is an error, so a
    mistyped path never leaves an empty database behind.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{url!r} is not a database URL (try sqlite:///mentorflow.db)") from None
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:" and not create and not Path(path).is_file():
        raise ConfigError(f"no database file {path!r} (run `mentorflow init`, or give {field('database')})")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        engine = create_engine(parsed, **_engine_options(parsed.get_backend_name()))
    except (ArgumentError, ModuleNotFoundError) as exc:
        raise ConfigError(f"cannot use database {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.name == "postgresql":
        _configure_postgresql(engine)
    return engine


WRITERS_LOCK = 7_215_064_211
"""The advisory lock each writing transaction holds shared on PostgreSQL from its start to its end, so
that the event feed can find a moment when none is between its first insert and its commit
(:func:`engine.store.events.horizon`)."""


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get("mentorflow_write", True):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock_shared({WRITERS_LOCK})")


def _engine_options(backend: str) -> dict[str, Any]:
    if backend == "sqlite":
        return {"connect_args": {"timeout": 30}}
    return {"pool_pre_ping": True}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("mentorflow_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class UnitOfWork:
    """One transaction: commit explicitly, or everything rolls back on exit.

    A database that cannot be reached or used (an ``OperationalError``, on
    entering or inside the block) leaves as a ConfigError naming the database,
    so no caller needs to translate it.
    """

    commits = 0
    """Transactions committed by this process (migrations included), so an unexpected error can say
    truthfully what was committed before it (:func:`engine.services.setup.commits`)."""

    conn: Connection
    _tx: Transaction

    def __init__(self, engine: Engine, *, write: bool = True, within: Rehearsal | None = None) -> None:
        self._engine = engine
        self._write = write
        self._within = within

    def __enter__(self) -> UnitOfWork:
        if self._within is not None:  # a savepoint of the rehearsal's transaction
            self.conn = self._within.conn
            self._tx = self.conn.begin_nested()
            return self
        try:
            self.conn = self._engine.connect().execution_options(mentorflow_write=self._write)
        except OperationalError as exc:
            raise _unusable(self._engine, exc) from None
        try:
            self._tx = self.conn.begin()
        except OperationalError as exc:
            self.conn.close()
            raise _unusable(self._engine, exc) from None
        return self

    def commit(self) -> None:
        self._tx.commit()
        if self._within is None:
            UnitOfWork.commits += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and self._tx.is_active:
            mark_rolled_back(exc)
        if self._within is not None:
            if self._tx.is_active:
                self._tx.rollback()  # to the savepoint; the rehearsal's connection stays open
            return
        try:
            try:
                if self._tx.is_active:
                    self._tx.rollback()
            finally:
                self.conn.close()
        except OperationalError as closing:
            if exc is None:
                raise _unusable(self._engine, closing) from None
            # the block's own error says more than the failed rollback that follows it
        if isinstance(exc, OperationalError):
            raise _unusable(self._engine, exc) from None

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name


class Rehearsal:
    """One transaction that is never committed: everything done within it is rolled back on exit.

    A :class:`UnitOfWork` opened ``within`` it runs in a savepoint of this transaction: its commit
    releases the savepoint, so what the next one reads includes it, and still nothing reaches the
    database. ``policy plan`` runs a whole tick (pass after pass) this way, and reads what it wrote
    before the rollback. On PostgreSQL the ids it drew from sequences stay drawn, unused.
    """

    conn: Connection

    def __init__(self, engine: Engine) -> None:
        self._unit = UnitOfWork(engine)

    def __enter__(self) -> Rehearsal:
        self.conn = self._unit.__enter__().conn
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._unit.__exit__(exc_type, exc, tb)  # never committed: rolled back


ROLLED_BACK = "mentorflow_rolled_back"
"""The attribute set on an error that left a unit of work whose transaction it rolled back."""


def mark_rolled_back(exc: BaseException) -> None:
    """Note on ``exc`` that the transaction it interrupted was rolled back: nothing of it was committed."""
    with suppress(AttributeError):  # an error type without attributes of its own
        setattr(exc, ROLLED_BACK, True)


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or ``None`` when it has no schema yet."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise ConfigError(f"cannot open database {_shown(engine)}: {_first_line(exc)}") from None
    except ProgrammingError:
        return None
    except DatabaseError as exc:  # a file that is not SQLite's: "file is not a database"
        raise ConfigError(f"cannot open database {_shown(engine)}: {_first_line(exc)}") from None


def require_schema(engine: Engine) -> None:
    """Refuse to work on a database that ``mentorflow init`` has not prepared."""
    revision = schema_revision(engine)
    if revision is None:
        raise ConfigError(f"database {_shown(engine)} is not initialised (run `mentorflow init`)")
    if revision != SCHEMA_REVISION:
        raise ConfigError(
            f"database {_shown(engine)} is at schema {revision}, this mentorflow expects "
            f"{SCHEMA_REVISION} (run `mentorflow init` to upgrade)"
        )


def initialise(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the schema to the latest revision; returns (before, after)."""
    before = schema_revision(engine)
    migrate(engine, "upgrade", "head")
    return before, SCHEMA_REVISION


def migrate(engine: Engine, direction: str, revision: str) -> None:
    """Run the Alembic migrations ``direction`` (``upgrade`` or ``downgrade``) to ``revision``, in one
    transaction; the foreign keys are checked before it commits."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "engine.store:migrations")
    try:
        with engine.connect() as conn, _foreign_keys_deferred(conn), conn.begin():
            config.attributes["connection"] = conn
            getattr(command, direction)(config, revision)
            _check_foreign_keys(conn)
        UnitOfWork.commits += 1
    except OperationalError as exc:
        raise _unusable(engine, exc) from None


@contextmanager
def _foreign_keys_deferred(conn: Connection) -> Iterator[None]:
    """On SQLite, foreign keys off while migrating, as SQLite's own guide to altering tables says.

    A migration that changes a table SQLite cannot alter in place copies it to a
    new one and drops the old; with foreign keys on, dropping a table that other
    rows refer to fails. The keys are checked before the migration commits.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")  # outside a transaction: inside one it does nothing
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def _check_foreign_keys(conn: Connection) -> None:
    if conn.dialect.name == "sqlite" and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").all()):
        raise ConfigError(f"the migration would leave {len(broken)} row(s) referring to missing rows")


def _unusable(engine: Engine, exc: OperationalError) -> ConfigError:
    return ConfigError(f"cannot use database {_shown(engine)}: {_first_line(exc)}")


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _first_line(exc: Exception) -> str:
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
