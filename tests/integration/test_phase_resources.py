"""The resources of a phase reach the people they are for: a pair's messages on entering ``matched``
list the phase's resources meant for their reader, through the real delivery and log channel."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.delivery.channels.config import configured_channels
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import load_policy_text, resolve_policy_path
from engine.policy.resources import phase_resources
from engine.services import delivery as outbox

from .delivery_support import matched_pairs

RESOURCES = """    resources:
      - title: Your first month
        title_nl: Je eerste maand
        link: "https://intranet.example.com/mentee"
        for: mentee
      - {title: The mentor handbook, link: "https://intranet.example.com/mentor", for: mentor}
      - Ask the coordinator anything
"""


def test_each_reader_gets_the_phase_s_resources_meant_for_them(
    store: Engine, clock: SimulatedClock, tmp_path: Path
) -> None:
    text = Path(resolve_policy_path("default")).read_text(encoding="utf-8")
    marker = "  matched:\n"
    policy = load_policy_text(text.replace(marker, marker + RESOURCES, 1), "with-resources.yaml")
    settings = tmp_path / "mentorflow.toml"
    settings.write_text(
        '[notifications]\ncoordinator_email = "coordinator@example.com"\n\n'
        '[channels]\ndefault = ["log"]\n\n[channels.log]\npath = "outbox.jsonl"\nbodies = true\n',
        encoding="utf-8",
    )
    matched_pairs(store, policy, Lifecycle(policy), clock)
    channels = configured_channels(
        settings, surveys=policy.survey_definitions, resources=phase_resources(policy)
    )
    assert outbox.deliver_due(store, channels, clock.now()).sent > 0

    lines = [
        json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    matched = [line for line in lines if line["action"] == "notify_pair"]
    to_mentee = [line["body"] for line in matched if line["recipient"] == "mentee"]
    to_mentor = [line["body"] for line in matched if line["recipient"] == "mentor"]
    assert to_mentee and to_mentor
    for body in to_mentee:
        assert ("https://intranet.example.com/mentee" in body) and "mentor handbook" not in body
        assert "Ask the coordinator anything" in body
        assert "Your first month" in body or "Je eerste maand" in body
    for body in to_mentor:
        assert "The mentor handbook: https://intranet.example.com/mentor" in body and "/mentee" not in body
    coordinator = [line["body"] for line in lines if line["recipient"] == "coordinator"]
    assert all("intranet.example.com" not in body for body in coordinator)
