"""What changes between two versions of a policy: one plain line per change, nothing for the same content."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.policy.comparison import differences
from engine.policy.model import Policy, load_policy_text, shipped_policies
from tests.design_policy import DESIGN_BLOCK

DEFAULT = DESIGN_BLOCK  # the edits below are made to the design's policy (version 1), which stays put
SHIPPED = Path(shipped_policies()["default"]).read_text(encoding="utf-8")
PAUSE = Path(shipped_policies()["with-pause"]).read_text(encoding="utf-8")


def _policy(text: str) -> Policy:
    return load_policy_text(text, "new.yaml")


def _lines(old: str, new: str) -> list[str]:
    return [d.line for d in differences(_policy(old), _policy(new))]


def _edited(old: str, new: str, text: str = DEFAULT) -> str:
    assert old in text, old
    return text.replace(old, new)


@pytest.mark.parametrize("text", [DEFAULT, SHIPPED], ids=["design", "shipped default"])
def test_the_same_content_changes_nothing(text: str) -> None:
    assert differences(_policy(text), _policy(text)) == []
    assert _lines(text, text.replace("\n", "\n\n")) == []  # only the layout differs


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ("duration: 6 months", "duration: 4 months", "program.duration: 6 months → 4 months"),
        ("every 2 weeks", "every week", "phase active: cadence.check_in: every 2 weeks → every 1 week"),
        ("version: 1", "version: 2", "policy.version: 1 → 2"),
    ],
)
def test_a_changed_field_is_one_line(old: str, new: str, line: str) -> None:
    assert _lines(DEFAULT, _edited(old, new)) == [line]


def test_program_timezone_is_compared() -> None:
    edited = _edited("timezone: Europe/Amsterdam", "timezone: Europe/London", PAUSE)
    assert _lines(PAUSE, edited) == ["program.timezone: Europe/Amsterdam → Europe/London"]


def test_a_removed_phase_and_its_transitions() -> None:
    from tests.integration.support import without_paused_text

    assert _lines(PAUSE, without_paused_text()) == [
        "policy.version: 2 → 3",
        "phase paused removed",
        "transition pause (active → paused) removed",
        "transition resume (paused → active) removed",
    ]


def test_an_added_phase_and_transition() -> None:
    from tests.integration.support import without_paused_text

    added = _lines(without_paused_text(), PAUSE)
    assert "phase paused added" in added
    assert "transition pause (active → paused) added" in added


def test_initial_terminal_deadline_on_enter_and_resources() -> None:
    policy = _policy(PAUSE)
    data = policy.normalised()
    phase = data["phases"]["paused"]
    phase |= {"terminal": True, "on_enter": [], "deadline": None, "resources": ["https://intranet/leave"]}
    data["transitions"] = [t for t in data["transitions"] if t["trigger"] != "resume"]
    new = Policy.model_validate(data)
    lines = [d.line for d in differences(policy, new)]
    assert "phase paused: terminal: no → yes" in lines
    assert "phase paused: on_enter: [notify_coordinator] → []" in lines
    assert "phase paused: deadline: after: 3 months, action: escalate → none" in lines
    assert "phase paused: resources: [] → [https://intranet/leave]" in lines
    assert "transition resume (paused → active) removed" in lines


def test_a_transition_changed_in_its_requires_auto_and_phases() -> None:
    policy = _policy(PAUSE)
    data = policy.normalised()
    renew = next(t for t in data["transitions"] if t["trigger"] == "renew")
    renew |= {"requires": [], "auto": True}
    pause = next(t for t in data["transitions"] if t["trigger"] == "pause")
    pause["from"] = ["active", "kickoff"]
    new = Policy.model_validate(data)
    lines = [d.line for d in differences(policy, new)]
    assert "transition renew (review → active): requires: [survey_complete] → []" in lines
    assert "transition renew (review → active): auto: no → yes" in lines
    assert "transition pause (active → paused): from: active → [active, kickoff]" in lines
    assert len(lines) == 3


def test_matching_surveys_retention_and_links() -> None:
    policy = _policy(PAUSE)
    data = policy.normalised()
    data["matching"]["weights"]["skills"] = 2.0
    data["links"] = {"expire_after": "30 days"}
    new = Policy.model_validate(data)
    lines = [d.line for d in differences(policy, new)]
    assert "matching.weights.skills: 3 → 2" in lines
    assert any(line.startswith("links added") for line in lines)
    surveyed = _edited("policy: default", "policy: default\nsurveys:\n  final: {}", DEFAULT)
    assert "survey final added" in _lines(DEFAULT, surveyed)
    assert "survey final removed" in _lines(surveyed, DEFAULT)


def test_retention_added_and_removed() -> None:
    retained = _edited("policy: default", "policy: default\nretention:\n  closed_relationships: 2 years")
    assert [line.split(" (")[0] for line in _lines(DEFAULT, retained)] == ["retention added"]
    assert [line.split(" (")[0] for line in _lines(retained, DEFAULT)] == ["retention removed"]
