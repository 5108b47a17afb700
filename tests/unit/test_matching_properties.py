"""Properties of matching on small random pools, checked against an exhaustive search.

Each example draws a few mentees and mentors with overlapping skills, levels,
departments, languages, personal qualities, time zones and reporting lines
(cycles included), a program history (open relationships, earlier pairs,
rejections) and a policy with random constraints. The test's own checker decides which pairs are
allowed, and the best total comes from trying every assignment.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.domain.participants import Participant
from engine.matching.constraints import TRAIT_COLUMNS, breaks_any, traits, violations
from engine.matching.manual import PairChecker
from engine.matching.proposals import MatchResult, Pool, match
from engine.matching.scores import pair_breakdown
from engine.policy.matching import Constraints, MatchingPolicy, Weights

NOW = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)  # a day Europe has summer time and America too
DEFAULT_ZONE = "Europe/Amsterdam"
SKILLS = ["Python", "python", "Public speaking", "publicspeaking", "Négociation", "negociation", "sql"]
ZONES = [None, "Europe/Amsterdam", "Europe/London", "Asia/Kolkata", "America/New_York"]
WORDS = ["lead a team", "leadership", "present figures", "presentations", "cooking", "running"]
QUALITIES = ["patience", "Patience", "empathy", "open-ness", "openness"]


@st.composite
def people(draw: st.DrawFn, role: str, prefix: str, count: int, keys: list[str]) -> list[Participant]:
    found = []
    for n in range(count):
        key = f"{prefix}{n}"
        managers = [k for k in keys if k != key] + ["outside"]
        found.append(
            Participant(
                external_id=key,
                role=role,
                name=key,
                email=f"{key}@example.com",
                department=draw(st.sampled_from([None, "Finance", "finance ", "HR"])),
                manager_id=draw(st.none() | st.sampled_from(managers)),
                level=draw(st.none() | st.integers(1, 5)),
                skills=tuple(draw(st.lists(st.sampled_from(SKILLS), max_size=3))),
                wants=tuple(draw(st.lists(st.sampled_from(SKILLS), max_size=3))),
                goals=tuple(draw(st.lists(st.sampled_from(WORDS), max_size=2))),
                interests=tuple(draw(st.lists(st.sampled_from(WORDS[4:]), max_size=2))),
                values=tuple(draw(st.lists(st.sampled_from(["openness", "Openness", "rigour"]), max_size=2))),
                languages=tuple(draw(st.lists(st.sampled_from(["nl", "EN", "en", "fr"]), max_size=2))),
                qualities=tuple(draw(st.lists(st.sampled_from(QUALITIES), max_size=3))),
                timezone=draw(st.sampled_from(ZONES)),
                capacity=draw(st.integers(0, 3)),
            )
        )
    return found


@st.composite
def instances(draw: st.DrawFn) -> tuple[Pool, MatchingPolicy]:
    n, m = draw(st.integers(0, 5)), draw(st.integers(0, 3))
    keys = [f"e{i}" for i in range(n)] + [f"m{j}" for j in range(m)]
    mentees = draw(people("mentee", "e", n, keys))
    mentors = draw(people("mentor", "m", m, keys))
    pairs = [(a.key, b.key) for a in mentees for b in mentors]
    pool = Pool(
        mentees,
        mentors,
        taken={b.key: draw(st.integers(0, 2)) for b in mentors},
        previous=frozenset(draw(st.lists(st.sampled_from(pairs), max_size=2)) if pairs else []),
        rejected={p: "no" for p in (draw(st.lists(st.sampled_from(pairs), max_size=2)) if pairs else [])},
        managers={p.key: p.manager_id for p in (*mentees, *mentors) if p.manager_id},
    )
    constraints = Constraints(
        capacity=draw(st.booleans()),
        reporting_line=draw(st.booleans()),
        different_department=draw(st.booleans()),
        min_level_gap=draw(st.sampled_from([None, 0, 1, 2])),
        shared_language=draw(st.booleans()),
        no_rematch=draw(st.booleans()),
        max_timezone_hours=draw(st.sampled_from([None, 1, 4.5, 6])),
    )
    weights = Weights(
        skills=draw(st.sampled_from([0, 1, 3])),
        goals_and_interests=draw(st.sampled_from([0, 2])),
        compatibility=draw(st.sampled_from([0, 2])),
        language=1,
        timezone=draw(st.sampled_from([0, 1])),
        qualities=draw(st.sampled_from([None, 0, 2])),
    )
    mode = draw(st.sampled_from(["optimal", "stable"]))
    min_score = draw(st.sampled_from([0.0, 0.2, 0.4, 0.6]))
    return pool, MatchingPolicy(mode=mode, weights=weights, constraints=constraints, min_score=min_score)


# -- the test's own reading of the rules --------------------------------------------------------


def offset(p: Participant) -> float:
    delta = NOW.astimezone(ZoneInfo(p.timezone or DEFAULT_ZONE)).utcoffset()
    assert delta is not None
    return delta.total_seconds() / 3600


def above(person: Participant, managers: dict[str, str]) -> set[str]:
    seen: set[str] = set()
    boss = person.manager_id
    while boss is not None and boss not in seen and boss != person.external_id:
        seen.add(boss)
        boss = managers.get(boss)
    return seen


def allowed(mentee: Participant, mentor: Participant, pool: Pool, c: Constraints) -> bool:
    """Every constraint but capacity, as the policy states it."""
    managers = dict(pool.managers)
    if c.reporting_line and (mentor.key in above(mentee, managers) or mentee.key in above(mentor, managers)):
        return False
    if (
        c.different_department
        and mentee.department
        and mentor.department
        and mentee.department.strip().lower() == mentor.department.strip().lower()
    ):
        return False
    known = mentee.level is not None and mentor.level is not None
    if c.min_level_gap is not None and known and (mentor.level or 0) - (mentee.level or 0) < c.min_level_gap:
        return False
    spoken = {x.lower() for x in mentee.languages}, {x.lower() for x in mentor.languages}
    if c.shared_language and all(spoken) and not spoken[0] & spoken[1]:
        return False
    if c.no_rematch and (mentee.key, mentor.key) in pool.previous:
        return False
    if c.max_timezone_hours is not None and abs(offset(mentee) - offset(mentor)) > c.max_timezone_hours:
        return False
    return (mentee.key, mentor.key) not in pool.rejected


def places(mentor: Participant, pool: Pool, c: Constraints) -> int:
    return max(0, mentor.capacity - pool.taken.get(mentor.key, 0)) if c.capacity else 10**6


def score(mentee: Participant, mentor: Participant, policy: MatchingPolicy) -> float:
    return pair_breakdown(mentee, mentor, policy.weights, (offset(mentee), offset(mentor))).total


def exhaustive_best(pool: Pool, policy: MatchingPolicy) -> float:
    by_key = {m.key: m for m in pool.mentors}
    options = []
    for mentee in pool.mentees:
        scored = {m.key: score(mentee, m, policy) for m in pool.mentors}
        fitting = [
            (m.key, s)
            for m in pool.mentors
            if allowed(mentee, m, pool, policy.constraints)
            and (s := scored[m.key]) >= policy.min_score
            and s > 0
        ]
        options.append([(None, 0.0), *fitting])
    best = 0.0
    for choice in itertools.product(*options):
        used = Counter(key for key, _ in choice if key is not None)
        if all(count <= places(by_key[k], pool, policy.constraints) for k, count in used.items()):
            best = max(best, sum(s for _, s in choice))
    return best


def blocking(result: MatchResult, pool: Pool, policy: MatchingPolicy) -> list[tuple[str, str]]:
    partner = {p.mentee.key: p for p in result.proposals}
    held: dict[str, list[float]] = {}
    for p in result.proposals:
        held.setdefault(p.mentor.key, []).append(p.score)
    found = []
    for e in pool.mentees:
        for m in pool.mentors:
            s = score(e, m, policy)
            if not allowed(e, m, pool, policy.constraints) or s < policy.min_score or s <= 0:
                continue
            mine = partner.get(e.key)
            wants = mine is None or s > mine.score + 1e-9
            theirs = held.get(m.key, [])
            room = len(theirs) < places(m, pool, policy.constraints)
            if wants and (room or (theirs and s > min(theirs) + 1e-9)):
                found.append((e.key, m.key))
    return found


# -- the properties -----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(instances())
def test_every_result_keeps_every_constraint_and_the_optimum_equals_exhaustive_search(
    case: tuple[Pool, MatchingPolicy],
) -> None:
    pool, policy = case
    result = match(pool, policy, NOW, DEFAULT_ZONE)
    by_key = {m.key: m for m in pool.mentors}

    used = Counter(p.mentor.key for p in result.proposals)
    assert all(n <= places(by_key[k], pool, policy.constraints) for k, n in used.items())
    assert len({p.mentee.key for p in result.proposals}) == len(result.proposals)
    for p in result.proposals:
        assert allowed(p.mentee, p.mentor, pool, policy.constraints)
        assert p.score >= policy.min_score
        assert abs(p.score - score(p.mentee, p.mentor, policy)) < 1e-9
    assert abs(result.total - sum(p.score for p in result.proposals)) < 1e-9

    if policy.mode == "optimal":
        assert abs(result.total - exhaustive_best(pool, policy)) < 1e-9
    else:
        assert blocking(result, pool, policy) == []
        assert result.blocking_count == 0
    assert result.blocking_count == len(blocking(result, pool, policy))


@settings(max_examples=100, deadline=None)
@given(instances())
def test_every_unmatched_mentee_gets_one_of_the_three_reasons(case: tuple[Pool, MatchingPolicy]) -> None:
    pool, policy = case
    result = match(pool, policy, NOW, DEFAULT_ZONE)
    for e in result.unmatched:
        fitting = [m for m in pool.mentors if allowed(e.mentee, m, pool, policy.constraints)]
        if not pool.mentors:
            assert e.reason_kind == "no_mentors"
        elif not fitting:
            assert e.reason_kind == "constraints"
        elif all((s := score(e.mentee, m, policy)) < policy.min_score or s <= 0 for m in fitting):
            assert e.reason_kind == "below_minimum"
        else:
            assert e.reason_kind == "capacity"
        assert e.reason


def as_stored(person: Participant, *, without_id: bool) -> tuple[Participant, tuple[Any, ...]]:
    """The person (with no external id, if ``without_id``: known by their email) and their columns
    :func:`traits` reads, as the store holds them (lists as lists)."""
    if without_id:
        person = person.model_copy(update={"external_id": None})
    values = {name: getattr(person, name) for name in TRAIT_COLUMNS}
    return person, tuple({**values, "languages": list(person.languages)}.values())


@settings(max_examples=300, deadline=None)
@given(instances(), st.integers(0, 3), st.lists(st.booleans(), min_size=8, max_size=8))
def test_a_pair_passes_the_quick_test_exactly_when_violations_finds_nothing(
    case: tuple[Pool, MatchingPolicy], taken: int, without_ids: list[bool]
) -> None:
    """:meth:`PairChecker.passes` (on each person's traits) agrees with :func:`violations` on every pair,
    mentees and mentors alike (so roles and the mentee themselves too), known by id or by email."""
    pool, policy = case
    stored = [
        as_stored(p, without_id=w) for p, w in zip([*pool.mentees, *pool.mentors], without_ids, strict=False)
    ]
    checker = PairChecker(policy, NOW, DEFAULT_ZONE, pool.previous, pool.rejected, pool.managers)
    for mentee, mentee_values in stored:
        for mentor, mentor_values in stored:
            hours = abs(offset(mentee) - offset(mentor))
            at = replace(pool, taken={mentor.key: taken})
            broken = violations(mentee, mentor, at, policy.constraints, hours)
            quick = checker.passes(
                traits(mentee_values, pool.managers), traits(mentor_values, pool.managers), taken
            )
            assert quick == (broken == []), (mentee, mentor, broken)
            assert breaks_any(
                traits(mentee_values, pool.managers), traits(mentor_values, pool.managers), taken, at,
                policy.constraints, hours,
            ) == bool(broken)  # fmt: skip
