"""The webhook signed as Standard Webhooks says, its Retry-After honoured, its text escaped for Slack.

A local HTTP server on 127.0.0.1 checks every request with the ``standardwebhooks`` verifier (and with a
plain HMAC of its own); delivery runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from standardwebhooks import Webhook

from engine.clock import SimulatedClock
from engine.delivery.channels import Channels, Message
from engine.delivery.channels.config import channels_from
from engine.delivery.channels.webhook import (
    MAX_RETRY_AFTER,
    WebhookChannel,
    WebhookSettings,
    body,
    parse_retry_after,
    signer,
)
from engine.domain.lifecycle import Lifecycle
from engine.errors import ConfigError
from engine.policy.model import Policy
from engine.services import delivery as outbox
from engine.services.participants import import_participants

from .delivery_support import EXPECTED_MATCH_MESSAGES_BOTH, PROGRAM, RETRY, later, matched_pairs, rows
from .support import TRAINED_MENTOR, UNTRAINED_MENTOR, example_people, fire

# The test vector of the Standard Webhooks reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TIMESTAMP = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
SPEC_PAYLOAD = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SIGNED_SETTINGS = {
    "channels": {
        "default": ["webhook"],
        "webhook": {"url": "https://h.example/x", "secret_env": "TEST_HOOK_SECRET"},
    }
}
SECRET = "whsec_" + base64.b64encode(b"mentorflow-test-secret-32-bytes!").decode()
MESSAGE = Message(
    key="rel:7:entry:3:notify_pair:mentee", relationship_id=7, action="notify_pair", recipient="mentee",
    to_name="<!channel> & <https://evil.example|click me>", to_address="zoe@example.com", language="en",
    subject="You have a mentor", body="Hi <@U123>, see <#C1|general> & welcome.\n",
    created_at=datetime(2026, 1, 9, 16, tzinfo=UTC),
)  # fmt: skip


class Receiver:
    """Answers every POST with ``status`` (and ``headers``), keeping each request's headers and raw body."""

    def __init__(self) -> None:
        self.status = 200
        self.headers: dict[str, str] = {}
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, raw))
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/B000/secret"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def signed(url: str, secret: str | None = SECRET) -> Channels:
    channel = WebhookChannel(WebhookSettings(url, 5, secret))
    return Channels({"webhook": channel}, ("webhook",), {}, PROGRAM, RETRY)


@pytest.fixture
def pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    return matched_pairs(store, policy, lifecycle, clock)


def test_the_signer_meets_the_spec_test_vector() -> None:
    moment = datetime.fromtimestamp(SPEC_TIMESTAMP, UTC)
    assert signer(SPEC_SECRET).sign(SPEC_ID, moment, SPEC_PAYLOAD) == SPEC_SIGNATURE


def test_the_signature_is_the_hmac_of_id_timestamp_and_body_exactly_as_sent() -> None:
    channel = WebhookChannel(WebhookSettings("https://hooks.example.com/x", 5, SECRET))
    data = json.dumps(body(MESSAGE), ensure_ascii=False)
    headers = channel.headers(MESSAGE, data, now=SPEC_TIMESTAMP)
    assert headers["webhook-timestamp"] == str(SPEC_TIMESTAMP)
    assert headers["webhook-id"] == headers["Idempotency-Key"]
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{SPEC_TIMESTAMP}.{data}".encode()
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"


def test_without_a_secret_nothing_is_signed_and_the_id_is_still_sent() -> None:
    headers = WebhookChannel(WebhookSettings("https://hooks.example.com/x")).headers(MESSAGE, "{}")
    assert "webhook-signature" not in headers and "webhook-timestamp" not in headers
    assert headers["webhook-id"] == headers["Idempotency-Key"]


def test_the_text_escapes_what_slack_reads_as_markup() -> None:
    text = body(MESSAGE)["text"]
    assert "<" not in text and ">" not in text
    assert "To &lt;!channel&gt; &amp; &lt;https://evil.example|click me&gt; (mentee)" in text
    assert "Hi &lt;@U123&gt;, see &lt;#C1|general&gt; &amp; welcome." in text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 0 ", timedelta(0)),
        (format_datetime(datetime.fromtimestamp(1_000_090, UTC), usegmt=True), timedelta(seconds=90)),
        (format_datetime(datetime.fromtimestamp(999_000, UTC), usegmt=True), timedelta(0)),  # in the past
        ("99999999999999999999", MAX_RETRY_AFTER),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(header: str | None, expected: timedelta | None) -> None:
    assert parse_retry_after(header, now=1_000_000) == expected


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with whsec_"),
        ("whsec_not base64!", "not base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "5 bytes"),
    ],
)
def test_a_secret_that_cannot_sign_is_refused_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, secret: str, problem: str
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", secret)
    document = SIGNED_SETTINGS
    with pytest.raises(ConfigError) as caught:
        channels_from(document, Path("/srv/mentorflow.toml"))
    assert problem in str(caught.value) and "TEST_HOOK_SECRET" in str(caught.value)
    assert secret.removeprefix("whsec_") not in str(caught.value)


