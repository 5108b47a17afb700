"""The participant pages over HTTP (FastAPI's TestClient), on a program with a pair in each state.

Relationship ``survey`` (Priya Raman, E1110, who reads English) and ``dutch`` (Zoë Çelik, E1101,
Dutch) are in review, the final survey sent; ``kickoff`` (Tomasz Kowalski, English) waits for its
kickoff with a trained mentor (Marieke de Vries, Dutch); ``training`` (Sanne Visser) is matched to a
mentor who has not had the training (Søren Ødegaard); ``intake`` (Lotte Smit) has no mentor yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services.links import issue_link
from engine.store.tables import metadata
from tests.integration.support import TRAINED_MENTOR, UNTRAINED_MENTOR, fire, import_examples, to_review
from workflows.web import create_app
from workflows.web.config import Program, WebConfig

KEYS = ("a-key-for-the-web-tests-" + "w" * 24,)
BASE = "https://mentoring.example.com"
COORDINATOR = Program(
    name="Mentoring program", coordinator_name="Sam de Wit", coordinator_email="mentoring@example.com",
    language="en", timezone="Europe/Amsterdam",
)  # fmt: skip
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def dump(store: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: a refused page must leave them all as they were."""
    with store.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in metadata.sorted_tables
        }


@dataclass
class Site:
    store: Engine
    policy: Policy
    lifecycle: Lifecycle
    clock: SimulatedClock
    client: TestClient
    rels: dict[str, int]

    def link(self, pair: str, role: str, purpose: str, **extra: Any) -> str:
        """The path of a fresh link for ``role`` of the ``pair``, issued now."""
        made = issue_link(
            self.store, self.rels[pair], role, purpose, self.clock.now(), KEYS, BASE,
            terminal=self.policy.terminal_phases, **extra,
        )  # fmt: skip
        assert made.url.startswith(f"{BASE}/l/{purpose}/")
        return made.url.removeprefix(BASE)

    def hidden(self, path: str) -> dict[str, str]:
        """The hidden fields of the form on the page at ``path`` (its form token, its survey)."""
        page = self.client.get(path)
        assert page.status_code == 200, page.text
        return dict(_HIDDEN.findall(page.text))

    def post(self, path: str, data: dict[str, str], **headers: str) -> Any:
        return self.client.post(path, data={**self.hidden(path), **data}, headers=headers)


@pytest.fixture
def site(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> Iterator[Site]:
    rels = import_examples(store, policy, clock)
    named = {"dutch": rels[0], "kickoff": rels[12], "training": rels[2], "intake": rels[3], "survey": rels[9]}
    fire(store, lifecycle, clock, named["kickoff"], "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, named["kickoff"], "schedule_kickoff")
    fire(store, lifecycle, clock, named["training"], "match", mentor=UNTRAINED_MENTOR)
    to_review(store, policy, lifecycle, clock, named["survey"])
    to_review(store, policy, lifecycle, clock, named["dutch"])
    config = WebConfig(store, policy, KEYS, BASE, COORDINATOR, clock)
    with TestClient(create_app(config), base_url=BASE, raise_server_exceptions=True) as client:
        yield Site(store, policy, lifecycle, clock, client, named)


PASSWORD = "a-long-enough-password"
_CSRF = re.compile(r'name="(?:csrf_token|login_token)" value="([^"]+)"')


def form_tokens(text: str) -> list[str]:
    """The form tokens of a console page's forms (the session's, or the login form's)."""
    return _CSRF.findall(text)


def sign_in(
    client: TestClient, name: str, password: str = PASSWORD, headers: dict[str, str] | None = None
) -> Any:
    """Sign in through the login page; returns the response of the posted form (303 on success)."""
    page = client.get("/login", headers=headers)
    token = form_tokens(page.text)[0]
    return client.post(
        "/login",
        data={"login_token": token, "name": name, "password": password},
        headers=headers,
        follow_redirects=False,
    )


@pytest.fixture
def accounts(site: Site) -> Site:
    """The site with a coordinator ``sam`` and a viewer ``vera`` (the same password)."""
    from engine.services.users import add_user

    add_user(site.store, "sam", "coordinator", PASSWORD, site.clock.now())
    add_user(site.store, "vera", "viewer", PASSWORD, site.clock.now())
    return site
