"""The console's policy page: a new version's plan (nothing written), its application by a coordinator,
and a server that changes nothing once the version it runs is no longer in force."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.services import queries
from engine.services.policy_apply import applications, version_in_force
from engine.services.users import add_user
from tests.integration.support import (
    paused_first_pair,
    without_paused_text,
)
from workflows.web import create_app
from workflows.web.config import WebConfig

from .conftest import BASE, COORDINATOR, KEYS, PASSWORD, Site, dump, form_tokens, sign_in

_HIDDEN_TEXT = re.compile(r'<input type="hidden" name="policy_text" value="([^"]*)">')


@pytest.fixture
def paused(store: Engine, clock: SimulatedClock) -> Iterator[Site]:
    """The example mentees under with-pause (version 2), the first pair paused; accounts ``sam``
    (coordinator) and ``vera`` (viewer)."""
    policy, rels = paused_first_pair(store, clock)
    clock.advance(timedelta(days=3))
    add_user(store, "sam", "coordinator", PASSWORD, clock.now())
    add_user(store, "vera", "viewer", PASSWORD, clock.now())
    config = WebConfig(store, policy, KEYS, BASE, COORDINATOR, clock)
    with TestClient(create_app(config), base_url=BASE, raise_server_exceptions=True) as client:
        yield Site(store, policy, Lifecycle(policy), clock, client, {"paused": rels[0], "intake": rels[3]})


def _signed_in(site: Site, name: str) -> str:
    """Sign ``name`` in; the session's form token."""
    assert sign_in(site.client, name).status_code == 303
    page = site.client.get("/console/policy")
    assert page.status_code == 200, page.text
    return form_tokens(page.text)[0]


def _plan(site: Site, token: str, text: str, name: str = "with-pause-v2.yaml") -> Any:
    files = {"policy_file": (name, text.encode(), "application/yaml")}
    return site.client.post("/console/policy/plan", data={"csrf_token": token}, files=files)


def _apply(site: Site, token: str, text: str, **fields: str) -> Any:
    data = {"csrf_token": token, "policy_name": "with-pause-v2.yaml", "policy_text": text, **fields}
    return site.client.post("/console/policy/apply", data=data, files={"none": ("", b"")})


def test_a_viewer_sees_the_policy_but_may_not_plan_or_apply(paused: Site) -> None:
    token = _signed_in(paused, "vera")
    page = paused.client.get("/console/policy")
    assert "with-pause" in page.text and paused.policy.digest[:19] in page.text
    assert 'action="/console/policy/plan"' not in page.text
    assert 'href="/console/policy"' in page.text  # the navigation
    before = dump(paused.store)

    assert _plan(paused, token, without_paused_text()).status_code == 403
    assert _apply(paused, token, without_paused_text(), **{"map:paused": "active"}).status_code == 403
    assert dump(paused.store) == before


def test_an_invalid_file_lists_its_problems_by_line_and_writes_nothing(paused: Site) -> None:
    token = _signed_in(paused, "sam")
    before = dump(paused.store)
    broken = without_paused_text().replace("version: 3", "version: 3\nphases_typo: {}")

    refused = _plan(paused, token, broken, "broken.yaml")

    assert refused.status_code == 422
    assert re.search(r"broken\.yaml:\d+: ", html.unescape(refused.text)), refused.text
    other = _plan(paused, token, without_paused_text().replace("policy: with-pause", "policy: other"))
    assert other.status_code == 422 and "keeps `policy: with-pause`" in html.unescape(other.text)
    assert dump(paused.store) == before


def test_the_plan_lists_the_stranded_pair_and_writes_nothing(paused: Site) -> None:
    token = _signed_in(paused, "sam")
    before = dump(paused.store)

    shown = _plan(paused, token, without_paused_text())

    assert shown.status_code == 200, shown.text
    text = html.unescape(shown.text)
    assert "phase paused removed" in text
    assert "In paused (1)" in text and f'href="/relationships/{paused.rels["paused"]}"' in text
    assert "Not safe" in text and "would be stranded" in text
    assert 'name="map:paused"' in text and "Under the current one" in text
    assert html.unescape(_HIDDEN_TEXT.findall(shown.text)[0]) == without_paused_text()
    assert dump(paused.store) == before


def test_apply_without_a_mapping_is_refused_then_with_one_it_applies(paused: Site) -> None:
    token = _signed_in(paused, "sam")
    text = html.unescape(_HIDDEN_TEXT.findall(_plan(paused, token, without_paused_text()).text)[0])
    before = dump(paused.store)

    refused = _apply(paused, token, text, reason="pause retired")
    assert refused.status_code == 422 and "stranded" in refused.text
    wrong = _apply(paused, token, text, **{"map:paused": "holiday"})
    assert wrong.status_code == 422 and "holiday" in wrong.text
    assert dump(paused.store) == before

    done = _apply(paused, token, text, reason="pause retired", **{"map:paused": "active"})

    assert done.status_code == 200, done.text
    assert "paused → active" in done.text and "restart" in done.text
    (applied,) = applications(paused.store, "with-pause")
    assert applied.applied_by == "coordinator:sam" and applied.mapping == {"paused": "active"}
    assert applied.reason == "pause retired" and applied.relationships > 0
    assert version_in_force(paused.store, "with-pause") == applied.to_digest
    assert not queries.verify(paused.store).problems


def test_after_an_apply_the_server_changes_nothing_but_still_shows_pages(paused: Site) -> None:
    token = _signed_in(paused, "sam")
    done = _apply(paused, token, without_paused_text(), **{"map:paused": "active"})
    assert done.status_code == 200, done.text
    link = paused.link("paused", "mentee", "help")
    form = paused.hidden(link)  # the page still opens
    before = dump(paused.store)

    console = paused.client.post(
        f"/relationships/{paused.rels['intake']}/revoke", data={"csrf_token": token, "reason": "x"}
    )
    assert console.status_code == 409 and "Restart `mentorflow web`" in html.unescape(console.text)
    posted = paused.client.post(link, data={**form, "wish": "call", "note": "please call"})
    assert posted.status_code == 409 and "rules were changed" in html.unescape(posted.text)
    again = _plan(paused, token, without_paused_text())
    assert again.status_code == 409
    assert dump(paused.store) == before
    assert paused.client.get("/console/policy").status_code == 200
    assert paused.client.get(f"/relationships/{paused.rels['paused']}").status_code == 200
