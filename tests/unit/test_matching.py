"""Matching without a database: normalising text, scoring, hard constraints, assignment, explanations."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.domain.participants import Participant
from engine.errors import PolicyError
from engine.files.participants import parse_participants_csv
from engine.matching import assignment
from engine.matching import scores as scoring
from engine.matching.assignment import blocking_pairs, greedy, optimal, stable, total
from engine.matching.constraints import reporting_chain
from engine.matching.manual import offset_hours
from engine.matching.proposals import Pool, match, prepare
from engine.matching.scores import pair_breakdown, utc_offset_hours
from engine.matching.text import content_words, fold, item_key
from engine.policy.matching import Constraints, MatchingPolicy, Weights
from engine.policy.model import load_policy_text

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "participants.csv"


def person(key: str, role: str = "mentee", **fields: Any) -> Participant:
    return Participant(external_id=key, role=role, name=key.title(), email=f"{key}@example.com", **fields)


def mentor(key: str, **fields: Any) -> Participant:
    return person(key, "mentor", **fields)


def example_pool() -> Pool:
    people = parse_participants_csv(EXAMPLES)
    return Pool(
        mentees=[p for p in people if p.role == "mentee"],
        mentors=[p for p in people if p.role == "mentor"],
        managers={p.external_id: p.manager_id for p in people if p.external_id and p.manager_id},
    )


# -- text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["Projectmanagement", "project management", "Project-Management", " PROJECT  management "]
)
def test_list_items_are_compared_without_case_spaces_or_punctuation(spelling: str) -> None:
    assert item_key(spelling) == "projectmanagement"


def test_accents_and_special_letters_fold_away() -> None:
    assert fold("Zoë Çelik") == "zoe celik"
    assert item_key("Søren Ødegaard") == item_key("soren odegaard")
    assert item_key("Straße") == item_key("strasse")


def test_goal_sentences_keep_their_content_words() -> None:
    assert content_words("Lead a technical design within a year") == {"lead", "technical", "design"}


# -- scores -------------------------------------------------------------------------------------


def test_skills_are_the_share_of_wanted_skills_the_mentor_offers() -> None:
    mentee = person("m", wants=("Python", "Public speaking", "SQL"))
    coach = mentor("c", skills=("python", "publicspeaking", "negotiation"))
    skills = pair_breakdown(mentee, coach, Weights(), (1.0, 1.0)).criteria[0]
    assert skills.criterion == "skills"
    assert skills.score == pytest.approx(2 / 3)
    assert skills.detail == "2 of 3 wanted: Python, Public speaking"


def test_a_criterion_the_mentee_left_empty_is_left_out_not_counted_as_zero() -> None:
    mentee = person("m", wants=("python",))  # no goals, interests, values, languages
    coach = mentor("c", skills=("python",))
    breakdown = pair_breakdown(mentee, coach, Weights(), (1.0, 1.0))
    known = {c.criterion: c.score for c in breakdown.criteria}
    assert known == {
        "skills": 1.0,
        "goals_and_interests": None,
        "compatibility": None,
        "language": None,
        "timezone": 1.0,
    }
    assert breakdown.total == 1.0


def test_goals_meet_the_mentors_skills_and_goals_by_word() -> None:
    mentee = person("m", goals=("lead the treasury team", "speak at conferences"))
    coach = mentor("c", skills=("technical leadership",), goals=("help people grow",))
    goals = pair_breakdown(mentee, coach, Weights(), (0.0, 0.0)).criteria[1]
    assert goals.score == 0.5
    assert "lead~leadership" in goals.detail


def test_language_scores_the_mentees_first_language_highest() -> None:
    mentee = person("m", languages=("nl", "en"))
    scores = [
        pair_breakdown(mentee, mentor("c", languages=spoken), Weights(), (0.0, 0.0)).criteria[3].score
        for spoken in (("NL",), ("en", "fr"), ("de",))
    ]
    assert scores == [1.0, 0.5, 0.0]


def test_time_zone_offsets_follow_daylight_saving_time() -> None:
    winter, summer = NOW, datetime(2026, 7, 1, tzinfo=UTC)
    assert utc_offset_hours("Europe/Amsterdam", winter) == 1
    assert utc_offset_hours("Europe/Amsterdam", summer) == 2
    assert utc_offset_hours("Asia/Kolkata", winter) == 5.5


def test_the_matrices_equal_the_pair_by_pair_breakdown_on_the_examples() -> None:
    instance = prepare(example_pool(), MatchingPolicy(), NOW, "Europe/Amsterdam")
    pool = instance.pool
    for i, mentee in enumerate(pool.mentees):
        for j, coach in enumerate(pool.mentors):
            offsets = (instance.offsets[0][i], instance.offsets[1][j])
            breakdown = pair_breakdown(mentee, coach, MatchingPolicy().weights, offsets)
            assert instance.scores.total[i, j] == pytest.approx(breakdown.total)
            for c in breakdown.criteria:
                value = instance.scores.criteria[c.criterion][i, j]
                assert (np.isnan(value) and c.score is None) or value == pytest.approx(c.score)


def _shared_counts(a_rows: list[list[int]], b_rows: list[list[int]]) -> list[list[int]]:
    return [[len(set(a) & set(b)) for b in b_rows] for a in a_rows]


@pytest.mark.parametrize("size", [1, 5, 64, 65, 200])
def test_the_overlap_counts_are_exact_over_any_number_of_shared_keys(size: int) -> None:
    rng = random.Random(size)
    a_rows = [rng.sample(range(size), rng.randint(0, size)) for _ in range(40)]
    b_rows = [rng.sample(range(size), rng.randint(0, size)) for _ in range(30)] + [[]]
    counts = scoring._products(a_rows, b_rows, size)
    assert counts.dtype == np.float64
    assert counts.tolist() == _shared_counts(a_rows, b_rows)
    assert scoring._products([], b_rows, size).shape == (0, len(b_rows))
    assert not scoring._products([[0]] * 3, [[size]] * 2, size + 1).any()  # no key in common


def test_the_bits_are_counted_the_same_without_numpy_s_bitwise_count(monkeypatch: pytest.MonkeyPatch) -> None:
    words = np.array([0, 1, 2**63, 2**64 - 1, 0x0F0F_0000_FFFF_0101], dtype=np.uint64).reshape(5, 1)
    expected = [[bin(int(w)).count("1")] for w in words.ravel()]
    assert scoring._popcount(words).tolist() == expected
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert scoring._popcount(words).tolist() == expected


# -- constraints --------------------------------------------------------------------------------


def test_a_reporting_chain_stops_at_a_cycle() -> None:
    a = person("a", manager_id="b")
    assert reporting_chain(a, {"b": "c", "c": "a"}) == ("b", "c")
    assert reporting_chain(a, {"b": "c", "c": "b"}) == ("b", "c")


def test_the_manager_who_is_the_only_mentor_with_the_skills_is_never_proposed() -> None:
    mentee = person("e1", wants=("treasury",), values=("openness",), manager_id="boss", languages=("nl",))
    boss = mentor("boss", skills=("treasury",), values=("openness",), languages=("nl",), capacity=3)
    other = mentor("other", skills=("sales",), values=("speed",), languages=("nl",), capacity=3)
    result = match(Pool([mentee], [boss, other], managers={"e1": "boss"}), MatchingPolicy(), NOW)

    assert result.proposals == []
    why = result.explanations[0]
    assert why.reason_kind == "below_minimum"
    assert why.ruled_out_counts == {"reporting_line": 1}
    assert why.ruled_out[0].mentor.key == "boss"
    assert why.ruled_out[0].reasons == ("in the mentee's reporting line: is the mentee's manager",)
    assert why.ruled_out[0].score == 1.0


def test_higher_up_and_lower_down_the_reporting_line_are_both_ruled_out() -> None:
    mentee = person("e1", wants=("x",), manager_id="lead")
    above = mentor("director", skills=("x",))
    below = mentor("report", skills=("x",), manager_id="e1")
    pool = Pool([mentee], [above, below], managers={"e1": "lead", "lead": "director", "report": "e1"})
    why = match(pool, MatchingPolicy(), NOW).explanations[0]
    assert why.reason_kind == "constraints"
    assert why.ruled_out_counts == {"reporting_line": 2}
    reasons = {r.mentor.key: r.reasons[0] for r in why.ruled_out}
    assert reasons["director"] == "in the mentee's reporting line: 2 levels above the mentee"
    assert reasons["report"].startswith("in the mentee's reporting line: reports to the mentee")


def test_every_constraint_names_itself_when_it_rules_a_mentor_out() -> None:
    mentee = person(
        "e1", wants=("x",), department="Finance", level=3, languages=("es",), timezone="Asia/Tokyo"
    )
    mentors = [
        mentor("full", skills=("x",), capacity=1, level=2),
        mentor("same", skills=("x",), department="finance"),
        mentor("junior", skills=("x",), level=3),
        mentor("mute", skills=("x",), languages=("nl",)),
        mentor("before", skills=("x",)),
        mentor("far", skills=("x",), timezone="America/New_York"),
        mentor("refused", skills=("x",)),
    ]
    pool = Pool(
        [mentee],
        mentors,
        taken={"full": 1},
        previous=frozenset({("e1", "before")}),
        rejected={("e1", "refused"): "not a good fit"},
    )
    constraints = Constraints(different_department=True, max_timezone_hours=6)
    policy = MatchingPolicy(constraints=constraints)
    why = match(pool, policy, NOW, "Asia/Tokyo").explanations[0]
    assert why.reason_kind == "constraints"
    assert why.ruled_out_counts == {
        "capacity": 1,
        "different_department": 1,
        "min_level_gap": 2,
        "shared_language": 1,
        "no_rematch": 1,
        "max_timezone_hours": 1,
        "rejected": 1,
    }
    assert why.reason == (
        "no mentor passes the constraints; of 7 mentors: no places left 1, same department 1, "
        "level gap too small 2, no language in common 1, already had a relationship together 1, "
        "time zones too far apart 1, rejected by the coordinator 1"
    )
    reasons = {r.mentor.key: r.reasons for r in why.ruled_out}
    assert len(reasons) == 5  # the best five are named
    off = match(pool, MatchingPolicy(constraints=Constraints(
        capacity=False, reporting_line=False, min_level_gap=None, shared_language=False, no_rematch=False
    )), NOW, "Asia/Tokyo")  # fmt: skip
    assert len(off.proposals) == 1  # only the coordinator's rejection cannot be switched off
    assert off.proposals[0].mentor.key != "refused"


def test_a_mentor_full_before_the_run_is_a_capacity_reason() -> None:
    mentee = person("e1", wants=("x",))
    pool = Pool([mentee], [mentor("c", skills=("x",), capacity=2)], taken={"c": 2})
    why = match(pool, MatchingPolicy(), NOW).explanations[0]
    assert why.reason_kind == "capacity"
    assert why.reason == "all 1 fitting mentor(s) had no places left before this run"
    assert why.ruled_out[0].reasons == ("no places left (2 of 2 mentees)",)


def test_missing_data_is_not_held_against_a_pair_but_noted() -> None:
    mentee = person("e1", wants=("x",))  # no level, no languages
    result = match(Pool([mentee], [mentor("c", skills=("x",), level=5)]), MatchingPolicy(), NOW)
    assert result.proposals[0].notes == (
        "level gap not checked: the mentee's level is unknown",
        "common language not checked: the mentee named no languages",
    )


# -- assignment ---------------------------------------------------------------------------------


def test_the_optimum_gives_a_scarce_mentor_to_the_mentee_who_needs_them_most() -> None:
    scores = np.array([[0.9, 0.8], [0.85, 0.1]])
    ok = np.ones_like(scores, dtype=bool)
    places = np.array([1, 1])
    assert optimal(scores, ok, places).tolist() == [1, 0]  # 0.8 + 0.85 beats 0.9 + 0.1
    assert greedy(scores, ok, places).tolist() == [0, 1]
    assert stable(scores, ok, places).tolist() == [0, 1]
    assert blocking_pairs(scores, ok, places, np.array([1, 0])).tolist() == [[0, 0]]
    assert blocking_pairs(scores, ok, places, np.array([0, 1])).tolist() == []


def test_the_optimum_loads_no_more_of_scipy_than_the_assignment_it_needs() -> None:
    probe = (
        "import sys, numpy as np\n"
        "from engine.matching.assignment import optimal\n"
        "rng = np.random.default_rng(7)\n"
        "scores = rng.random((60, 25))\n"
        "ok = rng.random((60, 25)) < 0.6\n"
        "places = rng.integers(0, 4, 25)\n"
        "chosen = optimal(scores, ok, places).tolist()\n"
        "print(sorted(m for m in sys.modules if m.startswith('scipy')))\n"
        "import scipy.optimize\n"
        "from engine.matching import assignment\n"
        "assignment._linear_sum_assignment.cache_clear()\n"
        "print(chosen == optimal(scores, ok, places).tolist())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.splitlines() == ["[]", "True"]


def test_the_optimum_falls_back_on_scipy_optimize(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> None:
        raise ImportError("laid out otherwise")

    assignment._linear_sum_assignment.cache_clear()
    monkeypatch.setattr(assignment, "_lsap_module", missing)
    try:
        scores = np.array([[0.9, 0.8], [0.85, 0.1]])
        assert optimal(scores, np.ones_like(scores, dtype=bool), np.array([1, 1])).tolist() == [1, 0]
    finally:
        assignment._linear_sum_assignment.cache_clear()


def test_capacity_lets_a_mentor_take_several_and_unlimited_when_switched_off() -> None:
    scores = np.array([[0.9, 0.2], [0.8, 0.3], [0.7, 0.6]])
    ok = np.ones_like(scores, dtype=bool)
    assert optimal(scores, ok, np.array([2, 1])).tolist() == [0, 0, 1]
    assert optimal(scores, ok, None).tolist() == [0, 0, 0]
    assert stable(scores, ok, np.array([0, 0])).tolist() == [-1, -1, -1]


def test_unacceptable_pairs_are_never_chosen_even_when_nothing_else_is_left() -> None:
    scores = np.array([[0.9, 0.5], [0.9, 0.5]])
    ok = np.array([[True, False], [True, False]])
    for assign in (optimal, stable, greedy):
        chosen = assign(scores, ok, np.array([1, 5]))
        assert sorted(chosen.tolist()) == [-1, 0]


def test_the_same_pool_in_any_order_gives_the_same_pairs() -> None:
    pool = example_pool()
    first = match(pool, MatchingPolicy(), NOW, "Europe/Amsterdam")
    shuffled = random.Random(7)
    for _ in range(3):
        mentees, mentors = list(pool.mentees), list(pool.mentors)
        shuffled.shuffle(mentees)
        shuffled.shuffle(mentors)
        again = match(
            Pool(mentees, mentors, managers=pool.managers), MatchingPolicy(), NOW, "Europe/Amsterdam"
        )
        assert [(p.mentee.key, p.mentor.key) for p in again.proposals] == [
            (p.mentee.key, p.mentor.key) for p in first.proposals
        ]
        assert again.total == first.total


def test_on_the_examples_stable_has_no_blocking_pair_and_optimal_scores_at_least_as_much() -> None:
    pool = example_pool()
    best = match(pool, MatchingPolicy(), NOW, "Europe/Amsterdam")
    steady = match(pool, MatchingPolicy(mode="stable"), NOW, "Europe/Amsterdam")
    assert steady.blocking_count == 0
    assert best.total >= steady.total - 1e-9
    instance = prepare(pool, MatchingPolicy(), NOW, "Europe/Amsterdam")
    baseline = total(
        instance.scores.total, greedy(instance.scores.total, instance.acceptable, instance.places)
    )
    assert best.total >= baseline - 1e-9


# -- explanations -------------------------------------------------------------------------------


def test_the_examples_explain_every_unmatched_mentee_by_their_reporting_line() -> None:
    result = match(example_pool(), MatchingPolicy(), NOW, "Europe/Amsterdam")
    by_key = {e.mentee.key: e for e in result.explanations}
    zoe = by_key["E1101"]  # Anouk (E1006) is her manager, Jeroen (E1001) Anouk's
    assert zoe.proposal is None
    assert zoe.reason_kind == "below_minimum"
    assert [r.mentor.key for r in zoe.ruled_out] == ["E1001", "E1006"]
    thijs = by_key["E1102"]  # wants financial planning: only Fatima, his manager, offers it
    assert thijs.proposal is not None and thijs.proposal.mentor.key != "E1002"
    assert thijs.ruled_out[0].mentor.key == "E1002"
    assert thijs.ruled_out[0].score > thijs.proposal.score


def test_a_mentee_left_out_for_capacity_is_told_where_the_places_went() -> None:
    a = person("a", wants=("x", "y"))
    b = person("b", wants=("x",))
    coach = mentor("c", skills=("x",), capacity=1)
    result = match(Pool([a, b], [coach]), MatchingPolicy(weights=Weights(timezone=0)), NOW)
    left = next(e for e in result.explanations if e.proposal is None)
    assert left.mentee.key == "a"
    assert left.reason_kind == "capacity"
    assert left.alternatives[0].why_not == "all places went to B (1.00)"


def test_a_full_mentor_who_scores_higher_is_named_with_every_holder_best_first() -> None:
    # d scores higher with c than with e, but c's two places went to a and b: together a higher total
    a, b = person("a", wants=("x",)), person("b", wants=("x",))
    d = person("d", wants=("x", "y", "p", "q", "w"))
    c = mentor("c", skills=("x", "y", "p"), capacity=2)
    e = mentor("e", skills=("q", "w"), capacity=1)
    f = mentor("f", skills=("y", "p", "q", "w"))  # the best for d, but the coordinator rejected the pair
    pool = Pool([a, b, d], [c, e, f], rejected={("d", "f"): "moving abroad"})
    result = match(pool, MatchingPolicy(weights=Weights(timezone=0)), NOW)
    third = next(x for x in result.explanations if x.mentee.key == "d")
    assert third.proposal is not None and third.proposal.mentor.key == "e"
    assert [(x.mentor.key, x.why_not) for x in third.alternatives] == [
        ("c", "scores higher, but all places went to A (1.00), B (1.00): together a higher total")
    ]
    assert third.ruled_out_counts == {"rejected": 1}
    assert [(r.mentor.key, r.reasons) for r in third.ruled_out] == [
        ("f", ("rejected by the coordinator: moving abroad",))
    ]


# -- the policy section -------------------------------------------------------------------------

POLICY_HEAD = """\
policy: team
program: {duration: 6 months}
phases:
  intake: {initial: true}
  closed: {terminal: true}
