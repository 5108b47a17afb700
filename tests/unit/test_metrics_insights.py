"""Insights on hand-built histories: which criterion predicted satisfaction, stalls, pairs to look at."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.policy.model import Policy, load_policy, load_policy_text, shipped_policies
from engine.reporting.insight_text import insights_data, insights_text
from engine.reporting.insights import (
    MIN_PAIRS,
    MIN_RHO,
    CriterionSignal,
    criterion_signals,
    insights,
    needing_attention,
    stalls,
    suggested_weights,
    weights_yaml,
)
from tests.design_policy import matching_replaced
from tests.unit.metrics_support import History, day, outcomes

ZONE = ZoneInfo("Europe/Amsterdam")
NOISE = (0.3, 0.9, 0.1, 0.5, 0.7, 0.2, 0.8, 0.4, 0.6, 0.0, 1.0, 0.5)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(shipped_policies()["default"])


def _predicted_by_compatibility() -> list[History]:
    """Twelve pairs whose satisfaction follows their compatibility score; skills is noise."""
    pairs = []
    for i in range(12):
        compatibility = i / 11
        h = History(i + 1).match(1, 0.5, compatibility=compatibility, skills=NOISE[i], language=None)
        h.answered(200, "mentee", satisfaction=1 + round(4 * compatibility))
        pairs.append(h)
    return pairs


def test_the_criterion_that_follows_satisfaction_comes_first(policy: Policy) -> None:
    signals = criterion_signals(outcomes(*_predicted_by_compatibility()), policy)

    first = signals[0]
    assert first.criterion == "compatibility" and first.judged and first.n == 12
    assert first.rho is not None and first.rho > 0.95
    by_name = {s.criterion: s for s in signals}
    assert by_name["skills"].judged and abs(by_name["skills"].rho or 0) < 0.5
    assert not by_name["language"].judged and by_name["language"].n == 0  # never scored
    assert [s.criterion for s in signals[-4:]] == ["goals_and_interests", "language", "timezone", "qualities"]


def test_the_reweighting_shares_the_judged_weight_by_positive_correlation(policy: Policy) -> None:
    signals = criterion_signals(outcomes(*_predicted_by_compatibility()), policy)
    rho = {s.criterion: s.rho or 0.0 for s in signals}

    weights = suggested_weights(signals)

    assert weights is not None
    judged_total = 3.0 + 2.0  # skills and compatibility: half of that total moves by correlation
    positive = (rho["skills"] if rho["skills"] >= MIN_RHO else 0) + rho["compatibility"]
    assert weights["compatibility"] == round(2.0 / 2 + judged_total / 2 * rho["compatibility"] / positive, 1)
    assert weights["skills"] >= 3.0 / 2  # a criterion without a clear relation keeps half its weight
    unjudged = ("goals_and_interests", "language", "timezone", "qualities")
    assert tuple(weights[c] for c in unjudged) == (2.0, 1.0, 1.0, 1.0)
    order = ["skills", "goals_and_interests", "compatibility", "language", "timezone", "qualities"]
    assert list(weights) == order


def test_the_policy_snippet_loads_as_the_matching_section_of_a_policy(policy: Policy) -> None:
    weights = suggested_weights(criterion_signals(outcomes(*_predicted_by_compatibility()), policy))
    assert weights is not None
    default = Path(shipped_policies()["default"]).read_text(encoding="utf-8")

    snippet_in = matching_replaced(default, weights_yaml(weights))  # replaces, not a second block

    changed = load_policy_text(snippet_in, "default+insights.yaml")

    assert {c: changed.matching.weights.of(c) for c in weights} == weights


def test_no_reweighting_without_enough_pairs_or_a_positive_correlation(policy: Policy) -> None:
    few = outcomes(*_predicted_by_compatibility()[: MIN_PAIRS - 1])
    assert suggested_weights(criterion_signals(few, policy)) is None

    reversed_ = []
    for i in range(12):
        h = History(i + 1).match(1, 0.5, compatibility=i / 11)
        reversed_.append(h.answered(200, "mentor", satisfaction=5 - round(4 * i / 11)))
    assert suggested_weights(criterion_signals(outcomes(*reversed_), policy)) is None
    faint = CriterionSignal("compatibility", 2.0, MIN_RHO / 2, tuple(range(1, 13)))  # judged, but noise
    assert faint.judged
    assert suggested_weights([faint]) is None


def test_stalls_count_deadlines_passed_and_silences_per_pair(policy: Policy) -> None:
    late = History(1).through(1, 16).close_early(17, "moved")  # kickoff from day 1 to 16: past 10 days
    quiet = History(2).through(1, 3).met(30).met(80)  # 27 days quiet, then 50 (past 6 weeks)
    steady = History(3).through(1, 3)
    for on in range(15, 100, 14):
        steady.met(on)

    ranked = stalls(outcomes(late, quiet, steady), policy, day(100))
    found = {s.phase: s for s in ranked}

    assert found["kickoff"].deadline_missed == (1,) and found["kickoff"].per_pair == pytest.approx(1 / 3)
    assert found["active"].quiet_spells == (2, 2) and found["active"].escalated_spells == (2,)
    assert found["active"].pairs_affected == [2]
    assert [s.phase for s in ranked[:2]] == ["active", "kickoff"]  # 2 lapses over 2 pairs, then 1 over 3


def test_attention_puts_escalations_first_then_low_satisfaction(policy: Policy) -> None:
    silent = History(1).through(1, 2)  # active and never met: escalated after 6 weeks
    unhappy = History(2).through(1, 2).met(45).answered(46, "mentee", "pulse", satisfaction=2)
    fine = History(3).through(1, 2).met(40).answered(41, "mentee", "pulse", satisfaction=4)
    gone = History(4).through(1, 2).close_early(10, "moved")
    reminded = History(5).through(1, 2).met(25)  # 25 days quiet at day 50

    found = needing_attention(outcomes(silent, unhappy, fine, gone, reminded), policy, day(50))

    assert [a.relationship_id for a in found] == [1, 2, 5]
    assert found[0].escalated and found[1].satisfaction == {"mentee": 2}
    assert [o.action for o in found[2].overdue] == ["remind"]


def test_the_sentences_name_the_criterion_with_its_numbers(policy: Policy) -> None:
    pairs = outcomes(*_predicted_by_compatibility())
    found = insights(pairs, policy, day(250))
    names = {1: ("Zoë Çelik", "Jeroen van den Bergh")}

    text = insights_text(found, names, ZONE)
    data = insights_data(found, names, ZONE)

    assert "Compatibility predicted good relationships best" in text
    assert "n = 12 pairs" in text and "matching:\n      weights:" in text
    assert data["criteria"][0]["criterion"] == "compatibility"
    assert data["policy_snippet"].startswith("matching:\n  weights:\n")
    assert data["sentences"]["matching"][0].startswith("Compatibility")
