"""The coordinator pages: today, matching, a relationship, the search; who may act, and how."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from engine.services.matching import proposals_of, propose
from engine.services.queries import history
from workflows.web import create_app
from workflows.web.config import WebConfig

from .conftest import BASE, COORDINATOR, KEYS, Site, dump, form_tokens, sign_in


@pytest.fixture
def proposed(accounts: Site) -> tuple[Site, int]:
    """The site with a matching run: the first relationship with a pending proposal."""
    run = propose(accounts.store, accounts.lifecycle, accounts.clock, actor="tester")
    pending = [row["relationship_id"] for row in run.rows if row["status"] == "pending"]
    assert pending, run.rows
    return accounts, pending[0]


def _token(site: Site, path: str = "/") -> str:
    return form_tokens(site.client.get(path).text)[0]


def test_today_names_the_overdue_pairs_and_counts_the_pending_proposals(proposed: tuple[Site, int]) -> None:
    site, _ = proposed
    sign_in(site.client, "vera")
    today = site.client.get("/")
    assert today.status_code == 200 and "matching proposal" in today.text and "pending" in today.text
    assert "Overdue" in today.text


def test_the_matching_page_explains_each_proposal(proposed: tuple[Site, int]) -> None:
    site, rel_id = proposed
    sign_in(site.client, "sam")
    page = site.client.get("/matching")
    row = next(r for r in proposals_of(site.store, rel_id) if r["status"] == "pending")
    assert page.status_code == 200 and f"Relationship {rel_id}" in page.text
    assert row["mentor_name"] in page.text and row["breakdown"]["criteria"][0]["label"] in page.text
    assert f'action="/matching/{rel_id}/approve"' in page.text


def test_a_coordinator_approves_and_the_history_names_the_account(proposed: tuple[Site, int]) -> None:
    site, rel_id = proposed
    sign_in(site.client, "sam")
    done = site.client.post(
        f"/matching/{rel_id}/approve", data={"csrf_token": _token(site, "/matching")}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    _, entries = history(site.store, rel_id)
    assert entries[-1].trigger == "match" and entries[-1].actor == "coordinator:sam"
    assert proposals_of(site.store, rel_id)[0]["decided_by"] == "coordinator:sam"


def test_a_coordinator_rejects_with_a_reason_and_not_without(proposed: tuple[Site, int]) -> None:
    site, rel_id = proposed
    sign_in(site.client, "sam")
    token = _token(site, "/matching")
    before = dump(site.store)
    blank = site.client.post(f"/matching/{rel_id}/reject", data={"csrf_token": token, "reason": " "})
    assert blank.status_code == 422 and "say why" in blank.text
    assert dump(site.store) == before
    done = site.client.post(
        f"/matching/{rel_id}/reject",
        data={"csrf_token": token, "reason": "same team"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    row = proposals_of(site.store, rel_id)[0]
    assert (row["status"], row["decided_by"], row["reason"]) == ("rejected", "coordinator:sam", "same team")


def test_a_viewer_reads_but_acting_is_refused_and_writes_nothing(proposed: tuple[Site, int]) -> None:
    site, rel_id = proposed
    sign_in(site.client, "vera")
    page = site.client.get("/matching")
    assert page.status_code == 200 and "/approve" not in page.text
    token = form_tokens(page.text)[0]
    before = dump(site.store)
    for path, data in (
        (f"/matching/{rel_id}/approve", {}),
        (f"/matching/{rel_id}/reject", {"reason": "no"}),
        (f"/relationships/{site.rels['kickoff']}/replace", {"mentor": "E1005", "reason": "better"}),
    ):
        refused = site.client.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 403 and "not act" in refused.text, path
    assert dump(site.store) == before


def test_a_form_without_the_sessions_token_is_refused(proposed: tuple[Site, int]) -> None:
    site, rel_id = proposed
    sign_in(site.client, "sam")
    token = _token(site, "/matching")
    before = dump(site.store)
    cases = [
        ({}, {}),
        ({"csrf_token": "forged"}, {}),
        ({"csrf_token": token}, {"origin": "https://evil.example"}),
    ]
    for data, headers in cases:
        refused = site.client.post(f"/matching/{rel_id}/approve", data=data, headers=headers)
        assert refused.status_code == 403 and "not sent from its page" in refused.text
    assert site.client.post("/logout", data={}).status_code == 403
    assert dump(site.store) == before


def test_an_unauthenticated_post_is_refused_and_writes_nothing(proposed: tuple[Site, int]) -> None:
    site, rel_id = proposed
    before = dump(site.store)
    refused = site.client.post(f"/matching/{rel_id}/approve", data={"csrf_token": "x"})
    assert refused.status_code == 401 and 'name="password"' in refused.text
    api = site.client.post(f"/matching/{rel_id}/approve", headers={"accept": "application/json"})
    assert api.status_code == 401
    assert dump(site.store) == before


def test_the_relationship_page_shows_history_verify_and_replaces_a_mentor(accounts: Site) -> None:
    site, rel_id = accounts, accounts.rels["kickoff"]
    sign_in(site.client, "sam")
    page = site.client.get(f"/relationships/{rel_id}")
    assert page.status_code == 200 and "Verified:" in page.text and "Tomasz Kowalski" in page.text
    assert "schedule_kickoff" in page.text and "Messages and links" in page.text
    token = form_tokens(page.text)[0]
    form = {"csrf_token": token, "mentor": "E1005", "reason": "a better fit"}
    done = site.client.post(f"/relationships/{rel_id}/replace", data=form, follow_redirects=False)
    assert done.status_code == 303
    _, entries = history(site.store, rel_id)
    assert entries[-1].actor == "coordinator:sam" and entries[-1].reason == "a better fit"
    assert site.client.get("/relationships/99999").status_code == 404


def test_the_search_finds_a_participant_by_name_or_id(accounts: Site) -> None:
    sign_in(accounts.client, "vera")
    by_name = accounts.client.get("/search", params={"q": "tomasz"})
    assert by_name.status_code == 200 and "Tomasz Kowalski" in by_name.text
    assert f'href="/relationships/{accounts.rels["kickoff"]}"' in by_name.text
    assert "Nobody matches" in accounts.client.get("/search", params={"q": "zzz-nobody"}).text


def _trusted(site: Site) -> TestClient:
    config = WebConfig(site.store, site.policy, KEYS, BASE, COORDINATOR, site.clock)
    config = replace(config, trusted_header="X-Forwarded-User", trusted_proxies=("testclient",))
    return TestClient(create_app(config), base_url=BASE)


def test_a_trusted_proxys_header_signs_in_an_enabled_account_only(accounts: Site) -> None:
    with _trusted(accounts) as client:
        assert client.get("/", headers={"x-forwarded-user": "sam"}).status_code == 200
        for name in ("nobody", ""):
            assert (
                client.get("/", headers={"x-forwarded-user": name}, follow_redirects=False).status_code == 303
            )
    config = WebConfig(accounts.store, accounts.policy, KEYS, BASE, COORDINATOR, accounts.clock)
    with TestClient(create_app(config), base_url=BASE) as plain:
        assert plain.get("/", headers={"x-forwarded-user": "sam"}, follow_redirects=False).status_code == 303


def test_a_trusted_header_from_another_address_is_ignored(accounts: Site) -> None:
    config = WebConfig(accounts.store, accounts.policy, KEYS, BASE, COORDINATOR, accounts.clock)
    config = replace(config, trusted_header="X-Forwarded-User", trusted_proxies=("10.0.0.1",))
    with TestClient(create_app(config), base_url=BASE) as client:
        assert client.get("/", headers={"x-forwarded-user": "sam"}, follow_redirects=False).status_code == 303
