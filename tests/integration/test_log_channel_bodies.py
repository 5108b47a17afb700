"""``[channels.log] bodies``: by default the log file records that each message was sent, by ids alone;
only ``bodies = true`` writes the names, addresses, texts and personal links too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.delivery.channels.config import configured_channels
from engine.delivery.channels.log import LogChannel
from engine.domain.lifecycle import Lifecycle
from engine.errors import ConfigError
from engine.policy.model import Policy
from engine.services import delivery as outbox
from engine.store.tables import participants

from .delivery_support import EXPECTED_MATCH_MESSAGES_BOTH, matched_pairs
from .support import fire

BASE = "https://mentoring.example.com"
COORDINATOR = ("Marieke de Vries", "coordinator@example.com")
RECEIPT = {
    "message_id",
    "key",
    "relationship_id",
    "action",
    "recipient",
    "channel",
    "created_at",
    "written_at",
}


def _settings(tmp_path: Path, bodies: str | None) -> Path:
    """A settings file that sends everything to the log file, with personal links, and ``bodies``."""
    line = "" if bodies is None else f"bodies = {bodies}\n"
    settings = tmp_path / "mentorflow.toml"
    settings.write_text(
        f'[notifications]\ncoordinator_name = "{COORDINATOR[0]}"\ncoordinator_email = "{COORDINATOR[1]}"\n\n'
        f'[channels]\ndefault = ["log"]\n\n[channels.log]\npath = "outbox.jsonl"\n{line}\n'
        f'[web]\nbase_url = "{BASE}"\nsecret_keys = ["{"k" * 40}"]\n',
        encoding="utf-8",
    )
    return settings


def _people(store: Engine) -> list[str]:
    """Every participant's name and address, and the coordinator's."""
    with store.connect() as conn:
        rows = conn.execute(select(participants.c.name, participants.c.email)).all()
    return [text for row in rows for text in row if text] + list(COORDINATOR)


def _delivered(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, settings: Path
) -> tuple[str, list[dict[str, Any]]]:
    """Two matched pairs, one with a kickoff to schedule, delivered through the settings' log channel:
    the file's text and its lines."""
    rels = matched_pairs(store, policy, lifecycle, clock)
    fire(store, lifecycle, clock, rels[1], "schedule_kickoff")
    channels = configured_channels(settings, surveys=policy.survey_definitions)
    assert outbox.deliver_due(store, channels, clock.now()).sent > EXPECTED_MATCH_MESSAGES_BOTH
    text = (settings.parent / "outbox.jsonl").read_text(encoding="utf-8")
    return text, [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("bodies", [None, "false"])
def test_without_bodies_a_line_holds_ids_and_no_name_address_or_link(
    store: Engine,
    policy: Policy,
    lifecycle: Lifecycle,
    clock: SimulatedClock,
    tmp_path: Path,
    bodies: str | None,
) -> None:
    text, lines = _delivered(store, policy, lifecycle, clock, _settings(tmp_path, bodies))
    assert {line["recipient"] for line in lines} == {"mentee", "mentor", "coordinator"}
    assert all(set(line) == RECEIPT and line["channel"] == "log" for line in lines)
    assert all(re.fullmatch(r"<[0-9a-f]{32}@mentorflow>", line["message_id"]) for line in lines)
    people = _people(store)
    assert len(people) > 2
    leaked = [person for person in people if person.lower() in text.lower()]
    assert leaked == [] and "@" not in text.replace("@mentorflow>", "")
    assert BASE not in text and "/l/" not in text


def test_with_bodies_a_line_holds_the_whole_message(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, tmp_path: Path
) -> None:
    _, lines = _delivered(store, policy, lifecycle, clock, _settings(tmp_path, "true"))
    assert all(set(line) > RECEIPT for line in lines)
    to_people = [line for line in lines if line["recipient"] != "coordinator"]
    people = set(_people(store))
    assert to_people and all({line["to"]["name"], line["to"]["address"]} <= people for line in to_people)
    assert all(f"{BASE}/l/help/" in line["body"] for line in to_people)
    assert {(line["to"]["name"], line["to"]["address"]) for line in lines} >= {COORDINATOR}
    kickoffs = [line for line in lines if line["action"] == "schedule_kickoff_meeting"]
    assert kickoffs and all(line["attachments"] == ["kickoff.ics"] for line in kickoffs)


@pytest.mark.parametrize("value", ['"yes"', '"true"', "1", '"sometimes"'])
def test_bodies_is_true_or_false_and_anything_else_is_named(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        configured_channels(_settings(tmp_path, value))
    assert "mentorflow.toml: [channels] is not valid" in raised.value.message
    assert "channels.log.bodies: Input should be a valid boolean" in str(raised.value)


def test_the_settings_give_the_log_channel_its_bodies(tmp_path: Path) -> None:
    def log(bodies: str | None) -> LogChannel:
        channel = configured_channels(_settings(tmp_path, bodies)).by_name["log"]
        assert isinstance(channel, LogChannel)
        return channel

    assert log(None).bodies is False and log("false").bodies is False and log("true").bodies is True
