"""What every response carries: security headers, no cookies, no script; logs without tokens; the
address without a purpose; a site under a path; the texts in both languages."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from engine.services.links import issue_link
from workflows.web import create_app
from workflows.web.config import WebConfig
from workflows.web.texts import REFUSALS_NL, TEXTS

from .conftest import COORDINATOR, KEYS, Site


def _paths(site: Site) -> dict[str, int]:
    survey = site.link("survey", "mentee", "survey")
    return {
        survey: 200, site.link("kickoff", "mentee", "meeting"): 200,
        site.link("survey", "mentee", "help"): 200, site.link("training", "mentor", "training"): 200,
        site.link("kickoff", "mentor", "kickoff"): 200,
        survey[:-3]: 400, "/l/help/x": 400, "/nothing-here": 404, "/healthz": 200,
    }  # fmt: skip


def test_every_response_carries_the_security_headers_and_no_cookie(site: Site) -> None:
    for path, status in _paths(site).items():
        response = site.client.get(path)
        assert response.status_code == status, path
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
        assert "unsafe-inline" not in csp and "form-action 'self'" in csp
        assert headers["referrer-policy"] == "same-origin" and headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
        assert headers["strict-transport-security"].startswith("max-age=")  # served over https
        assert "set-cookie" not in headers and "server" not in {k.lower() for k in headers}
        if headers["content-type"].startswith("text/html"):
            assert "<script" not in response.text and " style=" not in response.text, path
    posted = site.client.post(site.link("survey", "mentee", "survey"), data={"satisfaction": "1"})
    assert posted.status_code == 403 and posted.headers["cache-control"] == "no-store"


def test_the_console_sets_only_its_own_strict_cookies_and_the_same_headers(site: Site) -> None:
    """``/`` is the coordinators' console: without a session, the login page, whose form token's cookie is
    HttpOnly, Secure and SameSite; the security headers are those of every page."""
    response = site.client.get("/")
    assert response.status_code == 200 and 'name="password"' in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("mentorflow_login=") and "HttpOnly" in cookie and "Secure" in cookie
    assert "samesite=lax" in cookie.lower() and response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "<script" not in response.text and " style=" not in response.text


def test_the_stylesheet_may_be_cached_and_is_the_only_resource(site: Site) -> None:
    css = site.client.get("/static/site.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert css.headers["cache-control"] == "public, max-age=3600"
    assert css.headers["x-content-type-options"] == "nosniff" and ":focus-visible" in css.text


def test_the_access_log_names_the_page_never_the_token(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    path = site.link("survey", "mentee", "survey")
    token = path.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="mentorflow.web"):
        site.client.get(path)
        site.client.post(path, data={"satisfaction": "9"})
        site.client.get(f"/l/{token}/survey")  # a token where the purpose goes
        site.client.get(f"/l/{token}")
    lines = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("GET /l/survey/{token} 200 ") for line in lines), lines
    assert any(line.startswith("POST /l/survey/{token} 403 ") for line in lines), lines
    assert any(line.startswith("GET /l/{purpose}/{token} 404 ") for line in lines), lines
    assert all(token not in line and token[:20] not in line for line in lines)


def test_an_address_without_a_purpose_goes_on_to_its_page(site: Site) -> None:
    path = site.link("survey", "mentee", "meeting")
    token = path.rsplit("/", 1)[1]
    moved = site.client.get(f"/l/{token}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/l/meeting/{token}"
    assert moved.headers["referrer-policy"] == "same-origin"
    assert site.client.get(f"/l/{token[:-2]}", follow_redirects=False).status_code == 400


def test_a_site_under_a_path_serves_its_pages_there(site: Site) -> None:
    base = "https://intranet.example.com/mentoring"
    config = WebConfig(site.store, site.policy, KEYS, base, COORDINATOR, site.clock)
    url = issue_link(site.store, site.rels["survey"], "mentee", "help", site.clock.now(), KEYS, base,
                     terminal=site.policy.terminal_phases).url  # fmt: skip
    with TestClient(create_app(config), base_url="https://intranet.example.com") as client:
        page = client.get(url)
        assert page.status_code == 200 and 'href="/mentoring/static/site.css"' in page.text
        assert client.get("/mentoring/static/site.css").status_code == 200
        assert client.get(url.replace("/mentoring", "")).status_code == 404


def test_both_languages_have_every_text() -> None:
    assert set(TEXTS["en"]) == set(TEXTS["nl"])
    assert set(REFUSALS_NL) == {
        key.removeprefix("refusal_") for key in TEXTS["en"] if key.startswith("refusal_")
    }
    for language, texts in TEXTS.items():
        assert len(texts["months"].split()) == 12, language
