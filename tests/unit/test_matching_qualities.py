"""Personal qualities as a matching criterion: its score, its words, its weight, the policy's version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.domain.participants import Participant
from engine.files.participants import parse_participants_csv
from engine.matching.proposals import Pool, prepare
from engine.matching.records import breakdown_data
from engine.matching.scores import pair_breakdown
from engine.policy.matching import CRITERIA, MatchingPolicy, Weights
from engine.policy.model import load_policy, load_policy_text, shipped_policies
from engine.reporting.insights import criterion_signals, insights
from tests.unit.metrics_support import History, outcomes

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).parents[2] / "examples" / "participants.csv"
WEIGHED = Weights(qualities=2)
NOISE = (0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0, 1.0, 0.5)
BUDDY_BEFORE = "sha256:09fd13bed6d518b396f9c3751684a32dcd817e7e818387c5c78e52e93fdd7e0f"
PAUSE_BEFORE = "sha256:2bb662fc56a1e0d20199291bc3dc8876f80e2e4b3a09b172f0ecc1bea4826236"
"""The versions of onboarding-buddy and with-pause (version 1) before there was a ``qualities`` weight."""


def person(key: str, role: str = "mentee", **fields: Any) -> Participant:
    return Participant(external_id=key, role=role, name=key.title(), email=f"{key}@example.com", **fields)


def qualities_of(mentee: Participant, mentor: Participant, weights: Weights = WEIGHED) -> Any:
    breakdown = pair_breakdown(mentee, mentor, weights, (1.0, 1.0))
    return {c.criterion: c for c in breakdown.criteria}.get("qualities")


# -- the score and its explanation ----------------------------------------------------------------


def test_the_share_of_the_qualities_the_mentee_looks_for_that_the_mentor_brings() -> None:
    mentee = person("m", qualities=("Patience", "empathy", "humour"))
    coach = person("c", "mentor", qualities=("empathy", "patience ", "reliability"))

    found = qualities_of(mentee, coach)

    assert found.score == pytest.approx(2 / 3) and found.weight == 2.0
    assert found.detail == "qualities 2/3 Patience, empathy"


def test_qualities_are_compared_without_case_accents_spaces_or_punctuation() -> None:
    mentee = person("m", qualities=("Open-ness", "Zelfreflectie", "EMPATHY"))
    coach = person("c", "mentor", qualities=("openness", "zelf reflectie", "empathy"))

    assert qualities_of(mentee, coach).score == 1.0


def test_none_in_common_scores_zero_and_says_so() -> None:
    found = qualities_of(person("m", qualities=("patience",)), person("c", "mentor", qualities=("humour",)))

    assert (found.score, found.detail) == (0.0, "qualities 0/1")


def test_a_mentee_who_names_none_leaves_the_criterion_unknown_not_zero() -> None:
    mentee = person("m", wants=("python",))
    coach = person("c", "mentor", skills=("python",), qualities=("patience",))

    found = qualities_of(mentee, coach)
    breakdown = pair_breakdown(mentee, coach, WEIGHED, (1.0, 1.0))

    assert found.score is None
    assert found.detail == "the mentee named no personal qualities they look for"
    assert breakdown.total == 1.0  # skills 1, time zone 1; qualities not counted against the mentor


def test_the_total_weighs_the_qualities_with_the_others() -> None:
    mentee = person("m", wants=("python",), qualities=("patience", "empathy"))
    coach = person("c", "mentor", skills=("python",), qualities=("patience",))

    breakdown = pair_breakdown(mentee, coach, Weights(qualities=4), (1.0, 1.0))

    # skills 1 (weight 3), time zone 1 (weight 1), qualities 1/2 (weight 4)
    assert breakdown.total == pytest.approx((3 * 1 + 1 * 1 + 4 * 0.5) / 8)
    row = breakdown_data(breakdown)["criteria"][-1]
    assert (row["criterion"], row["label"], row["score"]) == ("qualities", "personal qualities", 0.5)


def test_a_policy_that_does_not_weigh_them_scores_pairs_exactly_as_before() -> None:
    mentee = person("m", wants=("python",), qualities=("patience",))
    coach = person("c", "mentor", skills=("python",))

    breakdown = pair_breakdown(mentee, coach, Weights(), (1.0, 1.0))

    assert qualities_of(mentee, coach, Weights()) is None  # not even a row in the breakdown
    assert [c.criterion for c in breakdown.criteria] == [n for n in CRITERIA if n != "qualities"]
    assert qualities_of(mentee, coach, Weights(qualities=0)).weight == 0.0  # weight 0: shown, not counted
    assert pair_breakdown(mentee, coach, Weights(qualities=0), (1.0, 1.0)).total == breakdown.total


# -- the matrices agree with the pair-by-pair scores ----------------------------------------------


def example_pool() -> Pool:
    people = parse_participants_csv(EXAMPLES)
    return Pool(
        mentees=[p for p in people if p.role == "mentee"],
        mentors=[p for p in people if p.role == "mentor"],
        managers={p.external_id: p.manager_id for p in people if p.external_id and p.manager_id},
    )


@pytest.mark.parametrize("weights", [WEIGHED, Weights(qualities=0), Weights()])
def test_the_matrices_equal_the_pair_by_pair_breakdown_with_qualities(weights: Weights) -> None:
    policy = MatchingPolicy(weights=weights)
    instance = prepare(example_pool(), policy, NOW, "Europe/Amsterdam")
    assert ("qualities" in instance.scores.criteria) == (weights.qualities is not None)
    pool = instance.pool
    for i, mentee in enumerate(pool.mentees):
        for j, coach in enumerate(pool.mentors):
            offsets = (instance.offsets[0][i], instance.offsets[1][j])
            breakdown = pair_breakdown(mentee, coach, weights, offsets)
            assert instance.scores.total[i, j] == pytest.approx(breakdown.total)
            assert set(instance.scores.criteria) == {c.criterion for c in breakdown.criteria}
            for c in breakdown.criteria:
                value = instance.scores.criteria[c.criterion][i, j]
                assert (np.isnan(value) and c.score is None) or value == pytest.approx(c.score)


def test_the_example_mentees_name_qualities_their_mentors_bring() -> None:
    instance = prepare(example_pool(), MatchingPolicy(weights=WEIGHED), NOW, "Europe/Amsterdam")
    scores = instance.scores.criteria["qualities"]
    assert not np.isnan(scores).any()  # every example mentee names some
    assert (np.nanmax(scores, axis=1) > 0).all()  # and for each some mentor brings one


# -- the weight in the policy, and the policy's version -------------------------------------------


def _shipped(name: str) -> str:
    return Path(shipped_policies()[name]).read_text(encoding="utf-8")


def _as_before(name: str, weight: str) -> str:
    """The shipped policy ``name`` as it was before it weighed the qualities: version 1, no ``weight``."""
    text = _shipped(name).replace("version: 2", "version: 1")
    assert weight in text
    return text.replace(weight, "")


def test_a_policy_that_does_not_weigh_qualities_keeps_the_version_it_had_before() -> None:
    buddy = _as_before("onboarding-buddy", ", qualities: 2")
    pause = _as_before("with-pause", "  weights: {qualities: 1}\n")

    assert load_policy_text(buddy, "buddy-v1.yaml").digest == BUDDY_BEFORE
    assert load_policy_text(pause, "pause-v1.yaml").digest == PAUSE_BEFORE
    assert "qualities" not in load_policy_text(buddy, "buddy-v1.yaml").normalised()["matching"]["weights"]
    spelt = pause.replace("  mode: stable\n", "  mode: stable\n  weights: {qualities: null}\n")
    assert load_policy_text(spelt, "pause-null.yaml").digest == PAUSE_BEFORE  # null: not weighed


def test_a_qualities_weight_is_part_of_the_version_even_when_it_is_zero() -> None:
    buddy = _shipped("onboarding-buddy")
    zero = load_policy_text(buddy.replace("qualities: 2}", "qualities: 0}"), "zero.yaml")

    assert zero.matching.weights.weighed == CRITERIA
    assert zero.normalised()["matching"]["weights"]["qualities"] == 0.0
    assert zero.digest not in (BUDDY_BEFORE, load_policy_text(buddy, "buddy.yaml").digest)


@pytest.mark.parametrize(("name", "weight"), [("onboarding-buddy", 2.0), ("with-pause", 1.0)])
def test_the_shipped_policies_weigh_the_qualities(name: str, weight: float) -> None:
    policy = load_policy(shipped_policies()[name])
    assert policy.version == 2
    assert policy.matching.weights.qualities == weight


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("-1", "matching.weights.qualities"),
        (".inf", "is not a finite number"),
        ("lots", "matching.weights.qualities"),
    ],
)
def test_a_bad_qualities_weight_is_refused_with_its_place(value: str, problem: str) -> None:
    from engine.errors import PolicyError

    text = _shipped("onboarding-buddy").replace("qualities: 2}", f"qualities: {value}}}")
    with pytest.raises(PolicyError) as refused:
        load_policy_text(text, "buddy.yaml")
    shown = "\n".join([str(refused.value), *getattr(refused.value, "problems", ())])
    assert problem in shown and "buddy.yaml:" in shown


# -- the insight ----------------------------------------------------------------------------------


def _predicted_by_qualities() -> list[History]:
    """Twelve pairs whose satisfaction follows their qualities score; skills is noise."""
    pairs = []
    for i in range(12):
        share = i / 11
        h = History(i + 1).match(1, 0.5, qualities=share, skills=NOISE[i])
        pairs.append(h.answered(200, "mentee", satisfaction=1 + round(4 * share)))
    return pairs


def test_the_insights_judge_the_qualities_like_the_other_criteria() -> None:
    policy = load_policy(shipped_policies()["onboarding-buddy"])

    found = insights(outcomes(*_predicted_by_qualities()), policy, NOW)

    first = found.criteria[0]
    assert (first.criterion, first.label, first.weight) == ("qualities", "personal qualities", 2.0)
    assert first.judged and first.n == 12
    assert first.rho is not None and first.rho > 0.95
    assert found.current_weights["qualities"] == 2.0
    assert found.weights is not None and found.weights["qualities"] > 2.0


def test_a_policy_without_the_weight_has_no_qualities_insight_unless_proposals_were_scored_on_it() -> None:
    policy = load_policy_text(_as_before("onboarding-buddy", ", qualities: 2"), "buddy-v1.yaml")
    plain = [History(i + 1).match(1, 0.5, skills=i / 11) for i in range(3)]
    assert "qualities" not in {s.criterion for s in criterion_signals(outcomes(*plain), policy)}
    assert "qualities" not in insights(outcomes(*plain), policy, NOW).current_weights
    scored = {s.criterion: s for s in criterion_signals(outcomes(*_predicted_by_qualities()), policy)}
    assert (scored["qualities"].n, scored["qualities"].weight) == (12, 0.0)  # scored under another version