def test_the_secret_comes_from_the_variable_the_settings_name(monkeypatch: pytest.MonkeyPatch) -> None:
    document = SIGNED_SETTINGS
    monkeypatch.delenv("TEST_HOOK_SECRET", raising=False)
    with pytest.raises(ConfigError, match="secret_env names TEST_HOOK_SECRET, which is not set"):
        channels_from(document, Path("/srv/mentorflow.toml"))
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    channel = channels_from(document, Path("/srv/mentorflow.toml")).by_name["webhook"]
    assert isinstance(channel, WebhookChannel) and channel.settings.secret == SECRET
    shown = f"{channel!r} {channel.settings!r}"
    assert SECRET not in shown and "/x" not in shown  # neither the secret nor the URL's path is shown


def test_every_request_verifies_and_a_retry_keeps_its_id(
    store: Engine, pairs: list[int], clock: SimulatedClock, receiver: Receiver
) -> None:
    channels = signed(receiver.url)
    receiver.status = 500
    outbox.deliver_due(store, channels, clock.now())
    receiver.status = 200
    outbox.deliver_due(store, channels, later(clock.now(), minutes=5))
    failed, accepted = receiver.requests[:EXPECTED_MATCH_MESSAGES_BOTH], receiver.requests[-5:]
    assert len(receiver.requests) == 2 * EXPECTED_MATCH_MESSAGES_BOTH
    verifier = Webhook(SECRET)
    for headers, raw in receiver.requests:
        assert set(verifier.verify(raw, headers)) == {"text"}  # raises unless the signature holds
    assert sorted(h["webhook-id"] for h, _ in failed) == sorted(h["webhook-id"] for h, _ in accepted)
    assert len({h["webhook-id"] for h, _ in accepted}) == EXPECTED_MATCH_MESSAGES_BOTH
    tampered = accepted[0][1] + b" "
    with pytest.raises(Exception, match="No matching signature"):
        verifier.verify(tampered, accepted[0][0])
    assert all(SECRET not in (row["last_error"] or "") for row in rows(store))


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_puts_the_next_attempt_off_until_then(
    store: Engine, pairs: list[int], clock: SimulatedClock, receiver: Receiver, status: int
) -> None:
    receiver.status, receiver.headers = status, {"Retry-After": "7200"}  # two hours; the backoff is 5 minutes
    now = clock.now()
    summary = outbox.deliver_due(store, signed(receiver.url), now)
    assert summary.retrying == summary.claimed - summary.skipped and summary.parked == 0
    assert len(receiver.requests) == 1  # asked to wait: the rest of the run leaves it alone
    pending = [row for row in rows(store) if row["status"] == "pending"]
    assert pending and all(_aware(row["next_attempt_at"]) == now + timedelta(hours=2) for row in pending)
    assert f"HTTP {status} (retry after 7200 s)" in pending[0]["last_error"]

    receiver.status, receiver.headers = 200, {}
    assert outbox.deliver_due(store, signed(receiver.url), later(now, hours=1)).claimed == 0
    assert outbox.deliver_due(store, signed(receiver.url), later(now, hours=2)).delivered == len(pending)


def test_a_rate_limit_without_retry_after_falls_back_to_the_backoff(
    store: Engine, pairs: list[int], clock: SimulatedClock, receiver: Receiver
) -> None:
    receiver.status = 429
    outbox.deliver_due(store, signed(receiver.url), clock.now())
    pending = [row for row in rows(store) if row["status"] == "pending"]
    assert pending and all(_aware(r["next_attempt_at"]) == clock.now() + RETRY.backoff for r in pending)


def test_names_with_slack_markup_arrive_as_text(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, receiver: Receiver
) -> None:
    hostile = {"name": "<!channel> <https://evil.example|Søren>"}
    people = [
        p.model_copy(update=hostile) if p.external_id == UNTRAINED_MENTOR else p for p in example_people()
    ]
    rels = import_participants(store, policy, clock, people, actor="hr").relationships_opened
    fire(store, lifecycle, clock, rels[0], "match", mentor=UNTRAINED_MENTOR)
    fire(store, lifecycle, clock, rels[1], "match", mentor=TRAINED_MENTOR)
    outbox.deliver_due(store, signed(receiver.url, None), clock.now())
    texts = [json.loads(raw)["text"] for _, raw in receiver.requests]
    assert texts and all("<" not in text and ">" not in text for text in texts)
    assert any("&lt;!channel&gt; &lt;https://evil.example|Søren&gt;" in text for text in texts)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
