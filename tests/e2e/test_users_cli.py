"""`mentorflow users`: accounts added (password from stdin or asked twice), listed, disabled; bad input
refused with exit 2 and nothing written."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from engine.services.users import list_users
from engine.store.database import open_engine
from tests.e2e.conftest import Run, snapshot

PASSWORD = "a-long-enough-password"


def _accounts(db: Path) -> list[tuple[str, str, bool]]:
    store = open_engine(f"sqlite:///{db}", create=False)
    try:
        return [(a.name, a.role, a.disabled) for a in list_users(store)]
    finally:
        store.dispose()


def test_add_list_and_disable(run: Run, program: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    added = run("users", "add", "sam", "--role", "coordinator", "--password-stdin")
    assert added.code == 0 and "added" in added.out
    assert _accounts(program) == [("sam", "coordinator", False)]
    listed = run("users", "list")
    assert listed.code == 0 and "sam" in listed.out and "enabled" in listed.out
    assert run("users", "disable", "sam").code == 0
    assert _accounts(program) == [("sam", "coordinator", True)]


def test_the_password_is_asked_twice(run: Run, program: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("typer.prompt", lambda *a, **k: next(answers))
    before = snapshot(program)
    differ = run("users", "add", "vera", "--role", "viewer")
    assert differ.code == 2 and "differ" in differ.err
    assert snapshot(program) == before


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (("users", "add", "sam", "--role", "boss", "--password-stdin"), PASSWORD, "not one of"),
        (("users", "add", "bad name", "--role", "viewer", "--password-stdin"), PASSWORD, "cannot name"),
        (("users", "add", "sam", "--role", "viewer", "--password-stdin"), "short", "at least 12"),
        (("users", "disable", "nobody"), "", "no account 'nobody'"),
    ],
)
def test_bad_input_is_refused(
    run: Run, program: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], stdin: str, says: str
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin + "\n"))
    before = snapshot(program)
    refused = run(*args)
    assert refused.code == 2 and says in refused.err and "Traceback" not in refused.err
    assert snapshot(program) == before


def test_a_name_taken_is_refused(run: Run, program: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert run("users", "add", "sam", "--role", "viewer", "--password-stdin").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    before = snapshot(program)
    again = run("users", "add", "sam", "--role", "coordinator", "--password-stdin")
    assert again.code == 2 and "already an account" in again.err
    assert snapshot(program) == before
