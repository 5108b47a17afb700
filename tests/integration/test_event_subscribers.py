"""The event feed and its webhook subscribers, against a real HTTP subscriber on this machine: a
simulated quarter's events arrive in order per relationship, each signed; an outage of the subscriber
is ridden out without a gap or a duplicate; the catch-up feed holds the same sequence."""

from __future__ import annotations

import base64
import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cloudevents.core.formats.json import JSONFormat
from sqlalchemy import Engine, func, select
from standardwebhooks import Webhook

from engine.delivery.event_hooks import Subscriber, subscribers_from
from engine.domain.lifecycle import Lifecycle
from engine.errors import ConfigError
from engine.services.events import EVENT_TYPES, event_source, feed, publish
from engine.services.subscribers import deliver_events, retry_subscriber, subscriber_states
from engine.store.tables import audit_entries, participant_entries
from tests.conftest import START

from .report_support import run_program

SECRET = "whsec_" + base64.b64encode(b"a-test-secret-of-32-bytes-length").decode()


@dataclass
class Receiver:
    """What the subscriber received, and whether it is down (answers 503) or refuses (410)."""

    received: list[dict[str, Any]] = field(default_factory=list)
    failed_verifications: int = 0
    answer: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver()
    verifier = Webhook(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                if state.answer != 200:
                    self.send_response(state.answer)
                    self.send_header("Retry-After", "60")
                    self.end_headers()
                    return
                try:
                    verifier.verify(body, dict(self.headers))
                except Exception:
                    state.failed_verifications += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                state.received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hook(receiver: tuple[Receiver, str]) -> tuple[Receiver, Subscriber]:
    state, url = receiver
    state.received.clear()
    state.failed_verifications, state.answer = 0, 200
    return state, Subscriber("warehouse", url, SECRET, max_attempts=30)


def _whole_feed(store: Engine, now: datetime) -> list[dict[str, Any]]:
    source, after, found = event_source(store, now), 0, []
    while True:
        page, after = feed(store, source, after, 1000)
        if not page:
            return found
        found += page


def test_a_quarter_arrives_in_order_signed_and_whole_through_an_outage(
    store: Engine, lifecycle: Lifecycle, hook: tuple[Receiver, Subscriber]
) -> None:
    state, subscriber = hook
    outage = range(30, 38)  # a week and a day down

    def deliver(now: datetime) -> None:
        day = (now - START).days
        state.answer = 503 if day in outage else 200
        for done in deliver_events(store, (subscriber,), now + timedelta(hours=1)):
            assert not done.parked, done
            if day in outage:
                assert done.posted == 0 and (done.failed or done.skipped == "waiting"), done

    end = run_program(store, lifecycle, seed=11, mentees=30, mentors=12, days=90, each_day=deliver)
    state.answer = 200
    while any(done.posted for done in deliver_events(store, (subscriber,), end + timedelta(days=1))):
        pass
    assert state.failed_verifications == 0
    received = state.received
    ids = [event["id"] for event in received]
    assert len(ids) == len(set(ids)), "an event arrived twice"
    with store.connect() as conn:
        entries = conn.execute(select(func.count()).select_from(audit_entries)).scalar_one()
        entries += conn.execute(select(func.count()).select_from(participant_entries)).scalar_one()
    assert len(received) == entries > 150  # every change, and a quarter holds many
    assert [int(event["sequence"]) for event in received] == list(range(1, entries + 1))  # no gap
    assert {event["type"] for event in received} <= set(EVENT_TYPES)
    read = JSONFormat()  # the CloudEvents SDK's reader: each is a CloudEvent 1.0 in its JSON form
    parsed = [read.read(None, json.dumps(event).encode()) for event in received]
    assert [(e.get_id(), e.get_specversion()) for e in parsed] == [(event["id"], "1.0") for event in received]
    by_pair: dict[str, list[int]] = defaultdict(list)
    for event in received:
        if event["subject"].startswith("relationships/"):
            by_pair[event["subject"]].append(event["data"]["seq"])
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in by_pair.values())  # each chain, in order
    assert _whole_feed(store, end) == received  # the catch-up feed: the same events, the same order
    assert not any("name" in json.dumps(event["data"]) for event in received[:50])  # no names unasked


def test_a_refusing_subscriber_is_parked_and_resumes_where_it_stopped(
    store: Engine, lifecycle: Lifecycle, hook: tuple[Receiver, Subscriber]
) -> None:
    state, subscriber = hook
    end = run_program(store, lifecycle, seed=3, mentees=6, mentors=3, days=5)
    state.answer = 410  # gone: waiting cannot mend it
    (done,) = deliver_events(store, (subscriber,), end)
    assert done.parked and "410" in str(done.failed) and done.position == 0
    (listed,) = subscriber_states(store, (subscriber,))
    assert listed.parked_at == end and listed.behind > 0 and "410" in str(listed.last_error)
    state.answer = 200
    (skipped,) = deliver_events(store, (subscriber,), end + timedelta(days=1))
    assert skipped.skipped == "parked" and not state.received
    retry_subscriber(store, "warehouse")
    (resumed,) = deliver_events(store, (subscriber,), end + timedelta(days=1), per_pass=5000)
    assert resumed.posted == listed.behind and int(state.received[0]["sequence"]) == 1


def test_events_carry_names_only_for_a_subscriber_that_asks_for_them(
    store: Engine, lifecycle: Lifecycle, hook: tuple[Receiver, Subscriber]
) -> None:
    state, subscriber = hook
    end = run_program(store, lifecycle, seed=5, mentees=4, mentors=2, days=2)
    named = Subscriber("named", subscriber.url, SECRET, names=True)
    deliver_events(store, (named,), end)
    created = [e for e in state.received if e["type"] == "mentorflow.participant.created"]
    assert created and all(e["data"]["name"] for e in created)
    assert publish(store) == 0  # everything numbered already


def test_the_settings_name_each_subscriber_and_refuse_a_wrong_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    good = {
        "events": {
            "subscribers": [{"name": "dw", "url": "https://dw.example.com/in", "secret_env": "HOOK_SECRET"}]
        }
    }
    (found,) = subscribers_from(good, None)
    assert (found.name, found.names, found.max_attempts) == ("dw", False, 12) and SECRET not in repr(found)
    for table, said in (
        (
            {"name": "dw", "url": "http://dw.example.com", "secret_env": "HOOK_SECRET"},
            "url: must start with https://",
        ),
        (
            {"name": "dw", "url": "https://x.example.com", "secret_env": "NOPE"},
            "the variable NOPE is not set",
        ),
        ({"name": "d w", "url": "https://x.example.com", "secret_env": "HOOK_SECRET"}, "is not a name"),
        ({"name": "dw", "url": "https://x.example.com", "secret_env": "HOOK_SECRET", "nmes": True}, "nmes"),
    ):
        with pytest.raises(ConfigError, match=r"mentorflow\.toml: events\.subscribers\[1\]") as caught:
            from pathlib import Path

            subscribers_from({"events": {"subscribers": [table]}}, Path("mentorflow.toml"))
        assert said in str(caught.value)
