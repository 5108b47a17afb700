"""Loading phase policies: the shipped files, ``from: "*"``, the version digest, the JSON Schema.

The error messages of broken policies are tested in ``test_policy_errors.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.policy.model import Policy, load_policy, load_policy_text, shipped_policies
from engine.policy.vocabulary import ACTIONS, CONDITIONS
from tests.design_policy import DESIGN_BLOCK

# The same policy written out longhand: other layout, comments, key order, phase order,
# quoting, and every duration, cadence and parameter spelled another way.
DESIGN_LONGHAND = """\
# The default program, written the long way round.
version: 1
policy: "default"
program:
  timezone: Europe/Amsterdam
  duration: half a year is not a duration, so:
phases:
  closed:
    on_enter:
      - send_survey: {survey: closing}
    terminal: true
  intake:
    deadline:
      action: escalate
      after: 3 weeks
    initial: true
  matched:
    deadline: {action: escalate, after: 2 weeks}
    on_enter:
      - notify_pair
      - enrol_mentor_training
  kickoff:
    deadline: {after: 240h, action: remind}
    on_enter: [schedule_kickoff_meeting, send_mentee_guide]
  active:
    cadence:
      escalate_after: 42 days
      remind_after: 21d
      check_in: fortnightly
  review:
    deadline: {action: remind, after: 2w}
    on_enter:
      - {send_survey: final}
description: 'Six-month program with fortnightly check-ins.'
transitions:
  - trigger: match
    to: matched
    from: intake
    requires:
      - mentor_assigned
  - {trigger: schedule_kickoff, from: [matched], to: kickoff, requires: [mentor_trained], auto: true}
  - {auto: true, trigger: start, from: kickoff, to: active, requires: [kickoff_held]}
  - {trigger: review, from: active, to: review, after: program.duration, auto: true}
  - {trigger: renew, from: review, to: active, requires: [survey_complete], auto: false}
  - {trigger: close, from: review, to: closed, requires: [survey_complete], auto: true}
  - {trigger: close, from: '*', to: closed, requires: [reason]}
