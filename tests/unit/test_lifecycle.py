"""The lifecycle without a database: which triggers fire, and refusals that say what is missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.domain.lifecycle import Lifecycle, unmet
from engine.errors import RefusedError
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.policy.vocabulary import Facts

ENTERED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _facts(**changes: object) -> Facts:
    values: dict[str, object] = {"now": ENTERED, "phase_entered_at": ENTERED, **changes}
    return Facts(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def default() -> Lifecycle:
    return Lifecycle(load_policy(shipped_policies()["default"]))


@pytest.fixture(scope="module")
def with_pause() -> Lifecycle:
    return Lifecycle(load_policy(shipped_policies()["with-pause"]))


def _refusal(lifecycle: Lifecycle, phase: str, trigger: str, facts: Facts) -> str:
    with pytest.raises(RefusedError) as caught:
        lifecycle.fire(phase, trigger, facts)
    return caught.value.message


@pytest.mark.parametrize(
    ("phase", "trigger", "facts", "dest"),
    [
        ("intake", "match", {"mentor_id": 3}, "matched"),
        ("matched", "schedule_kickoff", {"mentor_id": 3, "mentor_trained": True}, "kickoff"),
        ("kickoff", "start", {"kickoff_held": True}, "active"),
        ("active", "review", {"now": ENTERED + timedelta(days=181)}, "review"),
        ("review", "renew", {"surveys_answered": frozenset({"mentor", "mentee"})}, "active"),
        ("review", "close", {"surveys_answered": frozenset({"mentor", "mentee"})}, "closed"),
        ("active", "close", {"reason": "moved abroad"}, "closed"),
    ],
)
def test_each_default_transition_fires_when_its_requires_hold(
    default: Lifecycle, phase: str, trigger: str, facts: dict[str, object], dest: str
) -> None:
    move = default.fire(phase, trigger, _facts(**facts))

    assert (move.source, move.trigger, move.dest) == (phase, trigger, dest)


def test_close_from_review_takes_the_first_edge_whose_requires_hold(default: Lifecycle) -> None:
    by_survey = default.fire("review", "close", _facts(surveys_answered=frozenset({"mentor", "mentee"})))
    by_reason = default.fire("review", "close", _facts(reason="budget cut"))

    assert [c.name for c in by_survey.edge.requires] == ["survey_complete"] and by_survey.edge.auto
    assert [c.name for c in by_reason.edge.requires] == ["reason"] and not by_reason.edge.auto


@pytest.mark.parametrize(
    ("phase", "trigger", "facts", "expected"),
    [
        (
            "intake",
            "match",
            {},
            "'match' from phase 'intake' refused: no mentor is assigned (give `mentor` ID)",
        ),
        (
            "matched",
            "schedule_kickoff",
            {"mentor_id": 3},
            "refused: the mentor has not finished the mentor training",
        ),
        ("matched", "schedule_kickoff", {}, "refused: no mentor is assigned"),
        ("kickoff", "start", {}, "refused: no kickoff meeting has been recorded"),
        (
            "active",
            "review",
            {"now": ENTERED + timedelta(days=100)},
            "refused: the pair has been in 'active' less than 6 months (until 2026-07-05 09:00)",
        ),
        (
            "review",
            "renew",
            {"surveys_answered": frozenset({"mentee"})},
            "refused: the survey of this phase is not answered by the mentor",
        ),
        ("active", "close", {"reason": "  "}, "refused: a reason is required (give `reason`)"),
    ],
)
def test_a_refusal_names_the_unmet_condition(
    default: Lifecycle, phase: str, trigger: str, facts: dict[str, object], expected: str
) -> None:
    assert expected in _refusal(default, phase, trigger, _facts(**facts))


def test_a_refusal_with_several_ways_out_names_each(default: Lifecycle) -> None:
    message = _refusal(default, "review", "close", _facts())

    assert message == (
        "'close' from phase 'review' refused: the survey of this phase is not answered by the mentee "
        "and the mentor; or a reason is required (give `reason`)"
    )


def test_a_refusal_names_every_unmet_condition_of_one_edge(with_pause: Lifecycle) -> None:
    facts = _facts(surveys_answered=frozenset({"mentor"}), meetings_held=4)

    message = _refusal(with_pause, "review", "close", facts)

    assert "not answered by the mentee and 4 meeting(s) held, at least 6 required" in message
    assert "; or a reason is required" in message


def test_an_unknown_trigger_lists_the_known_ones(default: Lifecycle) -> None:
    message = _refusal(default, "intake", "graduate", _facts())

    assert message == (
        "unknown trigger 'graduate' (expected one of: close, match, renew, review, schedule_kickoff, start)"
    )


def test_a_trigger_from_the_wrong_phase_lists_those_allowed(default: Lifecycle) -> None:
    message = _refusal(default, "intake", "start", _facts(kickoff_held=True))

    assert message == "'start' is not allowed from phase 'intake' (allowed from 'intake': match, close)"


def test_a_terminal_phase_allows_nothing(default: Lifecycle) -> None:
    message = _refusal(default, "closed", "close", _facts(reason="again"))

    assert "(allowed from 'closed': none: the phase is terminal)" in message


def test_a_phase_the_policy_does_not_have_is_refused(default: Lifecycle) -> None:
    message = _refusal(default, "paused", "close", _facts(reason="x"))

    assert "phase 'paused', which policy 'default' does not have" in message


def test_a_refusal_leaves_the_lifecycle_usable(default: Lifecycle) -> None:
    _refusal(default, "intake", "match", _facts())

    assert default.fire("intake", "match", _facts(mentor_id=1)).dest == "matched"
    assert default.try_fire("intake", "match", _facts()) is None


def test_triggers_and_auto_edges_from_a_phase(default: Lifecycle, with_pause: Lifecycle) -> None:
    assert default.triggers_from("review") == ["renew", "close"]
    assert default.triggers_from("closed") == []
    assert with_pause.triggers_from("active") == ["pause", "review", "close"]
    assert [(e.trigger, e.dest) for e in default.auto_edges_from("review")] == [("close", "closed")]
    assert default.auto_edges_from("intake") == []
    assert default.phases == ["intake", "matched", "kickoff", "active", "review", "closed"]


def test_unmet_is_empty_exactly_when_the_edge_may_be_taken() -> None:
    policy: Policy = load_policy(shipped_policies()["default"])
    review = next(e for e in policy.edges if e.trigger == "review")

    six_months = datetime(2026, 7, 5, 9, 0, tzinfo=UTC)

    assert unmet(review, _facts(now=six_months)) == []
    assert unmet(review, _facts(now=six_months - timedelta(microseconds=1))) == [
        "the pair has been in 'active' less than 6 months (until 2026-07-05 09:00)"
    ]
