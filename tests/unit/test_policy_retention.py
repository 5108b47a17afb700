"""The policy's ``retention:`` block: how long each kind of personal data is kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.errors import PolicyError
from engine.policy.durations import Duration
from engine.policy.model import load_policy, load_policy_text, resolve_policy_path
from engine.policy.outline import from_json, outline_of, to_json
from engine.policy.retention_periods import KINDS, retention_rules
from engine.services.retention import purged_line

DAY = 86400


def _default_text() -> str:
    return Path(resolve_policy_path("default")).read_text(encoding="utf-8")


def _with(block: str) -> str:
    return _default_text().rstrip("\n") + "\n" + block


def test_without_the_block_nothing_is_purged_and_the_digest_stays() -> None:
    shipped = load_policy(resolve_policy_path("default"))
    assert shipped.retention is None and retention_rules(shipped) is None
    assert "retention" not in shipped.normalised()
    assert load_policy_text(_default_text(), "default.yaml").digest == shipped.digest
    assert outline_of(shipped).retention is None


def test_the_block_is_part_of_the_version_by_its_meaning_not_its_spelling() -> None:
    shipped = load_policy(resolve_policy_path("default"))
    policy = load_policy_text(
        _with("retention:\n  survey_text: 6 months\n  meeting_notes: 14 days\n"), "p.yaml"
    )
    assert policy.normalised()["retention"] == {"survey_text": "6 months", "meeting_notes": "2 weeks"}
    assert policy.digest != shipped.digest
    same = load_policy_text(_with("retention: {meeting_notes: 2w, survey_text: 6mo}\n"), "p.yaml")
    assert same.digest == policy.digest


def test_left_participants_follow_closed_relationships_unless_given() -> None:
    policy = load_policy_text(_with("retention:\n  closed_relationships: 2 years\n"), "p.yaml")
    rules = retention_rules(policy)
    assert rules is not None
    assert dict(rules.periods) == {
        "closed_relationships": Duration(months=24),
        "left_participants": Duration(24),
    }
    assert rules.closed_phases == frozenset({"closed"})
    assert policy.normalised()["retention"] == {
        "closed_relationships": "2 years"
    }  # the default is not written
    own = retention_rules(load_policy_text(_with("retention:\n  closed_relationships: 2 years\n"
                                                 "  left_participants: 1 year\n"), "p.yaml"))  # fmt: skip
    assert own is not None and own.periods["left_participants"] == Duration(months=12)


def test_a_cutoff_counts_calendar_months_back() -> None:
    policy = load_policy_text(
        _with("retention:\n  survey_text: 6 months\n  message_bodies: 30 days\n"), "p.yaml"
    )
    rules = retention_rules(policy)
    assert rules is not None
    now = datetime(2026, 8, 31, 12, 0, tzinfo=UTC)
    assert rules.cutoff("survey_text", now) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert rules.cutoff("message_bodies", now) == datetime(2026, 8, 1, 12, 0, tzinfo=UTC)
    assert rules.cutoff("meeting_notes", now) is None  # kept as long as the store lasts


def test_the_outline_keeps_the_rules_for_status() -> None:
    policy = load_policy_text(
        _with("retention:\n  meeting_notes: 1 year\n  closed_relationships: 2y\n"), "p.yaml"
    )
    outline = outline_of(policy)
    assert outline.retention == retention_rules(policy)
    assert from_json(to_json(outline)) == outline


@pytest.mark.parametrize(
    ("block", "said"),
    [
        ("retention:\n  survey_text: 6 monts\n", 'retention.survey_text: "6 monts" is not a duration'),
        ("retention:\n  survey_text: 180\n", "retention.survey_text: 180 is not a duration: say which unit"),
        ("retention:\n  meeting_notes: 3m\n", '"m" could be minutes or months (write "3min" or "3mo")'),
        (
            "retention:\n  message_bodies: 2 hours\n",
            "retention.message_bodies: 2 hours is too short a retention",
        ),
        ("retention:\n  survey_txt: 6 months\n", 'unknown key "survey_txt": did you mean "survey_text"?'),
        ("retention:\n  goals: 6 months\n", "(expected one of: " + ", ".join(KINDS) + ")"),
    ],
)
def test_a_wrong_period_or_kind_names_its_file_line_and_field(block: str, said: str) -> None:
    text = _with(block)
    line = text.count("\n", 0, text.index("retention:")) + 2  # the line of the kind under retention:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "team.yaml")
    assert f"team.yaml:{line}: retention." in " ".join(caught.value.problems)
    assert said in " ".join(caught.value.problems)


def test_an_empty_block_says_what_to_write() -> None:
    text = _with("retention: {}\n")
    line = text.count("\n", 0, text.index("retention:")) + 1
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "team.yaml")
    assert f"team.yaml:{line}: retention: no kind of data is given a period" in caught.value.problems[0]


def test_what_was_purged_reads_in_one_line() -> None:
    assert purged_line({}) == "nothing"
    assert purged_line({"meeting_notes": 2, "survey_text": 3, "message_bodies": 0}) == (
        "3 survey text(s), 2 meeting note(s)"
    )
