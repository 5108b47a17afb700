"""Identifiers unique in the world, and mail a company would send: the installation id in every Message-ID and
calendar UID; the kickoff as an inline meeting request that two independent iCalendar parsers read alike."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar
from sqlalchemy import Engine, func, select

from engine.clock import SimulatedClock
from engine.delivery.channels import DeliveryError, Message
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import delivery as outbox
from engine.services.replacing import ReplaceRequest, replace_mentor
from engine.store.database import SCHEMA_REVISION, initialise, migrate, open_engine, schema_revision
from engine.store.tables import installation, participants, relationships
from tests.conftest import START

from .delivery_support import FakeChannel, channels_of, deliveries, matched_pairs
from .smtp_support import Server, channels_for
from .support import SINGLE_MENTOR, TRAINED_MENTOR, fire, import_examples

ZONE = ZoneInfo("Europe/Amsterdam")  # delivery_support.PROGRAM's


def _installation(store: Engine) -> str:
    with store.connect() as conn:
        return str(conn.execute(select(installation.c.id)).scalar_one())


def _kickoff_messages(store: Engine, policy: Policy, clock: SimulatedClock) -> list[Message]:
    """What one program sends: the match messages of two pairs, then the kickoff of the trained mentor's."""
    lifecycle = Lifecycle(policy)
    rels = matched_pairs(store, policy, lifecycle, clock)
    fire(store, lifecycle, clock, rels[1], "schedule_kickoff")
    channel = FakeChannel("email")
    outbox.deliver_due(store, channels_of(channel), clock.now())
    return channel.sent


def _uids(messages: list[Message]) -> set[str]:
    return {
        line
        for m in messages
        for a in m.attachments
        for line in a.content.splitlines()
        if line.startswith("UID:")
    }


def test_two_databases_initialised_separately_send_different_ids_for_the_same_messages(
    tmp_path: Path, policy: Policy
) -> None:
    sent = []
    for name in ("one", "two"):
        store = open_engine(f"sqlite:///{tmp_path / name}.db")
        initialise(store)  # `mentorflow init`
        uuid.UUID(_installation(store))  # a random UUID
        sent.append(_kickoff_messages(store, policy, SimulatedClock(START)))
        store.dispose()
    one, two = sent
    assert [m.key for m in one] == [m.key for m in two]  # the same relationships, entries and recipients
    assert not {m.message_id() for m in one} & {m.message_id() for m in two}
    assert len(_uids(one)) == len(_uids(two)) == 1 and _uids(one) != _uids(two)


