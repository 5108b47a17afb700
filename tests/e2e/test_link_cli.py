"""`mentorflow link`: a fresh personal link printed, links revoked, and bad input refused with exit 2."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.delivery.links import Refusal
from engine.services.links import OpenedLink, open_link
from engine.store.database import open_engine
from tests.e2e.conftest import Run, snapshot

# relationship 1: Zoë Çelik (E1101), matched to Fatima El Amrani (E1002) by `program`; 2: Thijs, in intake
KEY = "a-link-key-for-the-tests-" + "x" * 20
BASE = "https://mentoring.example.com"


@pytest.fixture
def web(program: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The program, with [web] in mentorflow.toml: the address and one key."""
    monkeypatch.delenv("MENTORFLOW_LINK_KEYS", raising=False)
    (program.parent / "mentorflow.toml").write_text(
        f'[web]\nbase_url = "{BASE}"\nsecret_keys = ["{KEY}"]\n', encoding="utf-8"
    )
    return program


def _opened(db: Path, url: str, purpose: str) -> OpenedLink | Refusal:
    store = open_engine(f"sqlite:///{db}", create=False)
    try:
        return open_link(store, url.rsplit("/", 1)[1], purpose, datetime.now(UTC), (KEY,))
    finally:
        store.dispose()


def test_link_prints_a_fresh_link_that_opens_and_writes_nothing(run: Run, web: Path) -> None:
    before = snapshot(web)
    printed = run("link", "1", "--for", "mentor", "--purpose", "meeting")
    assert printed.code == 0, printed.err
    url = printed.out.strip()
    assert url.startswith(f"{BASE}/l/") and len(printed.out.splitlines()) == 1
    for private in ("Fatima", "fatima", "E1002", "Zo", "E1101"):
        assert private not in url
    opened = _opened(web, url, "meeting")
    assert isinstance(opened, OpenedLink) and (opened.relationship_id, opened.role) == (1, "mentor")
    assert snapshot(web) == before

    shown = run("link", "issue", "1", "--for", "mentee", "--purpose", "survey", "--json")
    assert shown.code == 0, shown.err
    document = json.loads(shown.out)
    assert (document["relationship"], document["for"], document["purpose"]) == (1, "mentee", "survey")
    assert document["url"].startswith(f"{BASE}/l/") and document["expires_at"] > document["issued_at"]


def test_link_revoke_withdraws_a_relationships_or_a_persons_links(run: Run, web: Path) -> None:
    pair_link = run("link", "1", "--for", "mentee", "--purpose", "help").out.strip()
    mentor_link = run("link", "1", "--for", "mentor", "--purpose", "help").out.strip()
    by_pair = run("link", "revoke", "--relationship", "1", "--reason", "resent by hand")
    assert by_pair.code == 0, by_pair.err
    assert "links of relationship 1 issued until now are revoked (by tester)" in by_pair.out
    assert _opened(web, pair_link, "help") == Refusal("revoked")
    assert _opened(web, mentor_link, "help") == Refusal("revoked")
    again = run("link", "1", "--for", "mentee", "--purpose", "help").out.strip()
    assert isinstance(_opened(web, again, "help"), OpenedLink)
    by_person = run("link", "revoke", "--participant", "E1101")
    assert by_person.code == 0, by_person.err
    assert _opened(web, again, "help") == Refusal("revoked")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["link", "1", "--for", "boss", "--purpose", "help"], "--for: 'boss' is not one of mentee, mentor"),
        (["link", "1", "--for", "mentee", "--purpose", "party"], "--purpose: 'party' is not one of survey"),
        (["link", "1", "--purpose", "help"], "Missing option '--for'"),
        (["link", "x", "--for", "mentee", "--purpose", "help"], "Invalid value for 'REL': 'x'"),
        (["link", "2", "--for", "mentor", "--purpose", "help"], "relationship 2 has no mentor yet"),
        (["link", "99", "--for", "mentee", "--purpose", "help"], "no relationship 99"),
        (["link", "revoke"], "give --relationship REL or --participant ID (one of them)"),
        (["link", "revoke", "--relationship", "1", "--participant", "E1101"], "(one of them)"),
        (["link", "revoke", "--participant", "E9999"], "no participant 'E9999'"),
        (["link", "revoke", "--relationship", "99"], "no relationship 99"),
    ],
)
def test_bad_input_exits_2_naming_the_option_and_writes_nothing(
    run: Run, web: Path, args: list[str], message: str
) -> None:
    before = snapshot(web)
    done = run(*args)
    assert done.code == 2, done
    assert message in done.err
    assert "Traceback" not in done.err + done.out
    assert snapshot(web) == before


def test_missing_or_short_keys_and_address_are_named(
    run: Run, web: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = web.parent / "mentorflow.toml"
    settings.write_text(f'[web]\nbase_url = "{BASE}"\n', encoding="utf-8")
    no_key = run("link", "1", "--for", "mentee", "--purpose", "help")
    assert no_key.code == 2 and "set secret_keys under [web]" in no_key.err
    assert "MENTORFLOW_LINK_KEYS" in no_key.err
    monkeypatch.setenv("MENTORFLOW_LINK_KEYS", "too-short")
    short = run("link", "1", "--for", "mentee", "--purpose", "help")
    assert short.code == 2 and "MENTORFLOW_LINK_KEYS: key 1 is 9 characters long" in short.err
    monkeypatch.setenv("MENTORFLOW_LINK_KEYS", KEY)
    settings.write_text("", encoding="utf-8")
    no_address = run("link", "1", "--for", "mentee", "--purpose", "help")
    assert no_address.code == 2 and "set base_url under [web]" in no_address.err
    assert no_key.out == short.out == no_address.out == ""