transitions:
  - {trigger: close, from: intake, to: closed}
"""


def test_a_policy_without_a_matching_section_gets_the_defaults() -> None:
    assert load_policy_text(POLICY_HEAD, "team.yaml").matching == MatchingPolicy()


def test_constraints_switch_off_with_false() -> None:
    text = POLICY_HEAD + "matching:\n  constraints: {min_level_gap: false, reporting_line: false}\n"
    constraints = load_policy_text(text, "team.yaml").matching.constraints
    assert constraints.min_level_gap is None
    assert constraints.reporting_line is False


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("  weights: {skill: 3}", "team.yaml:9: matching.weights.skill: unknown key"),
        ("  mode: best", "team.yaml:9: matching.mode: "),
        ("  min_score: 2", "team.yaml:9: matching.min_score: "),
        (
            "  weights: {skills: 0, goals_and_interests: 0, compatibility: 0, language: 0, timezone: 0}",
            "at least one criterion needs a weight above 0",
        ),
    ],
)
def test_a_bad_matching_section_is_reported_with_file_and_line(section: str, expected: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(POLICY_HEAD + "matching:\n" + section + "\n", "team.yaml")
    assert expected in str(caught.value)


def test_a_manual_match_is_checked_without_numpy() -> None:
    probe = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from engine.domain.participants import Participant\n"
        "from engine.matching.constraints import Pool\n"
        "from engine.matching.manual import Overrides, check_pair\n"
        "from engine.policy.matching import MatchingPolicy\n"
        "import engine.services.pairing\n"
        "a = Participant(external_id='a', role='mentee', name='A', email='a@example.com', level=1)\n"
        "b = Participant(external_id='b', role='mentor', name='B', email='b@example.com', level=3)\n"
        "now = datetime(2026, 1, 5, tzinfo=UTC)\n"
        "print(check_pair(a, b, Pool((), ()), MatchingPolicy(), now, 'UTC', Overrides(), who='B'))\n"
        "print('numpy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.splitlines() == ["[]", "False"]


@pytest.mark.parametrize(
    "zone", ["UTC", "Europe/Amsterdam", "Asia/Kolkata", "America/St_Johns", "Australia/Lord_Howe"]
)
@pytest.mark.parametrize(
    "moment", [NOW, datetime(2026, 7, 1, 12, 0, tzinfo=UTC), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]
)
def test_a_manual_match_reads_the_offsets_the_scores_read(zone: str, moment: datetime) -> None:
    assert offset_hours(zone, moment) == utc_offset_hours(zone, moment)
