"""Hard constraints: pairs that are never proposed, whatever their score.

Each constraint of the policy's ``matching.constraints`` can be switched off;
a coordinator's rejection of a pair always holds. A constraint that needs data
a participant lacks (a level, a language, a department) is not applied to that
pair, and the proposal says so (:func:`unchecked`), rather than ruling out
everyone whose HR record is incomplete.

:func:`failures` works on the whole pool at once (a boolean matrix per
constraint, so an unmatched mentee's explanation can count the mentors each
constraint rules out); :func:`violations` says the same for one pair in words, and
:func:`breaks_any` whether it would say anything, from each person's :class:`Traits` worked out
once (a batch of manual matches checks thousands of pairs). Only the matrices need numpy: it is
imported by the first of them, so that a manual match does without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.domain.participants import Participant
from engine.matching.text import item_key, item_keys
from engine.policy.matching import Constraints

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Mask = NDArray[np.bool_]
CONSTRAINT_LABELS = {
    "capacity": "no places left",
    "reporting_line": "in the mentee's reporting line",
    "different_department": "same department",
    "min_level_gap": "level gap too small",
    "shared_language": "no language in common",
    "no_rematch": "already had a relationship together",
    "max_timezone_hours": "time zones too far apart",
    "rejected": "rejected by the coordinator",
    "role": "not a mentor",
    "self": "the mentee themselves",
}
UNOVERRIDABLE = frozenset({"role", "self"})
"""Constraints no coordinator can overrule: only a mentor mentors, and never themselves."""


@dataclass(frozen=True)
class Pool:
    """Who is to be matched, and what the constraints need to know about the program so far.

    ``taken``: open relationships per mentor key; ``previous``: (mentee key, mentor key) pairs
    that already had a relationship; ``rejected``: pairs a coordinator rejected, with the reason;
    ``managers``: external_id -> manager_id of everyone known, to walk reporting lines.
    """

    mentees: Sequence[Participant]
    mentors: Sequence[Participant]
    taken: Mapping[str, int] = field(default_factory=dict)
    previous: frozenset[tuple[str, str]] = frozenset()
    rejected: Mapping[tuple[str, str], str] = field(default_factory=dict)
    managers: Mapping[str, str] = field(default_factory=dict)


def reporting_chain(person: Participant, managers: Mapping[str, str]) -> tuple[str, ...]:
    """The external ids above ``person``: manager, manager's manager, ...; stops at a cycle."""
    return _chain(person.external_id, person.manager_id, managers)


def _chain(external_id: str | None, manager_id: str | None, managers: Mapping[str, str]) -> tuple[str, ...]:
    """:func:`reporting_chain` of the person with this external id and manager."""
    chain: list[str] = []
    seen = {external_id} if external_id else set()
    boss = manager_id
    while boss is not None and boss not in seen:
        chain.append(boss)
        seen.add(boss)
        boss = managers.get(boss)
    return tuple(chain)


def places_left(pool: Pool, constraints: Constraints) -> NDArray[np.int64] | None:
    """Per mentor the mentees they can still take (``None``: capacity is not a constraint)."""
    import numpy as np

    if not constraints.capacity:
        return None
    return np.array([max(0, m.capacity - pool.taken.get(m.key, 0)) for m in pool.mentors], dtype=np.int64)


def failures(
    pool: Pool, constraints: Constraints, offsets: tuple[Sequence[float], Sequence[float]]
) -> dict[str, Mask]:
    """Per switched-on constraint, a mentees x mentors matrix: True where the pair breaks it."""
    import numpy as np

    mentees, mentors = pool.mentees, pool.mentors
    shape = (len(mentees), len(mentors))
    found: dict[str, Mask] = {}
    places = places_left(pool, constraints)
    if places is not None:
        found["capacity"] = np.broadcast_to(places <= 0, shape).copy()
    if constraints.reporting_line:
        found["reporting_line"] = _reporting_lines(pool)
    if constraints.different_department:
        found["different_department"] = _same_department(mentees, mentors)
    if constraints.min_level_gap is not None:
        found["min_level_gap"] = _level_gap_short(mentees, mentors, constraints.min_level_gap)
    if constraints.shared_language:
        found["shared_language"] = _no_common_language(mentees, mentors)
    if constraints.no_rematch:
        found["no_rematch"] = _pairs(pool, pool.previous)
    if constraints.max_timezone_hours is not None:
        apart = np.abs(np.asarray(offsets[0])[:, None] - np.asarray(offsets[1])[None, :])
        found["max_timezone_hours"] = np.asarray(apart > constraints.max_timezone_hours).reshape(shape)
    found["rejected"] = _pairs(pool, pool.rejected.keys())
    found["role"] = np.broadcast_to(np.array([m.role != "mentor" for m in mentors], dtype=bool), shape).copy()
    found["self"] = _pairs(pool, ((m.key, m.key) for m in mentors))
    return found


