"""Group sessions in the report and the insights, on hand-built histories: who was invited, who came."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from engine.domain.audit import iso
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.reporting.insight_text import insights_data, insights_text, session_sentences
from engine.reporting.insights import insights
from engine.reporting.metrics import pair_satisfaction, program_report
from engine.reporting.render import render
from engine.reporting.session_figures import group_sessions
from tests.unit.metrics_support import History, day, outcomes

ZONE = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(shipped_policies()["default"])


def invited(
    h: History, on: float, session: int, starts: float, *roles: str, series: str = "intervisie"
) -> History:
    """What planning a session appends to the pair's chain: the roles invited through it."""
    data = {"id": session, "series": series, "starts_at": iso(day(starts)), "invited": list(roles)}
    return h.move(on, "session_invited", h.phase or "intake", session=data)


def said(h: History, on: float, session: int, who: str, came: bool, *, corrected: bool = False) -> History:
    data: dict[str, object] = {"session": session, "respondent": who, "attended": came}
    if corrected:
        data["corrected"] = True
    return h.move(on, "record_attendance", h.phase or "intake", attendance=data)


def test_each_invitation_stands_at_its_latest_answer_and_only_sessions_begun_count(policy: Policy) -> None:
    one = invited(History(1).through(1, 2), 3, 10, 5, "mentor")
    said(said(one, 6, 10, "mentor", False), 7, 10, "mentor", True, corrected=True)  # the correction counts
    invited(one, 8, 11, 60, "mentor")  # has not begun by day 30
    two = invited(History(2).through(1, 2), 3, 10, 5, "mentor", "mentee")
    said(two, 6, 10, "mentee", False)  # the mentor never said
    three = invited(History(3).through(1, 2), 3, 12, 5, "mentor")

    (row,) = group_sessions(outcomes(one, two, three), policy, day(30), pair_satisfaction)["series"]

    assert row["series"] == "intervisie" and row["title"] == "Peer session (intervisie)"
    assert row["sessions"] == {"value": 2, "relationships": [1, 2, 3]}
    assert row["invited"] == {"value": 4, "relationships": [1, 2, 3]}
    assert row["attended"] == {"value": 1, "relationships": [1]}
    assert row["absent"] == {"value": 1, "relationships": [2]}
    assert row["unknown"] == {"value": 2, "relationships": [2, 3]}
    assert row["share_attended"] == {"value": 0.5, "relationships": [1, 2]}


def test_every_series_of_the_policy_shows_then_those_only_the_history_names(policy: Policy) -> None:
    pair = invited(History(1).through(1, 2), 3, 10, 5, "mentor", series="workshop")

    rows = group_sessions(outcomes(pair), policy, day(30), pair_satisfaction)["series"]

    assert [(r["series"], r["title"]) for r in rows] == [("intervisie", "Peer session (intervisie)"),
                                                         ("workshop", "workshop")]  # fmt: skip
    empty = rows[0]
    assert empty["sessions"]["value"] == empty["invited"]["value"] == 0
    assert empty["share_attended"] == {"value": None, "relationships": []}  # no answers: no share
    assert rows[1]["unknown"]["value"] == 1 and rows[1]["share_attended"]["value"] is None