""".replace("half a year is not a duration, so:", "6 mo")

POLICY_ROOT = Path(__file__).resolve().parents[2] / "policies"


def _load(text: str) -> Policy:
    return load_policy_text(text, "policies/team.yaml")


def _edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"the fixture must contain {old!r} once"
    return text.replace(old, new)


# --- the shipped policies -------------------------------------------------------------------


def test_the_default_runs_the_lifecycle_of_the_design_with_the_guide_s_program_around_it() -> None:
    shipped = load_policy(POLICY_ROOT / "default.yaml").normalised()
    design = _load(DESIGN_BLOCK).normalised()
    added = ("version", "description", "matching", "sessions")
    for data in (shipped, design):
        for key in added:
            data.pop(key, None)
        data["program"].pop("goals")
        for phase in data["phases"].values():
            phase.pop("resources")
    assert shipped == design  # the same phases, deadlines, cadence and transitions
    default = load_policy(POLICY_ROOT / "default.yaml")
    assert default.version == 2 and [g.id for g in default.program.goal_list] == [
        "leadership", "communication", "career", "network"
    ]  # fmt: skip
    assert {name for name, phase in default.phases.items() if phase.resources} == {
        "kickoff",
        "active",
        "review",
    }


def test_at_least_three_policies_are_shipped() -> None:
    assert {"default", "with-pause", "onboarding-buddy"} <= set(shipped_policies())


@pytest.mark.parametrize("name", sorted(shipped_policies()))
def test_every_shipped_policy_loads(name: str) -> None:
    policy = load_policy(shipped_policies()[name])
    assert policy.policy == name
    assert policy.phases[policy.initial_phase].initial
    assert any(phase.terminal for phase in policy.phases.values())
    assert policy.digest.startswith("sha256:")


def test_the_default_policy_has_the_lifecycle_of_the_design() -> None:
    policy = load_policy(shipped_policies()["default"])
    assert list(policy.phases) == ["intake", "matched", "kickoff", "active", "review", "closed"]
    assert policy.initial_phase == "intake"
    assert [name for name, phase in policy.phases.items() if phase.terminal] == ["closed"]
    assert str(policy.program.duration) == "6 months"
    cadence = policy.phases["active"].cadence
    assert cadence is not None
    assert (str(cadence.check_in), str(cadence.remind_after), str(cadence.escalate_after)) == (
        "2 weeks",
        "3 weeks",
        "6 weeks",
    )
    review = next(edge for edge in policy.edges if edge.trigger == "review")
    assert review.after == policy.program.duration and review.auto
    survey = policy.phases["review"].on_enter[0]
    assert (survey.name, survey.to_yaml()) == ("send_survey", {"send_survey": "final"})


def test_the_shipped_examples_differ_from_the_default_in_a_real_way() -> None:
    policies = {name: load_policy(path) for name, path in shipped_policies().items()}
    default, pause, buddy = policies["default"], policies["with-pause"], policies["onboarding-buddy"]
    assert len({policy.digest for policy in policies.values()}) == len(policies)
    # with-pause: an extra phase, in and out of it, and a stricter close
    assert set(pause.phases) - set(default.phases) == {"paused"}
    assert {(e.trigger, e.source, e.dest) for e in pause.edges} >= {
        ("pause", "active", "paused"),
        ("resume", "paused", "active"),
    }
    close = next(e for e in pause.edges if e.trigger == "close" and e.source == "review" and e.auto)
    assert {call.name for call in close.requires} == {"survey_complete", "meetings_held"}
    # onboarding-buddy: a shorter program, a weekly rhythm, no renewal, a deadline that fires a trigger
    assert str(buddy.program.duration) == "3 months"
    cadence = buddy.phases["active"].cadence
    assert cadence is not None and str(cadence.check_in) == "1 week"
    assert "renew" not in {edge.trigger for edge in buddy.edges}
    deadline = buddy.phases["review"].deadline
    assert deadline is not None and deadline.fire == "close"


# --- from: "*" ------------------------------------------------------------------------------


def test_star_expands_to_every_non_terminal_phase() -> None:
    policy = load_policy(shipped_policies()["with-pause"])
    star = len(policy.transitions) - 1
    assert policy.transitions[star].source == "*"
    sources = [edge.source for edge in policy.edges if edge.index == star]
    assert sources == ["intake", "matched", "kickoff", "active", "paused", "review"]
    assert not [name for name in sources if policy.phases[name].terminal]


PAUSE_FROM_ANYWHERE = """\
policy: pause-anywhere
program: {duration: 3 months}
phases:
  intake: {initial: true}
  active: {}
  paused: {}
  closed: {terminal: true}
transitions:
  - {trigger: start, from: intake, to: active}
  - {trigger: pause, from: "*", to: paused}
  - {trigger: resume, from: paused, to: active}
  - {trigger: close, from: "*", to: closed, requires: [reason]}
