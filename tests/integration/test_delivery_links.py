"""Personal links in delivered messages: each one opens, for the pair's right person, and a retry keeps it."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.delivery.channels import Channels, DeliveryError, LinkSettings, Message
from engine.delivery.channels.log import LogChannel
from engine.delivery.links import Refusal
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import delivery as outbox
from engine.services.links import OpenedLink, open_link, revoke_links
from engine.store.tables import relationships

from .delivery_support import PROGRAM, RETRY, FakeChannel, matched_pairs
from .support import fire

KEYS = ("k" * 40,)
BASE = "https://mentoring.example.com"
LINKED = dataclasses.replace(PROGRAM, links=LinkSettings(BASE, KEYS))
URL = re.compile(r"https://mentoring\.example\.com/l/(?P<purpose>[a-z]+)/(?P<token>[\w.-]+)")


def _people(store: Engine) -> dict[int, dict[str, int | None]]:
    with store.connect() as conn:
        query = select(relationships.c.id, relationships.c.mentee_id, relationships.c.mentor_id)
        return {rel: {"mentee": mentee, "mentor": mentor} for rel, mentee, mentor in conn.execute(query)}


def test_each_delivered_message_to_a_mentee_or_mentor_carries_links_that_open_for_them(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, tmp_path: Path
) -> None:
    rels = matched_pairs(store, policy, lifecycle, clock)
    fire(store, lifecycle, clock, rels[1], "schedule_kickoff")
    log = tmp_path / "outbox.jsonl"
    channels = Channels({"log": LogChannel(log, fsync=False, bodies=True)}, ("log",), {}, LINKED, RETRY)
    summary = outbox.deliver_due(store, channels, clock.now())
    assert (
        summary.delivered + summary.skipped == summary.claimed and summary.sent > 0
    )  # skipped: the enrolment
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    people, now = _people(store), clock.now() + timedelta(days=2)
    purposes: dict[tuple[str, str], set[str]] = {}
    for line in lines:
        found = {m["purpose"]: m["token"] for m in URL.finditer(line["body"])}
        purposes.setdefault((line["action"], line["recipient"]), set()).update(found)
        if line["recipient"] == "coordinator":
            assert found == {}, line["key"]
            continue
        assert "help" in found, line["key"]
        for purpose, token in found.items():
            opened = open_link(store, token, purpose, now, KEYS)
            assert isinstance(opened, OpenedLink), (line["key"], purpose, opened)
            assert opened.relationship_id == line["relationship_id"]
            assert (opened.role, opened.participant_id) == (
                line["recipient"],
                people[line["relationship_id"]][line["recipient"]],
            )
            other = "survey" if purpose != "survey" else "help"
            assert open_link(store, token, other, now, KEYS) == Refusal("wrong_purpose")
    assert purposes[("enrol_mentor_training", "mentor")] == {"training", "help"}
    assert purposes[("schedule_kickoff_meeting", "mentee")] == {"kickoff", "help"}
    assert purposes[("schedule_kickoff_meeting", "mentor")] == {"kickoff", "help"}
    assert purposes[("schedule_kickoff_meeting", "coordinator")] == set()
    assert purposes[("notify_pair", "mentee")] == purposes[("notify_pair", "mentor")] == {"help"}

    revoke_links(store, clock.now() + timedelta(days=1), "test", relationship=rels[1])
    of_pair = [
        m["token"] for line in lines if line["relationship_id"] == rels[1] for m in URL.finditer(line["body"])
    ]
    assert of_pair
    token = of_pair[0]
    assert open_link(store, token, "help", now, KEYS) == Refusal("revoked")


def test_a_message_sent_again_after_a_failure_carries_the_same_links(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    matched_pairs(store, policy, lifecycle, clock)
    channel = FakeChannel()
    tried: list[Message] = []

    def fail_mentors_once(message: Message) -> DeliveryError | None:
        if message.recipient == "mentor" and not any(m.key == message.key for m in tried):
            tried.append(message)
            return DeliveryError("451 try again later")
        return None

    channel.fail = fail_mentors_once
    channels = Channels({"log": channel}, ("log",), {}, LINKED, RETRY)
    outbox.deliver_due(store, channels, clock.now())
    clock.advance(timedelta(hours=2))
    outbox.deliver_due(store, channels, clock.now())
    sent = {m.key: m for m in channel.sent}
    assert tried and all(m.key in sent for m in tried)
    for first in tried:
        again = sent[first.key]
        assert URL.search(again.body) and (again.body, again.html) == (first.body, first.html)
