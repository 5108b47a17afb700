"""An error nobody foresaw: no SQL and no values on the terminal, the truth about what was committed.

A database error's own message carries the statement and its bound parameters, other people's data;
the CLI shows the error's type and where it came from, says whether the failed operation was rolled
back and what the command committed before it, and points to MENTORFLOW_DEBUG=1.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

import engine.services.participants as participants_service
import engine.store.participants as people_store
from engine.store.database import ROLLED_BACK, UnitOfWork
from tests.e2e.conftest import EXAMPLES, Run, snapshot
from workflows.cli import main
from workflows.cli.common import debugging, what_was_committed

STATEMENT = "INSERT INTO participants (name, email) VALUES (?, ?)"
VALUES = ("Zoë Çelik", "zoe.celik@example.com")


def _leaking_insert(*args: Any, **kwargs: Any) -> int:
    raise IntegrityError(
        STATEMENT, VALUES, sqlite3.IntegrityError("UNIQUE constraint failed: participants.email")
    )


@pytest.fixture
def database(run: Run, tmp_path: Path) -> Path:
    assert run("init").code == 0
    return tmp_path / "mentorflow.db"


def test_a_database_error_inside_an_operation_shows_no_sql_and_says_nothing_was_committed(
    run: Run, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people_store, "insert_participants", _leaking_insert)
    before = snapshot(database)

    result = run("participants", "import", str(EXAMPLES))

    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[0].startswith("unexpected error: IntegrityError (sqlite3.IntegrityError) in engine/")
    assert lines[1] == "the failed operation was rolled back: nothing was committed"
    assert "MENTORFLOW_DEBUG=1" in lines[2]
    for leak in ("INSERT", "[SQL:", "parameters", "Zoë", "zoe.celik", "UNIQUE", "Traceback"):
        assert leak not in result.err
    assert snapshot(database) == before


def test_an_error_after_a_commit_says_what_was_committed(
    run: Run, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = participants_service.import_participants

    def then_fail(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)
        raise RuntimeError("printing failed for jan@example.com")

    monkeypatch.setattr(participants_service, "import_participants", then_fail)

    result = run("participants", "import", str(EXAMPLES))

    assert result.code == 1
    assert "unexpected error: RuntimeError in " in result.err and "jan@example.com" not in result.err
    assert "1 earlier transaction(s) of this command were committed and stay" in result.err
    assert "nothing was committed" not in result.err
    assert len(snapshot(database)["participants"]) == 20  # the import did happen


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "", " False "])
def test_debug_off_spellings_keep_the_short_message(
    value: str, run: Run, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people_store, "insert_participants", _leaking_insert)
    monkeypatch.setenv("MENTORFLOW_DEBUG", value)

    assert not debugging()
    result = run("participants", "import", str(EXAMPLES))
    assert result.code == 1 and "unexpected error: IntegrityError" in result.err


@pytest.mark.parametrize("value", ["1", "true", "yes", "on"])
def test_debug_on_shows_the_error_itself(
    value: str, run: Run, database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(people_store, "insert_participants", _leaking_insert)
    monkeypatch.setenv("MENTORFLOW_DEBUG", value)

    with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
        main(["participants", "import", str(EXAMPLES)])


def _error(*, rolled_back: bool) -> Exception:
    exc = RuntimeError("x")
    if rolled_back:
        setattr(exc, ROLLED_BACK, True)
    return exc


@pytest.mark.parametrize(
    ("rolled_back", "committed", "said"),
    [
        (True, 0, "the failed operation was rolled back: nothing was committed"),
        (True, 2, "the failed operation was rolled back: 2 earlier transaction(s) of this command were"),
        (False, 0, "the error came outside a transaction; nothing was committed to the database"),
        (False, 1, "the error came outside a transaction; 1 earlier transaction(s) of this command were"),
    ],
)  # fmt: skip
def test_what_was_committed_is_worded_from_what_is_known(
    rolled_back: bool, committed: int, said: str
) -> None:
    assert UnitOfWork.commits >= 0  # the store is imported, so the mark is read
    assert what_was_committed(_error(rolled_back=rolled_back), committed).startswith(said)