def test_the_installation_id_is_in_every_message_id_and_a_retry_keeps_it(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    matched_pairs(store, policy, lifecycle, clock)
    channel = FakeChannel("email")
    failed: list[str] = []

    def once(message: Message) -> DeliveryError | None:
        if message.message_id() not in failed:
            failed.append(message.message_id())
            return DeliveryError("451 try again")
        return None

    channel.fail = once
    outbox.deliver_due(store, channels_of(channel), clock.now())
    assert not channel.sent
    outbox.deliver_due(store, channels_of(channel), clock.now() + timedelta(hours=1))
    ours = _installation(store)
    assert channel.sent and all(m.installation == ours for m in channel.sent)
    assert sorted(m.message_id() for m in channel.sent) == sorted(failed)  # the retry kept each id
    assert {d["message_id"] for d in deliveries(store)} == set(failed)


def test_a_kickoff_planned_again_updates_the_same_event_with_a_higher_sequence(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    fire(store, lifecycle, clock, rels[1], "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rels[1], "schedule_kickoff")
    channel = FakeChannel("email")
    outbox.deliver_due(store, channels_of(channel), clock.now())
    first = [m for m in channel.sent if m.attachments]
    channel.sent.clear()
    clock.advance(timedelta(days=1))
    replace_mentor(
        store, policy, clock, ReplaceRequest(rels[1], SINGLE_MENTOR, "a better fit", "coordinator")
    )
    outbox.deliver_due(store, channels_of(channel), clock.now())
    again = [m for m in channel.sent if m.attachments]

    assert first and again and _uids(first) == _uids(again)
    (before,) = {_sequence(m) for m in first}
    (after,) = {_sequence(m) for m in again}
    assert after > before


def _sequence(message: Message) -> int:
    (event,) = Calendar.from_ical(message.attachments[0].content).walk("VEVENT")
    return int(event["SEQUENCE"])


@pytest.fixture
def server() -> Iterator[Server]:
    box = Server().start()
    yield box
    box.stop()


def test_the_kickoff_mail_is_text_html_and_an_inline_meeting_request(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, server: Server
) -> None:
    rels = import_examples(store, policy, clock)
    fire(store, lifecycle, clock, rels[1], "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rels[1], "schedule_kickoff")
    with store.begin() as conn:  # a name with a character HTML must escape
        mentee = select(relationships.c.mentee_id).where(relationships.c.id == rels[1]).scalar_subquery()
        conn.execute(
            participants.update().where(participants.c.id == mentee).values(name="Thijs <Bakker> & Co")
        )
    outbox.deliver_due(store, channels_for(server), clock.now())

    kickoffs = [(m, o) for m, o in zip(server.received, server.mail_options, strict=True) if _request(m)]
    assert {m["To"].addresses[0].addr_spec for m, _ in kickoffs} >= {"coordinator@example.com"}
    for message, options in kickoffs:
        assert message.get_content_type() == "multipart/mixed"
        (alternative, attached) = message.get_payload()
        kinds = [part.get_content_type() for part in alternative.get_payload()]
        assert kinds == ["text/plain", "text/html", "text/calendar"]
        assert attached.get_content_type() == "application/ics" and attached.get_filename() == "kickoff.ics"
        assert "BODY=8BITMIME" in options  # the calendar travels 8-bit, and says so
        _check_bodies(message)
        _check_calendar(_request(message))


def _request(message: EmailMessage) -> str:
    part = message.get_body(("calendar",))
    if part is None or part.get_param("method") != "REQUEST":
        return ""
    return str(part.get_content())


def _check_bodies(message: EmailMessage) -> None:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    plain, page = str(text.get_content()), str(html.get_content())
    assert "<p>" not in plain and page.startswith("<!DOCTYPE html>") and "<p>" in page
    assert html["Content-Language"] == text["Content-Language"] == message["Content-Language"]
    if "Thijs <Bakker> & Co" in plain:
        assert "Thijs &lt;Bakker&gt; &amp; Co" in page and "<Bakker>" not in page
    first = plain.strip().splitlines()[0]
    assert first.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page


def _check_calendar(ics: str) -> None:
    ours = Calendar.from_ical(ics)
    assert Calendar.from_ical(ours.to_ical()) == ours  # icalendar reads back what it wrote
    assert str(ours["METHOD"]) == "REQUEST"
    parsed = vobject.readOne(ics)  # an independent parser
    assert parsed.method.value == "REQUEST"
    event = parsed.vevent
    assert event.organizer.value == "mailto:coordinator@example.com"
    attendees = {a.value for a in event.attendee_list}
    assert "mailto:coordinator@example.com" in attendees and len(attendees) == 3
    assert parsed.vtimezone.tzid.value == "Europe/Amsterdam"
    start = event.dtstart.value
    assert start.utcoffset() == start.replace(tzinfo=ZONE).utcoffset()  # the VTIMEZONE's rules are the zone's
    assert start.hour == 10 and event.uid.value == str(ours.walk("VEVENT")[0]["UID"])
    assert re.fullmatch(r"[0-9a-f]{32}@mentorflow", event.uid.value)


def test_an_upgrade_of_a_database_holding_a_program_gives_it_an_installation_id(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    matched_pairs(store, policy, lifecycle, clock)
    with store.connect() as conn:
        before = conn.execute(select(func.count()).select_from(relationships)).scalar_one()
    migrate(store, "downgrade", "0006")  # the schema of the release before
    assert schema_revision(store) == "0006"
    initialise(store)
    assert schema_revision(store) == SCHEMA_REVISION
    uuid.UUID(_installation(store))
    with store.connect() as conn:
        assert conn.execute(select(func.count()).select_from(relationships)).scalar_one() == before
    channel = FakeChannel("email")
    summary = outbox.deliver_due(store, channels_of(channel), clock.now())
    assert summary.sent and all(m.installation == _installation(store) for m in channel.sent)
