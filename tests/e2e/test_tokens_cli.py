"""``mentorflow tokens``: create prints a secret once that authenticates, list in three formats, revoke;
refusals exit 2 with a clear message, no traceback, and nothing written."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.services import tokens as service
from engine.store.database import open_engine

from .conftest import Result, Run, snapshot

SECRET = re.compile(r"mf_[A-Za-z0-9_-]{43}")


@pytest.fixture
def db(run: Run, tmp_path: Path) -> Path:
    assert run("init").code == 0
    return tmp_path / "mentorflow.db"


@pytest.fixture
def store(db: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{db}", create=False)
    yield engine
    engine.dispose()


def _created(run: Run, *args: str) -> str:
    done = run("tokens", "create", *args)
    assert done.code == 0, done.err
    assert SECRET.fullmatch(done.out.rstrip("\n")) and done.out.count("\n") == 1, done.out
    assert "shown this once" in done.err and "stored hashed" in done.err
    assert done.out.strip() not in done.err
    return done.out.strip()


def _refused(done: Result, fragment: str) -> None:
    assert done.code == 2, (done.out, done.err)
    assert fragment in done.err, done.err
    assert "Traceback" not in done.out + done.err and "unexpected error" not in done.err


def test_the_cli_lists_the_same_scopes_as_the_service() -> None:
    from workflows.cli import tokens as cli

    assert cli.SCOPES == service.SCOPES


def test_a_created_token_authenticates_as_its_name(run: Run, store: Engine) -> None:
    secret = _created(run, "ci-bot", "--scope", "read", "--scope", "records:write", "--rate-limit", "120")
    found = service.authenticate(store, secret, datetime.now(UTC))
    assert found is not None and found.actor == "api:ci-bot"
    assert found.scopes == ("read", "records:write") and found.rate_limit == 120
    assert found.created_by == "cli:tester"
    assert secret not in repr(snapshot(Path(str(store.url.database))))


def test_list_shows_the_tokens_in_three_formats(run: Run, store: Engine) -> None:
    assert "no tokens yet" in run("tokens", "list").out
    assert json.loads(run("tokens", "list", "--format", "json").out) == []
    secret = _created(run, "ci", "--scope", "read")
    _created(run, "sync", "--scope", "participants:write", "--scope", "events:read", "--actor", "sam")
    assert run("tokens", "revoke", "sync").code == 0
    assert service.authenticate(store, secret, datetime.now(UTC)) is not None

    table = run("tokens", "list")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0] == "API tokens: 2"
    for header in ("name", "scopes", "rate limit", "created", "last used", "revoked"):
        assert header in lines[2], lines[2]
    ci = next(line for line in lines if "│ ci " in line)
    sync = next(line for line in lines if "│ sync " in line)
    assert "read" in ci and "600/min" in ci and "never" not in ci and ci.count(" UTC") == 2
    assert "participants:write events:read" in sync and "never" in sync and sync.count(" UTC") == 2
    assert secret not in table.out

    listed = json.loads(run("tokens", "list", "--format", "json").out)
    assert [(t["name"], t["scopes"], t["rate_limit"]) for t in listed] == [
        ("ci", ["read"], 600),
        ("sync", ["participants:write", "events:read"], 600),
    ]
    assert listed[0]["created_by"] == "cli:tester" and listed[1]["created_by"] == "cli:sam"
    assert listed[0]["last_used_at"].endswith("Z") and listed[0]["revoked_at"] is None
    assert listed[1]["last_used_at"] is None and listed[1]["revoked_by"] == "cli:tester"
    assert all("digest" not in t and "secret" not in t for t in listed)

    text = run("tokens", "list", "--format", "csv").out
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "name", "scopes", "rate_limit", "created_at", "created_by", "last_used_at", "revoked_at", "revoked_by"
    ]  # fmt: skip
    assert [(r["name"], r["scopes"], r["revoked_by"]) for r in rows] == [
        ("ci", "read", ""),
        ("sync", "participants:write events:read", "cli:tester"),
    ]
    assert rows[1]["revoked_at"] == listed[1]["revoked_at"] and secret not in text


def test_a_revoked_token_authenticates_no_more(run: Run, store: Engine) -> None:
    secret = _created(run, "ci", "--scope", "read")
    done = run("tokens", "revoke", "ci", "--actor", "sam")
    assert done.code == 0 and "token 'ci' revoked" in done.out, done.err
    assert service.authenticate(store, secret, datetime.now(UTC)) is None
    [token] = service.list_tokens(store)
    assert token.revoked_by == "cli:sam"
    _refused(run("tokens", "revoke", "ci"), "token 'ci' was revoked already, at ")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["create", "new", "--scope", "admin"],
            "unknown scope 'admin'; the scopes are read, participants:write",
        ),
        (["create", "new"], "a token needs at least one scope"),
        (["create", "new", "--scope", "read", "--rate-limit", "0"], "Give a whole number from 1 to 100000"),
        (["create", "new", "--scope", "read", "--rate-limit", "100001"], "100001 requests a minute?"),
        (
            ["create", "new", "--scope", "read", "--rate-limit", "many"],
            "Invalid value for '--rate-limit': 'many'",
        ),
        (["create", "bad name", "--scope", "read"], "cannot name a token"),
        (["create", "taken", "--scope", "read"], "there is already a token 'taken'"),
        (["revoke", "nope"], "no token 'nope'"),
        (["list", "--format", "xml"], "--format: 'xml' is not one of table, json, csv"),
    ],
)
def test_a_bad_command_exits_2_and_writes_nothing(run: Run, db: Path, args: list[str], fragment: str) -> None:
    _created(run, "taken", "--scope", "read")
    before = snapshot(db)
    done = run("tokens", *args)
    _refused(done, fragment)
    assert done.out == ""
    assert snapshot(db) == before


def test_without_a_database_nothing_is_created(run: Run, tmp_path: Path) -> None:
    _refused(run("tokens", "create", "ci", "--scope", "read"), "run `mentorflow init`")
    assert not (tmp_path / "mentorflow.db").exists()