def _reporting_lines(pool: Pool) -> Mask:
    import numpy as np

    column = {m.external_id: j for j, m in enumerate(pool.mentors) if m.external_id}
    row = {p.external_id: i for i, p in enumerate(pool.mentees) if p.external_id}
    fail = np.zeros((len(pool.mentees), len(pool.mentors)), dtype=bool)
    for i, mentee in enumerate(pool.mentees):
        for boss in reporting_chain(mentee, pool.managers):
            if boss in column:
                fail[i, column[boss]] = True
    for j, mentor in enumerate(pool.mentors):
        for boss in reporting_chain(mentor, pool.managers):
            if boss in row:
                fail[row[boss], j] = True
    return fail


def _codes(values: Sequence[str | None]) -> NDArray[np.int64]:
    import numpy as np

    known: dict[str, int] = {}
    return np.array([known.setdefault(item_key(v), len(known)) if v else -1 for v in values], dtype=np.int64)


def _same_department(mentees: Sequence[Participant], mentors: Sequence[Participant]) -> Mask:
    import numpy as np

    codes = _codes([p.department for p in (*mentees, *mentors)])
    a, b = codes[: len(mentees)], codes[len(mentees) :]
    return np.asarray((a[:, None] == b[None, :]) & (a[:, None] >= 0))


