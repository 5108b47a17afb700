"""The program's figures on small hand-built histories, where every number can be worked out by hand."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from engine.policy.model import Policy, load_policy, shipped_policies
from engine.reporting import metrics, stats
from tests.unit.metrics_support import History, day, outcomes


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(shipped_policies()["default"])


def test_stays_follow_phase_changes_and_skip_recorded_meetings() -> None:
    (pair,) = outcomes(History(1).through(2, 5).met(10).met(20).move(40, "review", "review"))

    assert [(s.phase, s.entered, s.left) for s in pair.stays] == [
        ("intake", day(0), day(2)),
        ("matched", day(2), day(2)),
        ("kickoff", day(2), day(5)),
        ("active", day(5), day(40)),
        ("review", day(40), None),
    ]
    assert pair.match is not None and pair.match.score == 0.5
    assert [m.held_on for m in pair.meetings] == [day(10), day(20)]


def test_an_early_close_needs_a_reason_and_the_regular_close_is_not_one() -> None:
    early = History(1).through(1, 3).close_early(30, "mentee left the company")
    regular = History(2).through(1, 3).move(190, "review", "review")
    regular.move(200, "close", "closed", requires=["survey_complete"], auto=True)

    first, second = outcomes(early, regular)

    assert first.early_close is not None
    assert (first.early_close.from_phase, first.early_close.reason) == ("active", "mentee left the company")
    assert second.early_close is None and second.phase == "closed"


def test_funnel_counts_pairs_that_reached_each_phase_and_those_in_it_now(policy: Policy) -> None:
    pairs = outcomes(History(1), History(2).through(1, 3), History(3).through(1, 3).close_early(9, "moved"))

    rows = {row["phase"]: row for row in metrics.funnel(pairs, policy)}

    assert (rows["intake"]["value"], rows["intake"]["current"]["value"]) == (3, 1)
    assert rows["active"]["relationships"] == [2, 3]
    assert rows["active"]["current"]["relationships"] == [2]
    assert (rows["closed"]["value"], rows["review"]["value"]) == (1, 0)


def test_time_in_phase_counts_completed_stays_only(policy: Policy) -> None:
    pairs = outcomes(
        History(1).through(2, 3), History(2).through(4, 10), History(3).through(6, 20), History(4)
    )

    rows = {row["phase"]: row for row in metrics.time_in_phase(pairs, policy)}

    assert rows["intake"]["value"] == 4.0  # 2, 4, 6 days; pair 4 is still in intake
    assert (rows["intake"]["p25"], rows["intake"]["p75"], rows["intake"]["n"]) == (3.0, 5.0, 3)
    assert rows["intake"]["relationships"] == [1, 2, 3]
    assert rows["active"]["value"] is None and rows["active"]["n"] == 0  # nobody left active yet
    assert "closed" not in rows


def test_check_ins_count_up_to_what_the_cadence_expects(policy: Policy) -> None:
    # every 2 weeks in active: 28 days there expect 2 check-ins
    eager = History(1).through(0, 0).met(5).met(10).met(15).move(28, "review", "review")
    silent = History(2).through(0, 0).move(28, "review", "review")
    waiting = History(3)

    found = metrics.engagement(outcomes(eager, silent, waiting), policy, day(60))

    check_ins = found["check_ins"]
    assert (check_ins["expected"], check_ins["held"]) == (4.0, 3)
    assert check_ins["value"] == 0.5  # pair 1 counts 2 of its 3, pair 2 none: 2 of 4
    assert check_ins["relationships"] == [1, 2]
    assert [(f["relationships"], f["value"]) for f in found["per_pair"]] == [([1], 1.0), ([2], 0.0)]
    assert found["meetings"]["check-in"] == {"value": 3, "relationships": [1]}
    assert found["meetings"]["group"] == {"value": 0, "relationships": []}


def test_an_open_stay_counts_until_the_moment_of_the_report(policy: Policy) -> None:
    pairs = outcomes(History(1).through(0, 0).met(7))

    found = metrics.engagement(pairs, policy, day(7))

    assert found["check_ins"]["expected"] == 0.5 and found["check_ins"]["value"] == 1.0


def test_adherence_per_month_splits_the_time_at_month_ends(policy: Policy) -> None:
    # active from 5 January 09:00 UTC; the report stands on 5 February 09:00 UTC
    pairs = outcomes(History(1).through(0, 0).met(10).met(20))

    months = metrics.engagement(pairs, policy, day(31))["by_month"]

    assert [m["month"] for m in months] == ["2026-01", "2026-02"]
    january, february = months
    zone_days = (day(26) - day(0)).total_seconds() / 86400 + 14 / 24  # to midnight in Amsterdam (UTC+1)
    assert january["expected"] == pytest.approx(zone_days / 14, abs=1e-4)
    assert (january["held"], january["value"], january["complete"]) == (2, 1.0, True)
    assert (february["held"], february["complete"]) == (0, False)


def test_month_parts_cover_the_span_in_the_program_time_zone() -> None:
    zone = ZoneInfo("Europe/Amsterdam")
    parts = list(metrics.month_parts(day(20), day(80), zone))

    assert [label for label, *_ in parts] == ["2026-01", "2026-02", "2026-03"]
    assert parts[0][1] == day(20) and parts[-1][2] == day(80)
    assert all(parts[i][2] == parts[i + 1][1] for i in range(len(parts) - 1))


def test_satisfaction_takes_each_respondents_latest_valid_answer() -> None:
    one = History(1).answered(10, "mentee", "pulse", satisfaction=2).answered(20, "mentee", satisfaction=5)
    one.answered(21, "mentee", "closing", satisfaction=True)  # not a score: ignored
    two = History(2).answered(5, "mentee", satisfaction=4).answered(6, "mentor", satisfaction=1)
    three = History(3).answered(5, "mentee", satisfaction=9, comments="great")

    mentee = metrics.satisfaction(outcomes(one, two, three), "mentee")

    assert mentee["mean"] == {"value": 4.5, "median": 4.5, "n": 2, "relationships": [1, 2]}
    counts = {d["score"]: (d["value"], d["relationships"]) for d in mentee["distribution"]}
    assert counts[5] == (1, [1]) and counts[4] == (1, [2]) and counts[2] == (0, [])


def test_a_figure_without_data_says_so_rather_than_zero(policy: Policy) -> None:
    pairs = outcomes(History(1), History(2).answered(3, "mentee", goals_reached="yes", would_recommend=True))

    report = metrics.program_report(pairs, policy, moment=day(10), generated_at=day(10))

    assert report["satisfaction"]["mentee"]["mean"]["value"] is None
    assert report["satisfaction"]["mentee"]["distribution"][0]["value"] is None
    assert report["goals"]["reached"]["value"] is None and report["goals"]["share_reached"]["value"] is None
    assert report["recommend"]["mentor"]["value"] is None
    assert report["engagement"]["check_ins"]["value"] is None
    assert report["match_score_vs_satisfaction"]["spearman"]["value"] is None


def test_goals_prefer_the_mentees_answer() -> None:
    one = History(1).answered(5, "mentor", goals=["reached", "reached"])
    one.answered(6, "mentee", goals=["reached", "partly"])
    two = History(2).answered(5, "mentor", goals=["not_started"])
    three = History(3).answered(5, "mentee", goals=["finished"])  # not a level: ignored

    found = metrics.goals(outcomes(one, two, three))

    assert found["reached"] == {"value": 1, "relationships": [1]}
    assert found["partly"] == {"value": 1, "relationships": [1]}
    assert found["not_started"] == {"value": 1, "relationships": [2]}
    assert found["share_reached"] == {"value": round(1 / 3, 4), "goals": 3, "relationships": [1, 2]}


def test_recommend_gives_the_mean_and_the_net_promoter_score() -> None:
    pairs = [History(i).answered(3, "mentee", recommend=score) for i, score in enumerate((10, 9, 7, 3), 1)]

    found = metrics.recommend(outcomes(*pairs), "mentee")

    # 10 and 9 promote, 3 detracts, 7 is passive: 100 * (2 - 1) / 4
    assert (found["value"], found["nps"], found["n"]) == (7.25, 25.0, 4)


def test_time_to_match_runs_from_intake_to_the_match(policy: Policy) -> None:
    pairs = outcomes(History(1).match(3), History(2, created=10).match(17), History(3, created=20))

    found = metrics.time_to_match(pairs, policy, day(30))

    assert found["matched"]["value"] == 5.0 and found["matched"]["relationships"] == [1, 2]
    assert found["waiting"] == {
        "value": 10.0, "p25": 10.0, "p75": 10.0, "n": 1, "unit": "days", "relationships": [3]
    }  # fmt: skip


def test_dropout_by_phase_and_reason(policy: Policy) -> None:
    pairs = outcomes(
        History(1).through(1, 2).close_early(40, "mentee left the company"),
        History(2).through(1, 2).close_early(50, "mentee left the company"),
        History(3).match(1).close_early(5, "mentor left the company"),
        History(4).through(1, 2),
    )

    found = metrics.dropout(pairs, policy)

    assert found["total"] == {"value": 3, "relationships": [1, 2, 3]}
    assert found["rate"]["value"] == 0.75 and found["rate"]["of"] == 4
    assert [(r["phase"], r["relationships"]) for r in found["by_phase"]] == [
        ("matched", [3]),
        ("active", [1, 2]),
    ]
    assert [(r["reason"], r["value"]) for r in found["by_reason"]] == [
        ("mentee left the company", 2),
        ("mentor left the company", 1),
    ]


def test_match_score_against_later_satisfaction() -> None:
    histories = []
    for rel_id, (score, mentee, mentor) in enumerate(
        [(0.2, 2, 2), (0.5, 3, 4), (0.9, 5, 5), (0.7, 4, None)], 1
    ):
        h = History(rel_id).match(1, score).answered(30, "mentee", satisfaction=mentee)
        if mentor is not None:
            h.answered(30, "mentor", satisfaction=mentor)
        histories.append(h)
    histories.append(History(5).match(1, None).answered(30, "mentee", satisfaction=1))  # matched by hand

    found = metrics.score_vs_satisfaction(outcomes(*histories))

    assert [p["relationship"] for p in found["points"]] == [1, 2, 3, 4]
    assert found["points"][1] == {"relationship": 2, "score": 0.5, "satisfaction": 3.5}
    assert found["spearman"]["value"] == 1.0 and found["spearman"]["n"] == 4
    assert found["pearson"]["value"] == pytest.approx(0.99, abs=0.01)


def test_since_leaves_out_pairs_closed_before_it(policy: Policy) -> None:
    from engine.reporting.outcomes import in_scope

    closed, open_ = outcomes(History(1).close_early(5, "left"), History(2))

    assert not in_scope(closed, {"closed"}, day(6)) and in_scope(closed, {"closed"}, day(5))
    assert in_scope(open_, {"closed"}, day(100))


def test_ranks_share_ties_and_quartiles_are_inclusive() -> None:
    assert stats.ranks([3, 1, 3, 2]) == [3.5, 1.0, 3.5, 2.0]
    assert stats.quartiles([1, 2, 3, 4]) == (1.75, 2.5, 3.25)
    assert stats.quartiles([7]) == (7, 7, 7) and stats.quartiles([]) is None
    assert stats.spearman([1, 2, 3], [1, 1, 1]) is None  # no variation, no correlation
    assert stats.spearman([1, 2], [1, 2]) is None  # too few pairs
    assert stats.spearman([1, 2, 3, 4], [10, 20, 30, 25]) == pytest.approx(0.8)
