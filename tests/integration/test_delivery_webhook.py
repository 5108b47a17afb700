"""The webhook channel against a real HTTP server on 127.0.0.1: 500s, then 200s, each message once."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.delivery.channels import Channels
from engine.delivery.channels.webhook import WebhookChannel, WebhookSettings
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import delivery as outbox
from engine.store.database import initialise, open_engine
from tests.conftest import START

from .delivery_support import (
    EXPECTED_MATCH_MESSAGES_BOTH,
    PROGRAM,
    RETRY,
    deliveries,
    later,
    matched_pairs,
    statuses,
)


class Hook:
    """A local HTTP server answering ``status`` to every POST, recording the accepted ones."""

    def __init__(self) -> None:
        self.status = 200
        self.accepted: list[tuple[str, dict[str, Any]]] = []  # (Idempotency-Key, body)
        self.requests = 0
        self.tried: list[tuple[str, str]] = []  # (Idempotency-Key, webhook-id) of every request
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.requests += 1
                hook.tried.append((self.headers["Idempotency-Key"], self.headers["webhook-id"]))
                if hook.status == 200:
                    hook.accepted.append((self.headers["Idempotency-Key"], body))
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    def keys(self) -> Counter[str]:
        return Counter(key for key, _ in self.accepted)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)  # 127.0.0.1 is reached directly, never through a proxy
    server = Hook()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    return matched_pairs(store, policy, lifecycle, clock)


def webhook_channels(url: str) -> Channels:
    return Channels({"webhook": WebhookChannel(WebhookSettings(url, 5))}, ("webhook",), {}, PROGRAM, RETRY)


def test_messages_are_posted_as_slack_and_teams_compatible_json(
    store: Engine, pairs: list[int], clock: SimulatedClock, hook: Hook
) -> None:
    outbox.deliver_due(store, webhook_channels(hook.url), clock.now())
    assert len(hook.accepted) == EXPECTED_MATCH_MESSAGES_BOTH
    assert all(set(body) == {"text"} for _, body in hook.accepted)
    assert any("Søren Ødegaard (mentor)" in body["text"] for _, body in hook.accepted)
    assert set(hook.keys().values()) == {1}


def test_server_errors_are_retried_then_parked_and_after_retry_each_message_is_posted_once(
    store: Engine, pairs: list[int], clock: SimulatedClock, hook: Hook
) -> None:
    channels = webhook_channels(hook.url)
    now = clock.now()
    hook.status = 500
    for minutes in (0, 5, 15):
        outbox.deliver_due(store, channels, later(now, minutes=minutes))
    parked = outbox.list_rows(store, failed_only=True)
    assert parked and all("HTTP 500" in row["last_error"] for row in parked)
    assert all("secret" not in row["last_error"] for row in parked)  # the URL's path is its secret
    assert not hook.accepted

    hook.status = 200
    outbox.retry(store, later(now, hours=1), all_failed=True, actor="coordinator")
    outbox.deliver_due(store, channels, later(now, hours=1))
    outbox.deliver_due(store, channels, later(now, days=1))
    assert len(hook.accepted) == EXPECTED_MATCH_MESSAGES_BOTH
    assert set(hook.keys().values()) == {1}
    assert not statuses(store)["failed"]


def test_a_revoked_url_parks_at_once_and_a_rate_limit_is_retried(
    store: Engine, pairs: list[int], clock: SimulatedClock, hook: Hook
) -> None:
    channels = webhook_channels(hook.url)
    hook.status = 429
    assert outbox.deliver_due(store, channels, clock.now()).parked == 0
    hook.status = 404
    summary = outbox.deliver_due(store, channels, later(clock.now(), minutes=5))
    assert summary.parked == summary.claimed and summary.retrying == 0
    assert all("HTTP 404" in row["last_error"] for row in outbox.list_rows(store, failed_only=True))


def test_a_server_that_is_down_is_retried(store: Engine, pairs: list[int], clock: SimulatedClock) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        url = f"http://127.0.0.1:{closed.server_address[1]}/"
    summary = outbox.deliver_due(store, webhook_channels(url), clock.now())
    assert summary.retrying and summary.sent == 0
    assert any("unreachable" in problem for problem in summary.problems)


def test_a_retry_sends_the_same_key_and_the_key_is_the_message_id_of_this_installation(
    store: Engine, pairs: list[int], clock: SimulatedClock, hook: Hook
) -> None:
    channels = webhook_channels(hook.url)
    hook.status = 500
    outbox.deliver_due(store, channels, clock.now())
    failed = [key for key, _ in hook.tried]
    assert len(failed) == EXPECTED_MATCH_MESSAGES_BOTH and all(key == wid for key, wid in hook.tried)

    hook.status = 200
    outbox.deliver_due(store, channels, later(clock.now(), hours=1))
    assert sorted(key for key, _ in hook.accepted) == sorted(failed)  # each message kept its key
    # the email Message-ID's digest: the installation's id and the message's key, never the key alone
    ids = {row["message_id"].removeprefix("<").removesuffix("@mentorflow>") for row in deliveries(store)}
    assert set(failed) == ids


def test_two_installations_never_send_the_same_webhook_key(
    tmp_path: Path, policy: Policy, lifecycle: Lifecycle, hook: Hook
) -> None:
    keys = []
    for name in ("one", "two"):
        store = open_engine(f"sqlite:///{tmp_path / name}.db")
        initialise(store)  # `mentorflow init`: a new installation id
        clock = SimulatedClock(START)
        matched_pairs(store, policy, lifecycle, clock)
        outbox.deliver_due(store, webhook_channels(hook.url), clock.now())
        keys.append({key for key, _ in hook.accepted})
        hook.accepted.clear()
        store.dispose()
    one, two = keys
    assert len(one) == len(two) == EXPECTED_MATCH_MESSAGES_BOTH  # the same messages, one key each
    assert not one & two