def _level_gap_short(mentees: Sequence[Participant], mentors: Sequence[Participant], gap: int) -> Mask:
    import numpy as np

    a = np.array([np.nan if p.level is None else p.level for p in mentees], dtype=np.float64)
    b = np.array([np.nan if p.level is None else p.level for p in mentors], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray((b[None, :] - a[:, None]) < gap) & ~np.isnan(a)[:, None] & ~np.isnan(b)[None, :]


def _no_common_language(mentees: Sequence[Participant], mentors: Sequence[Participant]) -> Mask:
    import numpy as np

    from engine.matching.scores import overlap

    shared, counts = overlap(
        [list(item_keys(p.languages)) for p in mentees], [list(item_keys(p.languages)) for p in mentors]
    )
    has = np.array([bool(p.languages) for p in mentors], dtype=bool)
    return np.asarray((shared == 0) & (counts[:, None] > 0) & has[None, :])


def _pairs(pool: Pool, pairs: Iterable[tuple[str, str]]) -> Mask:
    import numpy as np

    row = {p.key: i for i, p in enumerate(pool.mentees)}
    column = {m.key: j for j, m in enumerate(pool.mentors)}
    fail = np.zeros((len(pool.mentees), len(pool.mentors)), dtype=bool)
    for mentee, mentor in pairs:
        if mentee in row and mentor in column:
            fail[row[mentee], column[mentor]] = True
    return fail


# -- one pair, in words -------------------------------------------------------------------------


def violations(
    mentee: Participant,
    mentor: Participant,
    pool: Pool,
    constraints: Constraints,
    hours_apart: float,
) -> list[tuple[str, str]]:
    """The constraints the pair breaks, each with a sentence for the coordinator."""
    found: list[tuple[str, str]] = []
    if constraints.capacity:
        taken = pool.taken.get(mentor.key, 0)
        if mentor.capacity - taken <= 0:
            found.append(("capacity", f"no places left ({taken} of {mentor.capacity} mentees)"))
    if constraints.reporting_line and (line := _line_relation(mentee, mentor, pool.managers)):
        found.append(("reporting_line", line))
    if (
        constraints.different_department
        and mentee.department
        and mentor.department
        and item_key(mentee.department) == item_key(mentor.department)
    ):
        found.append(("different_department", f"same department ({mentor.department})"))
    gap = constraints.min_level_gap
    if gap is not None and _level_gap(mentee, mentor) < gap:
        found.append(
            ("min_level_gap", f"level {mentor.level} is not {gap} above the mentee's {mentee.level}")
        )
    if constraints.shared_language and _no_language_in_common(mentee, mentor):
        found.append(("shared_language", f"no language in common (speaks {', '.join(mentor.languages)})"))
    if constraints.no_rematch and (mentee.key, mentor.key) in pool.previous:
        found.append(("no_rematch", "already had a relationship with the mentee"))
    limit = constraints.max_timezone_hours
    if limit is not None and hours_apart > limit:
        found.append(("max_timezone_hours", f"{hours_apart:g} h apart (at most {limit:g} h allowed)"))
    if (mentee.key, mentor.key) in pool.rejected:
        found.append(("rejected", f"rejected by the coordinator: {pool.rejected[(mentee.key, mentor.key)]}"))
    if mentor.role != "mentor":
        found.append(("role", f"is a {mentor.role}, not a mentor"))
    if mentee.key == mentor.key:
        found.append(("self", "is the mentee themselves"))
    return found


class Traits(NamedTuple):
    """What :func:`violations` reads of one participant (and their time zone, to work out how many hours
    apart a pair is), worked out once for the many pairs they are in."""

    key: str
    external_id: str | None
    department: str | None
    """The department's :func:`item_key` (``None``: no department)."""
    level: int | None
    languages: frozenset[str] | None
    """The :func:`item_keys` of the languages named (``None``: none named)."""
    role: str
    capacity: int
    chain: tuple[str, ...]
    """:func:`reporting_chain`: the external ids above them."""
    timezone: str | None


TRAIT_COLUMNS = (
    "external_id", "email", "department", "level", "languages", "role", "capacity", "manager_id", "timezone",
)  # fmt: skip
"""The columns of a participant :func:`traits` reads, in the order it takes their values."""


def traits(values: Sequence[Any], managers: Mapping[str, str]) -> Traits:
    """The :class:`Traits` of the participant whose columns :data:`TRAIT_COLUMNS` (as the store holds
    them) are the first of ``values``, in that order (a row read with more columns after them will do)."""
    external_id, email, department, level, languages, role, capacity, manager, zone = values[:_READ]
    return Traits(
        external_id if external_id is not None else email,  # Participant.key
        external_id,
        item_key(department) if department else None,
        level,
        frozenset(item_keys(languages)) if languages else None,
        role,
        capacity,
        () if manager is None else _chain(external_id, manager, managers),
        zone,
    )


_READ = len(TRAIT_COLUMNS)


def breaks_any(
    mentee: Traits, mentor: Traits, taken: int, pool: Pool, constraints: Constraints, hours_apart: float
) -> bool:
    """Whether :func:`violations` of the pair finds any constraint broken, ``mentor`` having ``taken``
    open relationships (``pool.taken`` is not read): its tests, one for one, on the pair's traits,
    without wording them (a test keeps the two in agreement)."""
    pair = (mentee.key, mentor.key)
    return (
        (constraints.capacity and mentor.capacity - taken <= 0)
        or (
            constraints.reporting_line
            and (
                bool(mentor.external_id and mentor.external_id in mentee.chain)
                or bool(mentee.external_id and mentee.external_id in mentor.chain)
            )
        )
        or (constraints.different_department and mentee.department is not None
            and mentee.department == mentor.department)
        or (constraints.min_level_gap is not None and mentee.level is not None and mentor.level is not None
            and mentor.level - mentee.level < constraints.min_level_gap)
        or (constraints.shared_language and mentee.languages is not None and mentor.languages is not None
            and mentee.languages.isdisjoint(mentor.languages))
        or (constraints.no_rematch and pair in pool.previous)
        or (constraints.max_timezone_hours is not None and hours_apart > constraints.max_timezone_hours)
        or pair in pool.rejected
        or mentor.role != "mentor"
        or mentee.key == mentor.key
    )  # fmt: skip


def _level_gap(mentee: Participant, mentor: Participant) -> float:
    """How many levels the mentor is above the mentee (infinite when a level is unknown)."""
    if mentee.level is None or mentor.level is None:
        return float("inf")
    return mentor.level - mentee.level


def _no_language_in_common(mentee: Participant, mentor: Participant) -> bool:
    if not (mentee.languages and mentor.languages):
        return False  # not checked: see unchecked()
    return not set(item_keys(mentee.languages)) & set(item_keys(mentor.languages))


def _line_relation(mentee: Participant, mentor: Participant, managers: Mapping[str, str]) -> str | None:
    up = reporting_chain(mentee, managers)
    if mentor.external_id and mentor.external_id in up:
        depth = up.index(mentor.external_id) + 1
        if depth == 1:
            return "in the mentee's reporting line: is the mentee's manager"
        return f"in the mentee's reporting line: {depth} levels above the mentee"
    down = reporting_chain(mentor, managers)
    if mentee.external_id and mentee.external_id in down:
        depth = down.index(mentee.external_id) + 1
        return f"in the mentee's reporting line: reports to the mentee ({depth} level(s) down)"
    return None


def unchecked(mentee: Participant, mentor: Participant, constraints: Constraints) -> list[str]:
    """Constraints that could not be checked for this pair, for lack of data."""
    notes = []
    if constraints.min_level_gap is not None and (mentee.level is None or mentor.level is None):
        whose = "mentee's" if mentee.level is None else "mentor's"
        notes.append(f"level gap not checked: the {whose} level is unknown")
    if constraints.shared_language and not (mentee.languages and mentor.languages):
        whose = "mentee" if not mentee.languages else "mentor"
        notes.append(f"common language not checked: the {whose} named no languages")
    if constraints.different_department and not (mentee.department and mentor.department):
        notes.append("department not checked: one of the two has none")
    return notes
