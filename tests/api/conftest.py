"""The REST API against a store holding the example program, with a token per scope set.

``Api.as_(name)`` gives the headers of one of the tokens made here: ``reader`` (read), ``hr``
(read, participants:write), ``lms`` (records:write), ``matcher`` (read, matching:write), ``all``
(every scope) and ``revoked`` (every scope, revoked).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services.tokens import SCOPES, create_token, revoke_token
from tests.integration.support import import_examples
from tests.web.conftest import BASE, KEYS
from workflows.web import create_app
from workflows.web.config import WebConfig

TOKENS: dict[str, tuple[str, ...]] = {
    "reader": ("read",),
    "hr": ("read", "participants:write"),
    "lms": ("records:write",),
    "matcher": ("read", "matching:write"),
    "all": SCOPES,
    "revoked": SCOPES,
}
PREFIX = "/api/v1"


@dataclass
class Api:
    store: Engine
    policy: Policy
    lifecycle: Lifecycle
    clock: SimulatedClock
    client: TestClient
    secrets: dict[str, str]
    rels: list[int]

    def as_(self, name: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[name]}", **headers}

    def get(self, path: str, token: str = "all", **params: Any) -> Any:
        return self.client.get(PREFIX + path, headers=self.as_(token), params=params)

    def post(self, path: str, body: Any, token: str = "all", **headers: str) -> Any:
        return self.client.post(PREFIX + path, headers=self.as_(token, **headers), json=body)


def make_tokens(store: Engine, clock: SimulatedClock, rates: dict[str, int] | None = None) -> dict[str, str]:
    secrets = {}
    for name, scopes in TOKENS.items():
        rate = (rates or {}).get(name, 600)
        _, secrets[name] = create_token(store, name, scopes, clock.now(), actor="tests", rate_limit=rate)
    revoke_token(store, "revoked", clock.now(), actor="tests")
    return secrets


@pytest.fixture
def api(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> Iterator[Api]:
    rels = import_examples(store, policy, clock)
    secrets = make_tokens(store, clock)
    config = WebConfig(store, policy, KEYS, BASE, clock=clock)
    with TestClient(create_app(config), base_url=BASE, raise_server_exceptions=True) as client:
        yield Api(store, policy, lifecycle, clock, client, secrets, rels)
