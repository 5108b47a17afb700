"""Account events for auditors: every sign-in (by password or by a trusted proxy's header), failed
sign-in, sign-out, session found expired, account added or disabled, through the pages and the
services; append-only in the database; listed by `mentorflow users events`."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from engine.services import users
from engine.services.users import AccountEvent, account_events, add_user, digest, disable_user, sign_in
from engine.store import users as user_store
from engine.store.database import UnitOfWork, open_engine
from tests.e2e.conftest import Run, program, run  # noqa: F401  (fixtures for the command's tests)
from workflows.web import create_app
from workflows.web.auth import COOKIE
from workflows.web.config import WebConfig

from .conftest import BASE, COORDINATOR, KEYS, PASSWORD, Site, dump, form_tokens
from .conftest import sign_in as sign_in_page

PEER = "testclient"  # the client address TestClient's requests come from
HEADER = "X-Remote-User"


def _events(site: Site, account: str | None = None) -> list[tuple[object, ...]]:
    """The account events, oldest first, as (at, account, kind, actor, address, detail)."""
    return [
        (e.at, e.account, e.kind, e.actor, e.address, e.detail)
        for e in reversed(account_events(site.store, account))
    ]


def _added(site: Site, at: datetime) -> list[tuple[object, ...]]:
    """The events of the ``accounts`` fixture: sam and vera added by the default actor."""
    return [
        (at, "sam", "account_added", "mentorflow", None, "role coordinator"),
        (at, "vera", "account_added", "mentorflow", None, "role viewer"),
    ]


def test_adding_and_disabling_accounts_records_who_did_it(site: Site) -> None:
    start = site.clock.now()
    add_user(site.store, "sam", "coordinator", PASSWORD, start, actor="cli:alice")
    later = start + timedelta(minutes=5)
    disable_user(site.store, "sam", later, actor="cli:bob")
    disable_user(site.store, "sam", later + timedelta(minutes=1), actor="cli:bob")
    assert _events(site) == [
        (start, "sam", "account_added", "cli:alice", None, "role coordinator"),
        (later, "sam", "account_disabled", "cli:bob", None, "0 session(s) ended"),
        (later + timedelta(minutes=1), "sam", "account_disabled", "cli:bob", None,
         "0 session(s) ended; it was disabled already"),
    ]  # fmt: skip


def test_disabling_an_account_with_sessions_counts_them(accounts: Site) -> None:
    added = accounts.clock.now()
    assert sign_in_page(accounts.client, "sam").status_code == 303
    with TestClient(create_app(_config(accounts)), base_url=BASE) as other:
        assert sign_in_page(other, "sam").status_code == 303
    disable_user(accounts.store, "sam", added, actor="cli:alice")
    assert _events(accounts, "sam")[-1] == (
        added, "sam", "account_disabled", "cli:alice", None, "2 session(s) ended"
    )  # fmt: skip
    assert accounts.client.get("/", follow_redirects=False).status_code == 303


def _config(site: Site) -> WebConfig:
    return WebConfig(site.store, site.policy, KEYS, BASE, COORDINATOR, site.clock)


def test_a_password_sign_in_and_a_sign_out(accounts: Site) -> None:
    client, now = accounts.client, accounts.clock.now()
    assert sign_in_page(client, "sam").status_code == 303
    accounts.clock.advance(timedelta(minutes=30))
    today = client.get("/")
    assert today.status_code == 200
    out = client.post("/logout", data={"csrf_token": form_tokens(today.text)[0]}, follow_redirects=False)
    assert out.status_code == 303
    assert _events(accounts) == [
        *_added(accounts, now),
        (now, "sam", "signed_in", "coordinator:sam", PEER, "password"),
        (now + timedelta(minutes=30), "sam", "signed_out", "coordinator:sam", PEER, None),
    ]
    before = dump(accounts.store)
    client.post("/logout", data={"csrf_token": "x"}, follow_redirects=False)  # no session: nothing
    assert dump(accounts.store) == before


def test_each_failed_sign_in_says_why_by_an_anonymous_actor(accounts: Site) -> None:
    now = accounts.clock.now()
    disable_user(accounts.store, "vera", now, actor="cli:alice")
    for name, password in (("nobody", PASSWORD), ("vera", PASSWORD), ("sam", "not-the-password")):
        refused = sign_in_page(accounts.client, name, password)
        assert refused.status_code == 401 and "The name or the password is wrong." in refused.text
        assert "disabled" not in refused.text  # the page says no more than the event
    assert _events(accounts)[2:] == [
        (now, "vera", "account_disabled", "cli:alice", None, "0 session(s) ended"),
        (now, "nobody", "sign_in_failed", "anonymous", PEER, "no such account"),
        (now, "vera", "sign_in_failed", "anonymous", PEER, "disabled"),
        (now, "sam", "sign_in_failed", "anonymous", PEER, "wrong password"),
    ]


def test_behind_a_trusted_proxy_a_failure_names_the_forwarded_client(accounts: Site) -> None:
    behind = replace(_config(accounts), trusted_proxies=(PEER,))
    with TestClient(create_app(behind), base_url=BASE) as client:
        forwarded = {"x-forwarded-for": "198.51.100.1, 203.0.113.7"}
        assert sign_in_page(client, "sam", "wrong-password", headers=forwarded).status_code == 401
    assert _events(accounts)[-1][1:] == (
        "sam",
        "sign_in_failed",
        "anonymous",
        "203.0.113.7",
        "wrong password",
    )


HOSTILE = "\x1b[2J\x1b]0;owned\x07=cmd\nsam signed_in\u202e\x00"


def test_a_typed_name_is_recorded_printable(accounts: Site) -> None:
    """Whatever is typed into the name (escape sequences, a line break, a NUL that PostgreSQL cannot
    store) fails as a wrong name and is recorded with each unprintable character as U+FFFD."""
    refused = sign_in_page(accounts.client, HOSTILE, PASSWORD)
    assert refused.status_code == 401 and "The name or the password is wrong." in refused.text
    shown = "\ufffd[2J\ufffd]0;owned\ufffd=cmd\ufffdsam signed_in\ufffd\ufffd"
    assert _events(accounts)[-1][1:] == (shown, "sign_in_failed", "anonymous", PEER, "no such account")
    for _ in range(4):
        sign_in_page(accounts.client, HOSTILE, PASSWORD)
    assert sign_in_page(accounts.client, HOSTILE, PASSWORD).status_code == 429  # counted all the same


def test_a_locked_attempt_writes_no_event(accounts: Site) -> None:
    for _ in range(5):
        assert sign_in_page(accounts.client, "sam", "wrong-password").status_code == 401
    assert [e[2] for e in _events(accounts)].count("sign_in_failed") == 5
    before = dump(accounts.store)
    for password in (PASSWORD, "wrong-password"):
        assert sign_in_page(accounts.client, "sam", password).status_code == 429
    assert dump(accounts.store) == before


def test_a_session_found_expired_is_recorded_once(accounts: Site) -> None:
    client, start = accounts.client, accounts.clock.now()
    assert sign_in_page(client, "sam").status_code == 303
    accounts.clock.advance(timedelta(hours=7, minutes=59))
    assert client.get("/").status_code == 200  # still live
    accounts.clock.advance(timedelta(minutes=1))  # 8 hours: its end
    found = accounts.clock.now()
    for _ in range(2):
        assert client.get("/", follow_redirects=False).status_code == 303
    assert client.get("/", headers={"accept": "application/json"}).status_code == 401
    ended = f"expired at {start + timedelta(hours=8):%Y-%m-%d %H:%M} UTC"
    assert _events(accounts)[2:] == [
        (start, "sam", "signed_in", "coordinator:sam", PEER, "password"),
        (found, "sam", "session_expired", "coordinator:sam", PEER, ended),
    ]


def test_two_workers_finding_one_session_expired_record_it_once(accounts: Site) -> None:
    """Both read the session before either ends it: only the one that deletes it writes the event."""
    made = sign_in(accounts.store, "sam", PASSWORD, "192.0.2.1", accounts.clock.now())
    assert isinstance(made, users.Session)
    with UnitOfWork(accounts.store, write=False) as uow:
        found = user_store.session_of(uow.conn, digest(made.cookie))
    assert found is not None
    later = made.expires_at + timedelta(seconds=1)
    users._expired(accounts.store, found, later, "192.0.2.2")
    users._expired(accounts.store, found, later, "192.0.2.3")
    assert users.session(accounts.store, made.cookie, later, "192.0.2.4") is None
    assert [e[2:5] for e in _events(accounts)[2:]] == [
        ("signed_in", "coordinator:sam", "192.0.2.1"),
        ("session_expired", "coordinator:sam", "192.0.2.2"),
    ]


def _trusted(site: Site) -> WebConfig:
    return replace(_config(site), trusted_header=HEADER, trusted_proxies=(PEER,))


def test_a_trusted_header_sign_in_counts_once_per_eight_hours(accounts: Site) -> None:
    first = accounts.clock.now()
    named = {HEADER: "sam", "x-forwarded-for": "203.0.113.5"}
    with TestClient(create_app(_trusted(accounts)), base_url=BASE) as client:
        for minutes in (0, 1, 60, 7 * 60 + 59):
            accounts.clock.set(first + timedelta(minutes=minutes))
            page = client.get("/", headers=named)
            assert page.status_code == 200 and "sam (coordinator)" in page.text
        second = accounts.clock.advance(timedelta(minutes=1))
        assert client.get("/", headers=named).status_code == 200
        assert client.get("/", headers=named).status_code == 200
        assert client.get("/", headers={HEADER: "nobody"}, follow_redirects=False).status_code == 303
    detail = f"trusted header {HEADER}"
    assert _events(accounts)[2:] == [
        (first, "sam", "signed_in", "coordinator:sam", "203.0.113.5", detail),
        (second, "sam", "signed_in", "coordinator:sam", "203.0.113.5", detail),
    ]
    assert second - first == timedelta(hours=8)
    assert [a.last_login_at for a in users.list_users(accounts.store) if a.name == "sam"] == [second]


def test_no_event_holds_a_password_or_a_session_cookie(accounts: Site) -> None:
    client = accounts.client
    assert sign_in_page(client, "sam", "a-wrong-password-typed").status_code == 401
    assert sign_in_page(client, "sam").status_code == 303
    cookie = client.cookies[COOKIE]
    today = client.get("/")
    client.post("/logout", data={"csrf_token": form_tokens(today.text)[0]})
    assert sign_in_page(client, "vera").status_code == 303
    accounts.clock.advance(timedelta(hours=9))
    other = client.cookies[COOKIE]
    client.get("/")  # found expired
    secrets_ = (PASSWORD, "a-wrong-password-typed", cookie, other, digest(cookie), digest(other))
    stored = account_events(accounts.store)
    assert {e.kind for e in stored} == {
        "account_added", "sign_in_failed", "signed_in", "signed_out", "session_expired"
    }  # fmt: skip
    for event in stored:
        for value in (event.account, event.actor, event.address, event.detail):
            assert not any(secret in (value or "") for secret in secrets_), event
    with accounts.store.connect() as conn:
        rows = conn.execute(text("SELECT * FROM account_events")).all()
    assert not any(secret in str(row) for row in rows for secret in secrets_)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE account_events SET detail = 'changed'",
        "UPDATE account_events SET actor = 'someone else' WHERE kind = 'account_added'",
        "DELETE FROM account_events",
        "DELETE FROM account_events WHERE account = 'sam'",
    ],
)
def test_the_database_refuses_to_change_an_event(accounts: Site, statement: str) -> None:
    before = dump(accounts.store)
    with pytest.raises(DBAPIError, match="account events are append-only"), accounts.store.begin() as conn:
        conn.execute(text(statement))
    assert dump(accounts.store) == before
    assert len(before["account_events"]) == 2


def test_events_are_listed_newest_first_of_one_account_at_most_limit(store: Engine) -> None:
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    for minutes, name in enumerate(("ann", "bob", "ann", "cid")):
        add_user(store, f"{name}{minutes}" if name != "ann" else f"ann{minutes}", "viewer", PASSWORD,
                 at + timedelta(minutes=minutes))  # fmt: skip
    disable_user(store, "ann0", at + timedelta(minutes=10), actor="cli:x")
    assert [(e.account, e.kind) for e in account_events(store)] == [
        ("ann0", "account_disabled"), ("cid3", "account_added"), ("ann2", "account_added"),
        ("bob1", "account_added"), ("ann0", "account_added"),
    ]  # fmt: skip
    assert account_events(store, "ann0", 1) == [
        AccountEvent(at + timedelta(minutes=10), "ann0", "account_disabled", "cli:x", None,
                     "0 session(s) ended"),
    ]  # fmt: skip
    assert account_events(store, "nobody") == []
    with pytest.raises(Exception, match="limit"):
        account_events(store, None, 0)


# `mentorflow users events`, on the database of the e2e fixture `program`


def _record(database: Path, hostile: bool = False) -> datetime:
    """Through the services: a failed and a good sign-in to sam (added by the command) at known times;
    before them, if ``hostile``, a failure of a name full of escape sequences."""
    store = open_engine(f"sqlite:///{database}", create=False)
    at = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    try:
        if hostile:
            sign_in(store, HOSTILE, PASSWORD, "198.51.100.66", at - timedelta(days=1))
        sign_in(store, "sam", "wrong password, this", "198.51.100.9", at)
        assert isinstance(
            sign_in(store, "sam", PASSWORD, "198.51.100.9", at + timedelta(seconds=1)), users.Session
        )
    finally:
        store.dispose()
    return at


def _add_accounts(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert run("users", "add", "sam", "--role", "coordinator", "--password-stdin").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert run("users", "add", "vera", "--role", "viewer", "--password-stdin", "--actor", "alice").code == 0
    assert run("users", "disable", "vera").code == 0


def test_the_command_lists_the_events_as_json(
    run: Run,  # noqa: F811
    program: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _add_accounts(run, monkeypatch)
    at = _record(program)
    listed = run("users", "events", "--format", "json")
    assert listed.code == 0, listed.err
    events = json.loads(listed.out)
    assert [{k: v for k, v in e.items() if k != "at"} for e in events] == [
        {"account": "sam", "kind": "signed_in", "actor": "coordinator:sam", "address": "198.51.100.9",
         "detail": "password"},
        {"account": "sam", "kind": "sign_in_failed", "actor": "anonymous", "address": "198.51.100.9",
         "detail": "wrong password"},
        {"account": "vera", "kind": "account_disabled", "actor": "cli:tester", "address": None,
         "detail": "0 session(s) ended"},
        {"account": "vera", "kind": "account_added", "actor": "cli:alice", "address": None,
         "detail": "role viewer"},
        {"account": "sam", "kind": "account_added", "actor": "cli:tester", "address": None,
         "detail": "role coordinator"},
    ]  # fmt: skip
    assert [e["at"] for e in events[:2]] == ["2030-01-02T03:04:06.000000Z", "2030-01-02T03:04:05.000000Z"]
    added = [datetime.fromisoformat(e["at"]) for e in events[2:]]
    assert added == sorted(added, reverse=True) and all(a < at for a in added)
    assert PASSWORD not in listed.out
    only = json.loads(run("users", "events", "--account", "sam", "--limit", "2", "--format", "json").out)
    assert [(e["kind"], e["at"]) for e in only] == [
        ("signed_in", "2030-01-02T03:04:06.000000Z"), ("sign_in_failed", "2030-01-02T03:04:05.000000Z")
    ]  # fmt: skip


def test_the_command_lists_the_events_as_csv_and_as_a_table(
    run: Run,  # noqa: F811
    program: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _add_accounts(run, monkeypatch)
    _record(program)
    listed = run("users", "events", "--account", "sam", "--format", "csv")
    assert listed.code == 0, listed.err
    rows = list(csv.reader(io.StringIO(listed.out)))
    assert rows[0] == ["at", "account", "kind", "actor", "address", "detail"]
    assert rows[1:3] == [
        ["2030-01-02T03:04:06.000000Z", "sam", "signed_in", "coordinator:sam", "198.51.100.9", "password"],
        ["2030-01-02T03:04:05.000000Z", "sam", "sign_in_failed", "anonymous", "198.51.100.9",
         "wrong password"],
    ]  # fmt: skip
    assert [row[1:] for row in rows[3:]] == [["sam", "account_added", "cli:tester", "", "role coordinator"]]
    one = run("users", "events", "--limit", "1", "--format", "csv")
    assert list(csv.reader(io.StringIO(one.out)))[1:] == [rows[1]]
    table = run("users", "events", "--limit", "3")
    assert table.code == 0, table.err
    assert "account events: 3, newest first" in table.out
    lines = [line for line in table.out.splitlines() if "198.51.100.9" in line or "cli:tester" in line]
    assert len(lines) == 3
    assert "signed_in" in lines[0] and "password" in lines[0] and "2030-01-02 03:04" in lines[0]
    assert "sign_in_failed" in lines[1] and "wrong password" in lines[1]
    assert "account_disabled" in lines[2] and "vera" in lines[2]
    nothing = run("users", "events", "--account", "nobody")
    assert nothing.code == 0 and "no events of 'nobody'" in nothing.out


def test_the_command_refuses_a_bad_format_or_limit(
    run: Run,  # noqa: F811
    program: Path,  # noqa: F811
) -> None:
    assert run("users", "events").out.strip() == "no account events yet"
    for args, says in (
        (("--format", "xml"), "--format: 'xml' is not one of table, json, csv"),
        (("--limit", "0"), "--limit"),
    ):
        refused = run("users", "events", *args)
        assert refused.code == 2 and says in refused.err, refused.err
        assert "Traceback" not in refused.err and refused.out == ""


def test_the_command_writes_no_escape_sequence_a_name_typed_in(
    run: Run,  # noqa: F811
    program: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _add_accounts(run, monkeypatch)
    _record(program, hostile=True)
    shown = "\ufffd[2J\ufffd]0;owned\ufffd=cmd\ufffdsam signed_in\ufffd\ufffd"
    for format in ("table", "json", "csv"):
        listed = run("users", "events", "--format", format)
        assert listed.code == 0, listed.err
        assert not any(c in listed.out for c in "\x1b\x07\x00\u202e"), format
    table = run("users", "events", "--limit", "3").out
    rows_shown = [line for line in table.splitlines() if line.startswith("│")]
    assert len(rows_shown) == 3  # one line for each event: no line forged by a line break
    assert json.loads(run("users", "events", "--format", "json", "--limit", "3").out)[2]["account"] == shown
    rows = list(csv.reader(io.StringIO(run("users", "events", "--format", "csv", "--limit", "3").out)))
    assert rows[3][1:4] == [shown, "sign_in_failed", "anonymous"]
