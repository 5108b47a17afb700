"""Signing in to the coordinator pages: sessions, the login form's token, the limit on failures."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect

from engine.services.users import disable_user, list_users
from engine.store.database import SCHEMA_REVISION, initialise, migrate, schema_revision
from workflows.web import create_app
from workflows.web.config import WebConfig

from .conftest import BASE, COORDINATOR, KEYS, PASSWORD, Site, dump, form_tokens, sign_in


def test_without_a_session_the_console_shows_no_data(accounts: Site) -> None:
    client = accounts.client
    for path in ("/", "/matching", f"/relationships/{accounts.rels['survey']}", "/search?q=Priya"):
        browser = client.get(path, follow_redirects=False)
        assert browser.status_code == 303 and browser.headers["location"] == "/login", path
        api = client.get(path, headers={"accept": "application/json"})
        assert api.status_code == 401 and "Priya" not in api.text, path
    page = client.get("/")
    assert page.status_code == 200 and 'name="password"' in page.text and "Priya" not in page.text


def test_a_coordinator_signs_in_and_out(accounts: Site) -> None:
    client = accounts.client
    done = sign_in(client, "sam")
    assert done.status_code == 303 and done.headers["location"] == "/"
    cookie = done.headers["set-cookie"]
    assert "mentorflow_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    assert "samesite=lax" in cookie.lower()
    today = client.get("/")
    assert today.status_code == 200 and "Overdue" in today.text and "sam (coordinator)" in today.text
    assert today.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in today.headers["content-security-policy"]
    assert "<script" not in today.text
    assert [a.last_login_at for a in list_users(accounts.store) if a.name == "sam"] == [accounts.clock.now()]
    token = form_tokens(today.text)[0]
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_not_secure_over_plain_http(accounts: Site) -> None:
    config = WebConfig(
        accounts.store, accounts.policy, KEYS, "http://localhost:8000", COORDINATOR, accounts.clock
    )
    with TestClient(create_app(config), base_url="http://localhost:8000") as client:
        done = sign_in(client, "sam")
    assert done.status_code == 303 and "Secure" not in done.headers["set-cookie"]


def test_a_wrong_password_or_an_unknown_account_is_refused_alike(accounts: Site) -> None:
    for name, password in (("sam", "not-the-password"), ("nobody", PASSWORD)):
        refused = sign_in(accounts.client, name, password)
        assert refused.status_code == 401 and "The name or the password is wrong." in refused.text
        assert "mentorflow_session=" not in refused.headers.get("set-cookie", "")


def test_a_login_form_without_its_token_is_refused(accounts: Site) -> None:
    before = dump(accounts.store)
    accounts.client.get("/login")
    for data in (
        {"name": "sam", "password": PASSWORD},
        {"login_token": "x", "name": "sam", "password": PASSWORD},
    ):
        refused = accounts.client.post("/login", data=data, follow_redirects=False)
        assert refused.status_code == 403
    assert dump(accounts.store) == before


def test_five_failures_lock_the_account_for_fifteen_minutes(accounts: Site) -> None:
    for _ in range(4):
        assert sign_in(accounts.client, "sam", "wrong-password").status_code == 401
    fifth = sign_in(accounts.client, "sam", "wrong-password")
    assert fifth.status_code == 401 and "locked for 15 minutes" in fifth.text
    before = dump(accounts.store)
    locked = sign_in(accounts.client, "sam")  # the right password, unchecked
    assert locked.status_code == 429 and "locked for 15 minutes, until" in locked.text
    assert dump(accounts.store) == before
    accounts.clock.advance(timedelta(minutes=15, seconds=1))
    assert sign_in(accounts.client, "sam").status_code == 303


def test_failures_from_one_address_lock_every_account_from_it(accounts: Site) -> None:
    for name in ("a1", "a2", "a3", "a4", "a5"):
        sign_in(accounts.client, name, "wrong-password")
    assert sign_in(accounts.client, "vera").status_code == 429


def test_a_disabled_accounts_session_ends_at_once(accounts: Site) -> None:
    assert sign_in(accounts.client, "sam").status_code == 303
    assert accounts.client.get("/").status_code == 200
    disable_user(accounts.store, "sam")
    assert accounts.client.get("/", follow_redirects=False).status_code == 303
    assert sign_in(accounts.client, "sam").status_code == 401


def test_the_migration_adds_the_account_tables_and_goes_back(store: Engine) -> None:
    tables = {"users", "web_sessions", "login_failures"}
    assert schema_revision(store) == SCHEMA_REVISION
    assert tables <= set(inspect(store).get_table_names())
    migrate(store, "downgrade", "0009")
    assert not tables & set(inspect(store).get_table_names())
    initialise(store)
    assert tables <= set(inspect(store).get_table_names())


def test_behind_a_trusted_proxy_the_limit_counts_the_client_it_names(accounts: Site) -> None:
    """Five failures from one client behind the proxy lock that client, not everyone the proxy serves;
    an X-Forwarded-For from a peer that is not a trusted proxy counts as that peer."""
    config = WebConfig(accounts.store, accounts.policy, KEYS, BASE, COORDINATOR, accounts.clock)
    behind = replace(config, trusted_proxies=("testclient",))
    with TestClient(create_app(behind), base_url=BASE) as client:
        for name in ("a1", "a2", "a3", "a4", "a5"):
            sign_in(client, name, "wrong-password", headers={"x-forwarded-for": "203.0.113.7"})
        assert sign_in(client, "vera", headers={"x-forwarded-for": "203.0.113.7"}).status_code == 429
        assert sign_in(client, "vera", headers={"x-forwarded-for": "203.0.113.8"}).status_code == 303
    with TestClient(create_app(config), base_url=BASE) as direct:  # no trusted proxy
        for name in ("b1", "b2", "b3", "b4", "b5"):
            sign_in(direct, name, "wrong-password", headers={"x-forwarded-for": f"198.51.100.{len(name)}"})
        assert sign_in(direct, "sam", headers={"x-forwarded-for": "192.0.2.1"}).status_code == 429
