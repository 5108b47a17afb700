"""The simulated program without a store or Prefect: its people, their traits, one day's decisions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from engine.files.participants import parse_participants_text
from engine.policy.model import Policy
from engine.simulation import generate_program, participants_csv
from engine.simulation.behaviour import (
    GIVE_UP_ON_SURVEY,
    NO_SURVEY,
    STOPPED_MEETING,
    PairState,
    Proposal,
    Roles,
    World,
    decide,
)
from engine.simulation.traits import check_in_interval, mentor_traits, pair_traits

SEED = 11
MONDAY = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def test_the_same_seed_gives_the_same_program_and_another_seed_another() -> None:
    first, again, other = generate_program(SEED), generate_program(SEED), generate_program(SEED + 1)
    assert first == again
    assert first.participants != other.participants


def test_a_program_is_varied_like_a_real_organisation() -> None:
    program = generate_program(SEED, mentees=150, mentors=60)
    people = program.participants
    mentors = [p for p in people if p.role == "mentor"]
    mentees = [p for p in people if p.role == "mentee"]
    assert (len(mentees), len(mentors)) == (150, 60)
    assert {p.capacity for p in mentors} == {1, 2, 3, 4}
    assert len({p.department for p in people}) >= 8
    assert len({p.email for p in people}) == len(people)
    assert 0 < sum(p.trained for p in mentors) < len(mentors)  # some must still be trained
    assert len({lang for p in people for lang in p.languages}) >= 5
    assert len({p.timezone for p in people}) >= 4
    assert any(not p.name.isascii() for p in people)  # Zoë, Çelik, Ødegaard ...
    mentor_ids = {p.external_id for p in mentors}
    assert any(p.manager_id in mentor_ids for p in mentees)  # reporting lines the matching must avoid
    assert max(p.level or 0 for p in mentees) < max(p.level or 0 for p in mentors)


def test_mentors_arrive_first_and_mentees_in_monthly_waves() -> None:
    program = generate_program(SEED, days=365)
    assert all(program.joins[p.key] == 0 for p in program.participants if p.role == "mentor")
    waves = Counter(program.joins.values())
    assert waves[0] > 60 and len(waves) == 5
    assert sum(len(program.arriving(day)) for day in program.import_days) == len(program.participants)


def test_a_short_program_has_its_waves_inside_it() -> None:
    program = generate_program(SEED, mentees=20, mentors=8, days=92)
    assert max(program.import_days) < 92 - 30


def test_the_export_reads_back_as_the_same_participants() -> None:
    program = generate_program(SEED, mentees=30, mentors=10)
    text = participants_csv(program.participants)
    assert parse_participants_text(text, "export.csv") == list(program.participants)


def test_traits_are_stable_and_varied() -> None:
    assert pair_traits(SEED, 7) == pair_traits(SEED, 7)
    pairs = [pair_traits(SEED, i) for i in range(1, 400)]
    assert {p.style for p in pairs} == {"steady", "irregular", "fading"}
    assert any(p.kickoff_after is None for p in pairs) and any(p.exit_after is not None for p in pairs)
    trainings = [mentor_traits(SEED, f"E{i}").training_after for i in range(300)]
    assert None in trainings and any(t is not None and t > 14 for t in trainings)  # never, and late
    assert all(10 <= check_in_interval(SEED, 3, "steady", n) <= 18 for n in range(20))


def test_roles_are_found_from_what_the_default_policy_asks(policy: Policy) -> None:
    roles = Roles.of(policy)
    assert roles.training == {"matched"} and roles.kickoff == {"kickoff"} and roles.meeting == {"active"}
    assert roles.survey == {"review": "final"}
    assert roles.renew == {"review": "renew"} and roles.close == "close"


def _pair(rel_id: int, phase: str, entered: datetime, **kwargs: object) -> PairState:
    defaults: dict[str, object] = {"mentee_id": 100 + rel_id, "mentor_id": 5, "opened": entered}
    return PairState(rel_id, phase=phase, entered=entered, **{**defaults, **kwargs})  # type: ignore[arg-type]


def _first(predicate: object, *, without_exit: bool = True) -> int:
    """The first relationship id whose traits satisfy ``predicate``."""
    for rel_id in range(1, 5000):
        traits = pair_traits(SEED, rel_id)
        if (not without_exit or traits.exit_after is None) and predicate(traits):  # type: ignore[operator]
            return rel_id
    raise AssertionError("no such pair")


def test_a_kickoff_is_held_the_day_the_pair_gets_to_it(policy: Policy) -> None:
    rel_id = _first(lambda t: t.kickoff_after is not None)
    after = pair_traits(SEED, rel_id).kickoff_after
    assert after is not None
    entered = MONDAY - timedelta(days=after)
    day_before = World(MONDAY - timedelta(days=1), (_pair(rel_id, "kickoff", entered),), {})
    on_the_day = World(MONDAY, (_pair(rel_id, "kickoff", entered),), {})
    assert decide(day_before, Roles.of(policy), SEED).meetings == []
    assert decide(on_the_day, Roles.of(policy), SEED).meetings == [(rel_id, "kickoff")]


def test_a_mentor_finishes_training_some_days_after_their_first_pair_waits(policy: Policy) -> None:
    key = next(f"E{i}" for i in range(500) if mentor_traits(SEED, f"E{i}").training_after)
    after = mentor_traits(SEED, key).training_after
    assert after is not None
    rel_id = _first(lambda t: True)
    pair = _pair(rel_id, "matched", MONDAY - timedelta(days=after), mentor_id=9)
    assert decide(World(MONDAY, (pair,), {9: key}), Roles.of(policy), SEED).trained == [key]
    earlier = World(MONDAY - timedelta(days=1), (pair,), {9: key})
    assert decide(earlier, Roles.of(policy), SEED).trained == []


def test_a_fading_pair_falls_silent_and_is_closed_when_it_does_not_resume(policy: Policy) -> None:
    rel_id = _first(lambda t: t.style == "fading" and not t.resumes)
    traits = pair_traits(SEED, rel_id)
    entered = MONDAY - timedelta(days=traits.fades_after + 5)
    silent = _pair(rel_id, "active", entered, last_meeting=entered)
    assert decide(World(MONDAY, (silent,), {}), Roles.of(policy), SEED).meetings == []
    later = MONDAY + timedelta(days=traits.silent_for)
    assert decide(World(later, (silent,), {}), Roles.of(policy), SEED).close == {STOPPED_MEETING: [rel_id]}


def test_a_steady_pair_meets_when_its_interval_has_passed(policy: Policy) -> None:
    rel_id = _first(lambda t: t.style == "steady")
    interval = check_in_interval(SEED, rel_id, "steady", 3)
    entered = MONDAY - timedelta(days=60)
    pair = _pair(rel_id, "active", entered, meetings_held=3, last_meeting=MONDAY - timedelta(days=interval))
    assert decide(World(MONDAY, (pair,), {}), Roles.of(policy), SEED).meetings == [(rel_id, "check-in")]
    sooner = World(MONDAY - timedelta(days=1), (pair,), {})
    assert decide(sooner, Roles.of(policy), SEED).meetings == []


def test_surveys_come_in_and_a_pair_that_renews_does_so_the_day_they_complete(policy: Policy) -> None:
    rel_id = _first(lambda t: t.renews and t.mentee_answers_after and t.mentor_answers_after)
    traits = pair_traits(SEED, rel_id)
    days = max(traits.mentee_answers_after or 0, traits.mentor_answers_after or 0)
    pair = _pair(rel_id, "review", MONDAY - timedelta(days=days), opened=MONDAY - timedelta(days=200))
    today = decide(World(MONDAY, (pair,), {}), Roles.of(policy), SEED)
    assert {who for _, _, who in today.answers} <= {"mentee", "mentor"}
    assert all(survey == "final" for _, survey, _ in today.answers)
    assert today.renew == {"renew": [rel_id]}


def test_a_review_without_answers_is_closed_by_the_coordinator(policy: Policy) -> None:
    rel_id = _first(lambda t: t.mentee_answers_after is None)
    pair = _pair(rel_id, "review", MONDAY - timedelta(days=GIVE_UP_ON_SURVEY))
    assert decide(World(MONDAY, (pair,), {}), Roles.of(policy), SEED).close == {NO_SURVEY: [rel_id]}


def test_a_pair_that_ends_early_goes_with_its_reason_and_the_mentee_may_be_matched_again(
    policy: Policy,
) -> None:
    rel_id = _first(lambda t: t.exit_after is not None and t.rematch_after_exit, without_exit=False)
    traits = pair_traits(SEED, rel_id)
    assert traits.exit_after is not None
    pair = _pair(rel_id, "active", MONDAY - timedelta(days=traits.exit_after))
    today = decide(World(MONDAY, (pair,), {}), Roles.of(policy), SEED)
    assert today.close == {traits.exit_reason: [rel_id]}
    assert today.rematch == {rel_id: pair.mentee_id}


@pytest.mark.parametrize(("weekday", "reviews"), [(0, True), (5, False)])
def test_the_coordinator_reviews_proposals_on_weekdays_after_two_days(
    policy: Policy, weekday: int, reviews: bool
) -> None:
    now = MONDAY + timedelta(days=weekday)
    proposals = (Proposal(1, 5, now - timedelta(days=2)), Proposal(2, 5, now - timedelta(days=1)))
    today = decide(World(now, (), {}, proposals), Roles.of(policy), SEED)
    assert sorted(today.approve + today.reject) == ([1] if reviews else [])


def test_a_day_is_decided_the_same_way_every_time(policy: Policy) -> None:
    pairs = tuple(_pair(i, "active", MONDAY - timedelta(days=i), meetings_held=i % 4) for i in range(1, 80))
    world = World(MONDAY, pairs, {})
    assert decide(world, Roles.of(policy), SEED) == decide(world, Roles.of(policy), SEED)
