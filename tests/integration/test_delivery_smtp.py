"""The email channel against a real SMTP server (aiosmtpd on 127.0.0.1): sent, refused, down, back, once."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.delivery.channels import Channels
from engine.delivery.channels.email import EmailChannel, SmtpSettings
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import delivery as outbox

from .delivery_support import (
    EXPECTED_MATCH_MESSAGES_BOTH,
    PROGRAM,
    RETRY,
    later,
    matched_pairs,
    statuses,
)
from .support import fire


class Mailbox:
    """An SMTP server on a free local port that answers ``reply`` to each message; stoppable."""

    def __init__(self) -> None:
        self.reply = "250 OK"
        self.received: list[EmailMessage] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply.startswith("250"):
            message = message_from_bytes(envelope.content, policy=default)
            assert isinstance(message, EmailMessage)
            self.received.append(message)
        return self.reply

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def message_ids(self) -> Counter[str]:
        return Counter(str(message["Message-ID"]) for message in self.received)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    return matched_pairs(store, policy, lifecycle, clock)


def email_channels(mailbox: Mailbox) -> Channels:
    settings = SmtpSettings("127.0.0.1", mailbox.port, "Mentorprogramma <mentoring@example.com>", timeout=5)
    return Channels({"email": EmailChannel(settings)}, ("email",), {}, PROGRAM, RETRY)


def test_messages_arrive_with_a_message_id_derived_from_their_key(
    store: Engine, pairs: list[int], clock: SimulatedClock, mailbox: Mailbox
) -> None:
    summary = outbox.deliver_due(store, email_channels(mailbox), clock.now())

    assert summary.sent == EXPECTED_MATCH_MESSAGES_BOTH == len(mailbox.received)
    assert set(mailbox.message_ids().values()) == {1}
    first = mailbox.received[0]
    assert str(first["Message-ID"]).endswith("@example.com>")
    assert first["Auto-Submitted"] == "auto-generated"
    recipients = {str(m["To"]) for m in mailbox.received}
    assert "Søren Ødegaard <soren.odegaard@example.com>" in recipients
    assert any("mentor training" in str(m["Subject"]) for m in mailbox.received)


def test_the_kickoff_invitation_is_an_inline_calendar_request_with_the_file_attached(
    store: Engine,
    pairs: list[int],
    lifecycle: Lifecycle,
    clock: SimulatedClock,
    mailbox: Mailbox,
) -> None:
    outbox.deliver_due(store, email_channels(mailbox), clock.now())
    mailbox.received.clear()
    fire(store, lifecycle, clock, pairs[1], "schedule_kickoff")  # the pair whose mentor is trained
    outbox.deliver_due(store, email_channels(mailbox), clock.now())

    invitations = [m for m in mailbox.received if "kickoff.ics" in _filenames(m)]
    assert len(invitations) == 3  # mentee, mentor, and the coordinator who organises it
    assert "coordinator@example.com" in {m["To"].addresses[0].addr_spec for m in invitations}
    parts = [next(p for p in m.iter_attachments() if p.get_filename() == "kickoff.ics") for m in invitations]
    assert {p.get_content_type() for p in parts} == {"application/ics"}
    requests = [m.get_body(("calendar",)) for m in invitations]
    assert all(r is not None and r.get_param("method") == "REQUEST" for r in requests)
    calendars = [str(r.get_content()) for r in requests if r is not None]
    uids = {line for text in calendars for line in text.splitlines() if line.startswith("UID:")}
    assert len(uids) == 1  # one event, updated rather than duplicated
    assert all("METHOD:REQUEST" in text and text.count("ATTENDEE") == 3 for text in calendars)
    assert all("ORGANIZER;CN=" in text and "coordinator@example.com" in text for text in calendars)


def _filenames(message: EmailMessage) -> set[str]:
    return {part.get_filename() or "" for part in message.iter_attachments()}


def test_a_refusing_server_is_retried_then_parked_and_after_retry_each_message_arrives_exactly_once(
    store: Engine, pairs: list[int], clock: SimulatedClock, mailbox: Mailbox
) -> None:
    channels = email_channels(mailbox)
    now = clock.now()
    mailbox.reply = "451 4.3.0 mailbox temporarily unavailable"

    outbox.deliver_due(store, channels, now)
    assert statuses(store)["pending"] and not mailbox.received
    assert outbox.deliver_due(store, channels, later(now, minutes=4)).claimed == 0  # backing off
    outbox.deliver_due(store, channels, later(now, minutes=5))
    last = outbox.deliver_due(store, channels, later(now, minutes=15))
    assert last.parked and not statuses(store)["pending"]
    parked = outbox.list_rows(store, failed_only=True)
    assert all("SMTP 451" in row["last_error"] for row in parked)

    mailbox.reply = "250 OK"
    outbox.retry(store, later(now, hours=1), all_failed=True, actor="coordinator")
    outbox.deliver_due(store, channels, later(now, hours=1))
    outbox.deliver_due(store, channels, later(now, days=2))  # and again: nothing more

    assert len(mailbox.received) == EXPECTED_MATCH_MESSAGES_BOTH
    assert set(mailbox.message_ids().values()) == {1}
    assert not statuses(store)["failed"]


def test_a_server_that_is_down_is_retried_and_delivered_once_when_it_is_back(
    store: Engine, pairs: list[int], clock: SimulatedClock, mailbox: Mailbox
) -> None:
    channels = email_channels(mailbox)
    now = clock.now()
    mailbox.stop()
    down = outbox.deliver_due(store, channels, now)
    assert down.retrying and down.sent == 0
    assert any("unreachable" in problem for problem in down.problems)

    mailbox.start()
    outbox.deliver_due(store, channels, now + RETRY.backoff)
    outbox.deliver_due(store, channels, now + timedelta(days=1))
    assert len(mailbox.received) == EXPECTED_MATCH_MESSAGES_BOTH
    assert set(mailbox.message_ids().values()) == {1}


def test_a_permanent_refusal_parks_at_once(
    store: Engine, pairs: list[int], clock: SimulatedClock, mailbox: Mailbox
) -> None:
    mailbox.reply = "554 5.7.1 relaying denied"
    summary = outbox.deliver_due(store, email_channels(mailbox), clock.now())
    assert summary.parked == summary.claimed - summary.skipped and summary.retrying == 0
    assert all("SMTP 554" in row["last_error"] for row in outbox.list_rows(store, failed_only=True))
