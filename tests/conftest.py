"""Fixtures shared by the engine tests: a store on each back end, a simulated clock, the default policy.

``store`` runs every test that asks for it twice: on a fresh SQLite file and on
the PostgreSQL named by ``MENTORFLOW_TEST_DATABASE_URL``. Without that database
the PostgreSQL half is skipped with the reason, except in CI (``CI=true``),
where a missing database is a failure: CI must never go green by skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError

from engine.clock import SimulatedClock
from engine.domain.audit import Cause
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.store.database import initialise, open_engine
from engine.store.tables import metadata

POSTGRES_URL_VARIABLE = "MENTORFLOW_TEST_DATABASE_URL"
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_SQLITE_COMPILED: dict[Any, Any] = {}  # compiled SQL, shared by the per-test SQLite engines

# The append-only triggers of the initial migration, to restore after a test tampers with the history.
POSTGRES_APPEND_ONLY = (
    "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION mentorflow_audit_append_only()"
)


def _postgres_unavailable(reason: str) -> NoReturn:
    """Skip the PostgreSQL half locally; in CI a missing database fails the run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and PostgreSQL is required, but {reason}", pytrace=False)
    pytest.skip(reason)


TEST_SCHEMA = os.environ.get("MENTORFLOW_TEST_SCHEMA", "mentorflow_tests")
"""The only PostgreSQL schema the tests touch: dropped and created afresh once per session (two test runs
at once on one database each name their own with ``MENTORFLOW_TEST_SCHEMA``)."""
assert TEST_SCHEMA.isidentifier(), f"MENTORFLOW_TEST_SCHEMA must be a plain name, not {TEST_SCHEMA!r}"


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    """The test PostgreSQL, in a schema of the tests' own, dropped and created afresh once per session."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not url:
        _postgres_unavailable(f"{POSTGRES_URL_VARIABLE} is not set (PostgreSQL tests need it)")
    parsed = make_url(url)
    if "connect_timeout" not in parsed.query:  # an unreachable host fails in seconds, not minutes
        parsed = parsed.update_query_dict({"connect_timeout": "5"})
    admin = open_engine(parsed.render_as_string(hide_password=False))
    try:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {TEST_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {TEST_SCHEMA}"))
    except OperationalError as exc:
        first_line = str(exc.orig or exc).strip().splitlines()[0]
        _postgres_unavailable(f"PostgreSQL at {POSTGRES_URL_VARIABLE} is unreachable: {first_line}")
    finally:
        admin.dispose()
    scoped = parsed.update_query_dict({"options": f"-csearch_path={TEST_SCHEMA}"})
    engine = open_engine(scoped.render_as_string(hide_password=False))
    initialise(engine)
    yield engine
    engine.dispose()


def _truncate_everything(engine: Engine) -> None:
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised SQLite file; each test gets a copy, which is much faster than migrating anew."""
    path = tmp_path_factory.mktemp("template") / "mentorflow.db"
    engine = open_engine(f"sqlite:///{path}")
    initialise(engine)
    engine.dispose()  # closing the last connection folds the WAL into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An initialised, empty store on each back end."""
    if request.param == "postgres":
        engine: Engine = request.getfixturevalue("postgres_engine")
        _truncate_everything(engine)
        yield engine
        return
    path = tmp_path_factory.mktemp("store") / "mentorflow.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    engine = open_engine(f"sqlite:///{path}")
    yield engine.execution_options(compiled_cache=_SQLITE_COMPILED)
    engine.dispose()


@pytest.fixture
def written_before_seals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Audit entries written as mentorflow wrote them before migration 0016: a reason unsealed, its text in
    the hash (what a database upgraded from then holds)."""
    monkeypatch.setattr(Cause, "__post_init__", lambda self: None)


@pytest.fixture
def drop_append_only(store: Engine) -> Iterator[None]:
    """Drop the audit table's append-only triggers, as a database superuser could; restored afterwards."""
    with store.begin() as conn:
        if store.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
    yield
    if store.dialect.name == "postgresql":
        with store.begin() as conn:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries"))
            conn.execute(text(POSTGRES_APPEND_ONLY))


@pytest.fixture
def clock() -> SimulatedClock:
    """A simulated clock standing at Monday 2026-01-05 09:00 UTC."""
    return SimulatedClock(START)


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The default policy shipped with mentorflow."""
    return load_policy(shipped_policies()["default"])


@pytest.fixture
def lifecycle(policy: Policy) -> Lifecycle:
    """The lifecycle of the default policy (one per test: a Lifecycle is not thread-safe)."""
    return Lifecycle(policy)
