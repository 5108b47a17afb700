"""Every refusal is a plain page with its status that says what to do, and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.delivery.links import LINK_LIFETIME
from engine.domain.lifecycle import Lifecycle
from engine.services.erasure import ErasureRequest, erase_participant
from engine.services.links import revoke_links
from engine.services.replacing import ReplaceRequest, replace_mentor
from workflows.web.forms import form_token

from .conftest import KEYS, Site, dump

ANSWERS = {
    "satisfaction": "4",
    "recommend": "8",
    "met_regularly": "no",
    "goals.0": "partly",
    "goals.1": "partly",
}


def _token(path: str) -> str:
    return path.rsplit("/", 1)[1]


def _refused(site: Site, path: str, status: int, says: str, data: dict[str, str] | None = None) -> None:
    """GET and POST of ``path`` are refused with ``status``, the page saying ``says``; nothing written."""
    before = dump(site.store)
    form = {"form_token": form_token(KEYS, _token(path)), **ANSWERS, **(data or {})}
    for response in (site.client.get(path), site.client.post(path, data=form)):
        assert response.status_code == status, (response.request.method, response.text[-800:])
        assert says in response.text
        assert "<form" not in response.text and response.headers["cache-control"] == "no-store"
    assert dump(site.store) == before


def test_a_changed_or_cut_token_is_tampered(site: Site) -> None:
    path = site.link("survey", "mentee", "survey")
    changed = path[:-1] + ("A" if path[-1] != "A" else "B")
    _refused(site, changed, 400, "incomplete or was changed")
    _refused(site, path[: len(path) - 20], 400, "incomplete or was changed")
    _refused(site, "/l/survey/not-a-token", 400, "incomplete or was changed")


def test_an_expired_link_is_gone(site: Site) -> None:
    path = site.link("survey", "mentee", "survey")
    site.clock.advance(LINK_LIFETIME + timedelta(seconds=1))
    _refused(site, path, 410, "This link has expired")


def test_the_policy_sets_how_long_a_link_opens(site: Site) -> None:
    """``links: {expire_after: 14 days}``: the survey link is gone after 14 days, the page says so in the
    participant's words, and nothing is written; the same link opened within the fortnight works."""
    from fastapi.testclient import TestClient

    from engine.policy.durations import Duration
    from engine.policy.links import LinkRules
    from workflows.web import create_app
    from workflows.web.config import WebConfig

    from .conftest import BASE, COORDINATOR

    policy = site.policy.model_copy(update={"links": LinkRules(expire_after=Duration(seconds=14 * 86400))})
    config = WebConfig(site.store, policy, KEYS, BASE, COORDINATOR, site.clock)
    path = site.link("survey", "mentee", "survey")
    with TestClient(create_app(config), base_url=BASE) as client:
        site.clock.advance(timedelta(days=13))
        assert client.get(path).status_code == 200
        site.clock.advance(timedelta(days=1, seconds=1))
        before = dump(site.store)
        gone = client.get(path)
        assert gone.status_code == 410 and "This link has expired" in gone.text
        assert dump(site.store) == before
    assert site.client.get(path).status_code == 200  # under the default 30 days it still opens


def test_a_revoked_link_is_gone(site: Site) -> None:
    path = site.link("survey", "mentee", "survey")
    site.clock.advance(timedelta(seconds=1))
    revoke_links(site.store, site.clock.now(), "coordinator", relationship=site.rels["survey"])
    _refused(site, path, 410, "This link was withdrawn")


def test_an_erased_person_s_links_are_gone(site: Site) -> None:
    path = site.link("survey", "mentee", "survey")
    site.clock.advance(timedelta(seconds=1))
    request = ErasureRequest("priya.raman@example.com", "request 17", "dpo", close=True)
    erase_participant(site.store, Lifecycle(site.policy), site.clock, request)
    _refused(site, path, 410, "This link was withdrawn")


def test_a_path_whose_purpose_is_not_the_tokens_is_the_wrong_purpose(site: Site) -> None:
    meeting = site.link("survey", "mentee", "meeting")
    _refused(site, meeting.replace("/l/meeting/", "/l/survey/"), 403, "for another page")
    survey = site.link("survey", "mentee", "survey")
    _refused(site, survey.replace("/l/survey/", "/l/training/"), 403, "for another page")


def test_a_link_of_someone_no_longer_in_the_pair_is_the_wrong_person(site: Site) -> None:
    path = site.link("kickoff", "mentor", "meeting")
    replace_mentor(site.store, site.policy, site.clock,
                   ReplaceRequest(site.rels["kickoff"], "E1005", "a better fit", "coordinator"))  # fmt: skip
    _refused(site, path, 403, "no longer in this mentoring pair", {"held_on": "2026-01-05", "kind": "group"})


def test_an_unknown_page_is_not_found(site: Site) -> None:
    token = _token(site.link("survey", "mentee", "survey"))
    _refused(site, f"/l/poll/{token}", 404, "There is no page at this address")
    before = dump(site.store)
    for path in ("/l/survey/a/b", "/admin", "/docs", "/openapi.json"):
        assert site.client.get(path).status_code == 404, path
    assert dump(site.store) == before


@pytest.mark.parametrize(
    ("headers", "form_token_of"),
    [
        ({}, None),  # no form token at all
        ({}, "another link"),
        ({"origin": "https://evil.example.net"}, "this link"),
        ({"sec-fetch-site": "cross-site"}, "this link"),
        ({"sec-fetch-site": "same-site"}, "this link"),
        ({"origin": "null"}, "this link"),  # an opaque origin the browser does not vouch for
        ({"origin": "null", "sec-fetch-site": "cross-site"}, "this link"),
    ],
)
def test_a_form_not_sent_from_its_page_is_refused(
    site: Site, headers: dict[str, str], form_token_of: str | None
) -> None:
    path = site.link("survey", "mentee", "survey")
    other = site.link("survey", "mentor", "survey")
    data = dict(ANSWERS)
    if form_token_of is not None:
        data["form_token"] = form_token(KEYS, _token(path if form_token_of == "this link" else other))
    before = dump(site.store)
    refused = site.client.post(path, data=data, headers=headers)
    assert refused.status_code == 403 and "was not sent from the page of your link" in refused.text
    assert dump(site.store) == before


@pytest.mark.parametrize("origin", ["https://mentoring.example.com", "null"])
def test_a_form_from_the_sites_own_origin_is_accepted(site: Site, origin: str) -> None:
    """``null``: the browser hid the origin (a stricter referrer policy) but says it is the same."""
    path = site.link("survey", "mentee", "survey")
    headers = {"origin": origin, "sec-fetch-site": "same-origin"}
    assert site.post(path, ANSWERS, **headers).status_code == 200


def test_an_oversized_form_is_refused_unread(site: Site) -> None:
    path = site.link("survey", "mentee", "survey")
    before = dump(site.store)
    big = site.client.post(path, data={**site.hidden(path), **ANSWERS, "comments": "x" * 70_000})
    assert big.status_code == 413
    assert dump(site.store) == before


def test_a_refusal_is_in_the_browsers_language_when_the_page_knows_nobody(site: Site) -> None:
    refused = site.client.get("/l/survey/not-a-token", headers={"accept-language": "nl-NL,nl;q=0.9,en;q=0.5"})
    assert refused.status_code == 400 and '<html lang="nl">' in refused.text and "onvolledig" in refused.text
    assert '<html lang="en">' in site.client.get("/l/survey/x", headers={"accept-language": "de, fr"}).text