"""


def test_star_does_not_lead_from_the_target_to_itself() -> None:
    policy = _load(PAUSE_FROM_ANYWHERE)
    pause = [(edge.source, edge.dest) for edge in policy.edges if edge.trigger == "pause"]
    assert pause == [("intake", "paused"), ("active", "paused")]
    close = [edge.source for edge in policy.edges if edge.trigger == "close"]
    assert close == ["intake", "active", "paused"]


def test_star_is_the_same_as_listing_every_non_terminal_phase() -> None:
    listed = _edit(DESIGN_BLOCK, 'from: "*"', "from: [intake, matched, kickoff, active, review]")
    star, explicit = _load(DESIGN_BLOCK), _load(listed)
    assert [(e.trigger, e.source, e.dest) for e in star.edges] == [
        (e.trigger, e.source, e.dest) for e in explicit.edges
    ]


# --- the version digest ---------------------------------------------------------------------


def test_the_digest_is_a_sha256_of_the_content() -> None:
    digest = _load(DESIGN_BLOCK).digest
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    assert digest == _load(DESIGN_BLOCK).digest


def test_the_digest_ignores_layout_comments_key_order_and_how_durations_are_written() -> None:
    assert _load(DESIGN_LONGHAND).digest == _load(DESIGN_BLOCK).digest


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("14 days", "2 weeks"),
        ("14 days", "2w"),
        ("14 days", "336 hours"),
        ("14 days", "1 week 7 days"),
    ],
)
def test_a_duration_hashes_the_same_however_it_is_written(first: str, second: str) -> None:
    old = "deadline: {after: 14 days, action: escalate}"
    one = _edit(DESIGN_BLOCK, old, old.replace("14 days", first))
    other = _edit(DESIGN_BLOCK, old, old.replace("14 days", second))
    assert _load(one).digest == _load(other).digest


def test_a_parameter_hashes_the_same_short_or_long() -> None:
    text = (POLICY_ROOT / "with-pause.yaml").read_text("utf-8")
    short = _edit(text, "{meetings_held: {at_least: 6}}", "{meetings_held: 6}")
    assert _load(short).digest == _load(text).digest


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("version: 1", "version: 2"),
        ("description: Six-month program", "description: Six month program"),
        ("duration: 6 months", "duration: 7 months"),
        ("timezone: Europe/Amsterdam", "timezone: Europe/Brussels"),
        ("{after: 21 days, action: escalate}", "{after: 21 days, action: remind}"),
        ("{after: 21 days, action: escalate}", "{after: 22 days, action: escalate}"),
        ("check_in: every 2 weeks", "check_in: every 3 weeks"),
        ("[notify_pair, enrol_mentor_training]", "[notify_pair]"),
        ("{send_survey: final}", "{send_survey: pulse}"),
        ("requires: [mentor_assigned]}", "requires: [mentor_assigned, {goals_set: 1}]}"),
        (
            "to: matched, requires: [mentor_assigned]}",
            "to: matched, requires: [mentor_assigned], auto: true}",
        ),
        ("{trigger: renew, from: review, to: active", "{trigger: extend, from: review, to: active"),
    ],
)
def test_the_digest_changes_when_the_content_changes(old: str, new: str) -> None:
    assert _load(_edit(DESIGN_BLOCK, old, new)).digest != _load(DESIGN_BLOCK).digest


def test_the_digest_changes_when_transitions_are_reordered() -> None:
    """Order matters: of two auto transitions that hold at once, the first one fires."""
    lines = DESIGN_BLOCK.splitlines(keepends=True)
    swapped = "".join([*lines[:-3], lines[-2], lines[-3], lines[-1]])
    assert _load(swapped).digest != _load(DESIGN_BLOCK).digest


@pytest.mark.parametrize("name", sorted(shipped_policies()))
def test_the_normalised_policy_round_trips_through_yaml(name: str) -> None:
    policy = load_policy(shipped_policies()[name])
    dumped = yaml.safe_dump(policy.normalised(), sort_keys=False, allow_unicode=True)
    again = _load(dumped)
    assert again.digest == policy.digest
    assert again.normalised() == policy.normalised()


def test_the_normalised_policy_fills_in_defaults_and_writes_durations_one_way() -> None:
    data = _load(DESIGN_LONGHAND).normalised()
    assert data["program"]["duration"] == "6 months"
    assert data["phases"]["kickoff"]["deadline"] == {"after": "10 days", "action": "remind", "fire": None}
    assert data["phases"]["active"]["cadence"]["check_in"] == "every 2 weeks"
    assert data["phases"]["intake"]["terminal"] is False
    assert data["transitions"][0]["from"] == "intake"
    assert data["transitions"][0]["auto"] is False
    assert json.loads(json.dumps(data)) == data


# --- the JSON Schema ------------------------------------------------------------------------


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_the_json_schema_is_json_and_names_the_vocabulary() -> None:
    schema = Policy.model_json_schema(by_alias=True)
    text = json.dumps(schema)
    assert json.loads(text) == schema
    for name in [*CONDITIONS, *ACTIONS]:
        assert f'"{name}"' in text, f"the schema does not name {name}"
    definitions = schema["$defs"]
    missing = [ref for ref in _refs(schema) if ref.removeprefix("#/$defs/") not in definitions]
    assert not missing, missing
    assert "from" in definitions["Transition"]["properties"]
    assert "source" not in definitions["Transition"]["properties"]
    for model in ("Phase", "Transition", "Program", "Deadline", "Cadence"):
        assert definitions[model]["additionalProperties"] is False, model
    assert schema["additionalProperties"] is False