def test_satisfaction_compares_pairs_that_came_with_pairs_invited_that_never_did(policy: Policy) -> None:
    came = said(invited(History(1).through(1, 2), 3, 10, 5, "mentor"), 6, 10, "mentor", True)
    came.answered(40, "mentee", satisfaction=5).answered(40, "mentor", satisfaction=4)
    away = said(invited(History(2).through(1, 2), 3, 10, 5, "mentor"), 6, 10, "mentor", False)
    away.answered(40, "mentee", satisfaction=3)
    silent = invited(History(3).through(1, 2), 3, 10, 5, "mentor").answered(40, "mentor", satisfaction=2)
    unanswered = said(invited(History(4).through(1, 2), 3, 10, 5, "mentor"), 6, 10, "mentor", True)
    later = invited(History(5).through(1, 2), 3, 11, 60, "mentor").answered(40, "mentee", satisfaction=1)
    History(6).through(1, 2).answered(40, "mentee", satisfaction=1)  # never invited: in neither group

    found = group_sessions(
        outcomes(came, away, silent, unanswered, later), policy, day(50), pair_satisfaction
    )

    assert found["satisfaction"] == {
        "attended": {"value": 4.5, "n": 1, "relationships": [1]},
        "not_attended": {"value": 2.5, "n": 2, "relationships": [2, 3]},
    }
    nothing = group_sessions(outcomes(later), policy, day(50), pair_satisfaction)["satisfaction"]
    assert nothing["attended"] == {"value": None, "n": 0, "relationships": []}


def test_the_report_shows_a_table_per_series_or_says_none_were_held(policy: Policy) -> None:
    pair = said(invited(History(1).through(1, 2), 3, 10, 5, "mentor"), 6, 10, "mentor", True)

    def rendered(moment: float, fmt: str) -> str:
        data = program_report(outcomes(pair), policy, moment=day(moment), generated_at=day(moment))
        return render(data, fmt)

    for fmt in ("md", "html"):
        assert "No group sessions have been held yet." in rendered(4, fmt)  # planned, not begun
        held = rendered(30, fmt)
        assert "Group sessions" in held and "No group sessions" not in held
        assert "Peer session (intervisie)" in held and "100%" in held


def _attending(satisfied: int, never: int, *, came: int = 10, away: int = 10) -> list[History]:
    """``came`` pairs whose mentor attended (satisfaction ``satisfied``), ``away`` that never did."""
    pairs = []
    for number in range(1, came + away + 1):
        h = said(invited(History(number).through(1, 2), 3, 10, 5, "mentor"), 6, 10, "mentor", number <= came)
        pairs.append(h.answered(40, "mentee", satisfaction=satisfied if number <= came else never))
    return pairs


@pytest.mark.parametrize(
    ("satisfied", "never", "how"),
    [(5, 3, "were more satisfied"), (2, 4, "were less satisfied"), (4, 4, "were about as satisfied")],
)
def test_the_insight_says_whether_attending_went_with_satisfaction(
    policy: Policy, satisfied: int, never: int, how: str
) -> None:
    found = insights(outcomes(*_attending(satisfied, never)), policy, day(50))
    than = "as" if satisfied == never else "than"
    sentence = f"{how} (mean {satisfied}.0 of 5, 10 pairs) {than} pairs invited who never came"
    sentence += f" ({never}.0, 10 pairs)."

    (line,) = session_sentences(found)
    data = insights_data(found, {}, ZONE)

    assert line == f"Pairs whose people came to a group session {sentence}"
    assert f"Group sessions\n  {line}\n" in insights_text(found, {}, ZONE)
    assert data["sentences"]["sessions"] == [line] and data["sessions"]["judged"] is True
    assert data["sessions"]["attended"]["n"] == data["sessions"]["not_attended"]["n"] == 10


def test_a_difference_within_a_tenth_reads_as_about_the_same(policy: Policy) -> None:
    pairs = _attending(4, 4)
    pairs[0].answered(41, "mentee", satisfaction=5)  # the attended mean is 4.1

    (line,) = session_sentences(insights(outcomes(*pairs), policy, day(50)))

    assert "about as satisfied (mean 4.1 of 5, 10 pairs) as" in line


def test_with_fewer_than_ten_pairs_in_a_group_the_insight_says_it_cannot_tell(policy: Policy) -> None:
    found = insights(outcomes(*_attending(5, 1, away=9)), policy, day(50))

    (line,) = session_sentences(found)

    assert line.startswith("Too few pairs to tell whether coming to a group session went with satisfaction")
    assert "10 pair(s) whose people came and 9 invited who never came" in line
    assert insights_data(found, {}, ZONE)["sessions"]["judged"] is False
