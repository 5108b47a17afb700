"""The criteria of a match, each a score from 0 to 1, and their weighted mean.

From the guide: skills and expertise (the mentor's ``skills`` against the
mentee's ``wants``), goals and interests, compatibility (values, work style,
communication), personal qualities (those a mentee looks for that the mentor
brings; scored only when the policy weighs them), plus a shared language and
time-zone distance. Each list
criterion is a coverage: the share of what the mentee wrote that the mentor
matches. A criterion the mentee gave nothing for is *not known* and left out
of that mentee's weighted mean, rather than counted as 0 against every mentor.

Scores are computed twice on purpose: :func:`score_matrices` for the whole
pool at once (matrix products, fast enough for thousands), and
:func:`pair_breakdown` for one pair, in words, for the coordinator. A test
keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from itertools import chain
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from engine.domain.participants import Participant
from engine.matching.text import MIN_WORD, content_words, goal_hits, goals_with_words, item_keys
from engine.policy.matching import Weights

Matrix = NDArray[np.float64]
WORKDAY_HOURS = 8.0  # two working days this many hours apart no longer overlap
COMPATIBILITY_PARTS = ("values", "work_style", "communication")
_WORD = 64  # bits of the words an overlap is counted in


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def pair_offsets(
    mentee: Participant, mentor: Participant, default_timezone: str, now: datetime
) -> tuple[float, float]:
    """The UTC offsets, in hours, of mentee and mentor at ``now`` (their own zone, else the program's)."""
    return (
        utc_offset_hours(mentee.timezone or default_timezone, now),
        utc_offset_hours(mentor.timezone or default_timezone, now),
    )


def utc_offset_hours(zone: str, now: datetime) -> float:
    """The zone's offset from UTC at ``now``, in hours (daylight saving time included)."""
    offset = now.astimezone(_zone(zone)).utcoffset()
    return 0.0 if offset is None else offset.total_seconds() / 3600


def timezone_score(hours_apart: float) -> float:
    """The share of an 8-hour working day two people have in common."""
    return max(0.0, WORKDAY_HOURS - hours_apart) / WORKDAY_HOURS


@dataclass(frozen=True)
class CriterionScore:
    """One criterion of one pair: its weight, its score (``None``: not known), and why."""

    criterion: str
    weight: float
    score: float | None
    detail: str


@dataclass(frozen=True)
class Breakdown:
    """A pair's score, criterion by criterion."""

    criteria: tuple[CriterionScore, ...]

    @cached_property
    def total(self) -> float:
        """The weighted mean of the known criteria (0 when none is known)."""
        counted = [c for c in self.criteria if c.score is not None and c.weight > 0]
        weight = sum(c.weight for c in counted)
        return sum(c.weight * (c.score or 0.0) for c in counted) / weight if weight else 0.0


# -- one pair, in words -------------------------------------------------------------------------


def _coverage(wanted: Sequence[str], offered: Sequence[str]) -> tuple[float | None, list[str], int]:
    want, have = item_keys(wanted), item_keys(offered)
    if not want:
        return None, [], 0
    met = [text for key, text in want.items() if key in have]
    return len(met) / len(want), met, len(want)


def _skills(mentee: Participant, mentor: Participant) -> tuple[float | None, str]:
    score, met, of = _coverage(mentee.wants, mentor.skills)
    if score is None:
        return None, "the mentee named nothing they want to learn"
    return score, f"{len(met)} of {of} wanted" + (f": {', '.join(met)}" if met else "")


def _goals_part(mentee: Participant, mentor: Participant) -> tuple[float | None, str]:
    goals = goals_with_words(mentee.goals)
    if not goals:
        return None, ""
    offered = frozenset().union(*(content_words(t) for t in (*mentor.skills, *mentor.goals)))
    met = [(text, hits[0]) for text, words in goals if (hits := goal_hits(words, offered))]
    shown = "; ".join(f"'{text}' ({a}~{b})" for text, (a, b) in met)
    return len(met) / len(goals), f"goals {len(met)}/{len(goals)}" + (f" {shown}" if met else "")


def _goals_and_interests(mentee: Participant, mentor: Participant) -> tuple[float | None, str]:
    goals, goals_text = _goals_part(mentee, mentor)
    interests, met, of = _coverage(mentee.interests, mentor.interests)
    parts = [s for s in (goals, interests) if s is not None]
    texts = [goals_text] if goals is not None else []
    if interests is not None:
        texts.append(f"interests {len(met)}/{of}" + (f" ({', '.join(met)})" if met else ""))
    if not parts:
        return None, "the mentee named no goals or interests"
    return sum(parts) / len(parts), "; ".join(texts)


def _compatibility(mentee: Participant, mentor: Participant) -> tuple[float | None, str]:
    parts, texts = [], []
    for field in COMPATIBILITY_PARTS:
        score, met, of = _coverage(getattr(mentee, field), getattr(mentor, field))
        if score is not None:
            parts.append(score)
            label = field.replace("_", " ")
            texts.append(f"{label} {len(met)}/{of}" + (f" ({', '.join(met)})" if met else ""))
    if not parts:
        return None, "the mentee named no values, work style or communication preferences"
    return sum(parts) / len(parts), "; ".join(texts)


def _qualities(mentee: Participant, mentor: Participant) -> tuple[float | None, str]:
    score, met, of = _coverage(mentee.qualities, mentor.qualities)
    if score is None:
        return None, "the mentee named no personal qualities they look for"
    return score, f"qualities {len(met)}/{of}" + (f" {', '.join(met)}" if met else "")


def _language(mentee: Participant, mentor: Participant) -> tuple[float | None, str]:
    own, theirs = item_keys(mentee.languages), item_keys(mentor.languages)
    if not own:
        return None, "the mentee named no languages"
    first = next(iter(own))
    shared = [text for key, text in own.items() if key in theirs]
    if first in theirs:
        return 1.0, f"speaks {own[first]}, the mentee's first language"
    if shared:
        return 0.5, f"shares {', '.join(shared)}, not the mentee's first language ({own[first]})"
    return 0.0, "no language in common"


def _offset_text(hours: float) -> str:
    sign = "+" if hours >= 0 else "-"
    whole, minutes = divmod(round(abs(hours) * 60), 60)
    return f"UTC{sign}{whole}" + (f":{minutes:02d}" if minutes else "")


def pair_breakdown(
    mentee: Participant, mentor: Participant, weights: Weights, offsets: tuple[float, float]
) -> Breakdown:
    """Every criterion of one pair with its score and a line saying why; ``offsets`` in hours."""
    apart = abs(offsets[0] - offsets[1])
    if apart:
        zone_text = f"{apart:g} h apart ({_offset_text(offsets[0])} and {_offset_text(offsets[1])})"
    else:
        zone_text = f"same time ({_offset_text(offsets[0])})"
    scorers: dict[str, Callable[[], tuple[float | None, str]]] = {
        "skills": lambda: _skills(mentee, mentor),
        "goals_and_interests": lambda: _goals_and_interests(mentee, mentor),
        "compatibility": lambda: _compatibility(mentee, mentor),
        "language": lambda: _language(mentee, mentor),
        "timezone": lambda: (timezone_score(apart), zone_text),
        "qualities": lambda: _qualities(mentee, mentor),
    }
    rows = []
    for name in weights.weighed:
        score, detail = scorers[name]()
        rows.append(CriterionScore(name, weights.of(name), score, detail))
    return Breakdown(tuple(rows))


# -- the whole pool, as matrices ----------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Per criterion a mentees x mentors matrix (NaN rows: not known for that mentee), and the total."""

    criteria: dict[str, Matrix]
    total: Matrix


def _flat(rows: Sequence[Sequence[int]]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """The (row, column) of every entry of ``rows``, each a list of column indices."""
    lengths = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
    owners = np.repeat(np.arange(len(rows), dtype=np.intp), lengths)
    columns = np.fromiter(chain.from_iterable(rows), dtype=np.intp, count=int(lengths.sum()))
    return owners, columns


def _bits(owners: NDArray[np.intp], columns: NDArray[np.intp], rows: int) -> NDArray[np.uint64]:
    """Per row, its columns in ``[0, 64)`` as the bits of one word."""
    keep = (columns >= 0) & (columns < _WORD)
    found = np.zeros(rows, dtype=np.uint64)
    np.bitwise_or.at(found, owners[keep], np.left_shift(np.uint64(1), columns[keep].astype(np.uint64)))
    return found


def _popcount(words: NDArray[np.uint64]) -> NDArray[np.uint8]:
    """The bits set in each word (numpy 2 has it built in)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    per_byte = np.array([bin(b).count("1") for b in range(256)], dtype=np.uint8)
    counted: NDArray[np.uint8] = per_byte[words.view(np.uint8)].reshape(*words.shape, 8).sum(axis=-1)
    return counted


def _products(a_rows: Sequence[Sequence[int]], b_rows: Sequence[Sequence[int]], size: int) -> Matrix:
    """Per (a, b) pair of rows, how many columns (of ``size``) they share; a row lists its columns,
    none twice.

    The columns both sides use are numbered anew and taken 64 at a time: each row becomes one
    word of bits, and a pair shares the bits set in both words. Exact counts, without BLAS (whose
    threads, for these thin products, cost more than they save on a busy machine).
    """
    a_owners, a_columns = _flat(a_rows)
    b_owners, b_columns = _flat(b_rows)
    used_a, used_b = np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    used_a[a_columns] = True
    used_b[b_columns] = True
    shared = used_a & used_b
    position = np.where(shared, np.cumsum(shared) - 1, -1)  # column -> its number among the shared
    common = np.zeros((len(a_rows), len(b_rows)), dtype=np.int32)
    for start in range(0, int(shared.sum()), _WORD):
        a = _bits(a_owners, position[a_columns] - start, len(a_rows))
        b = _bits(b_owners, position[b_columns] - start, len(b_rows))
        common += _popcount(a[:, None] & b[None, :])
    return common.astype(np.float64)


def _indexed(rows: Sequence[Sequence[str]], vocabulary: dict[str, int]) -> list[list[int]]:
    """Each row's keys as column numbers (new keys added to ``vocabulary``)."""
    return [[vocabulary.setdefault(key, len(vocabulary)) for key in keys] for keys in rows]


def overlap(wanted: Sequence[Sequence[str]], offered: Sequence[Sequence[str]]) -> tuple[Matrix, Matrix]:
    """How many of each mentee's keys each mentor has, and how many keys each mentee has."""
    vocabulary: dict[str, int] = {}
    a, b = _indexed(wanted, vocabulary), _indexed(offered, vocabulary)
    common = _products(a, b, len(vocabulary))
    return common, np.array([len(k) for k in wanted], dtype=np.float64)


def _coverage_matrix(
    mentees: Sequence[Participant], mentors: Sequence[Participant], wanted: str, offered: str
) -> Matrix:
    """The share of each mentee's ``wanted`` items the mentor has in ``offered`` (NaN: none wanted)."""
    common, counts = overlap(
        [list(item_keys(getattr(p, wanted))) for p in mentees],
        [list(item_keys(getattr(p, offered))) for p in mentors],
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        result: Matrix = common / counts[:, None]
    return result


def _goals_matrix(mentees: Sequence[Participant], mentors: Sequence[Participant]) -> Matrix:
    """The share of each mentee's goals the mentor meets: a goal is met when one of its words meets
    (:func:`engine.matching.text.words_meet`) a word of the mentor's skills and goals. Content words
    have at least ``MIN_WORD`` letters, so only beginnings that long can be one."""
    goals = [goals_with_words(p.goals) for p in mentees]
    vocabulary: dict[str, int] = {}  # the words of the mentees' goals
    goal_rows = _indexed([sorted(words) for g in goals for _, words in g], vocabulary)
    starting: dict[str, list[int]] = {}  # a word's beginning -> the goal words that begin so
    for word, index in vocabulary.items():
        for end in range(MIN_WORD, len(word) + 1):
            starting.setdefault(word[:end], []).append(index)
    met_by: dict[str, set[int]] = {}  # a mentor's word -> the goal words it meets
    mentor_rows: list[list[int]] = []
    for p in mentors:
        covered: set[int] = set()
        for word in frozenset().union(*(content_words(t) for t in (*p.skills, *p.goals))):
            if (found := met_by.get(word)) is None:
                found = met_by[word] = _goal_words_met(word, vocabulary, starting)
            covered |= found
        mentor_rows.append(sorted(covered))
    hits = _products(goal_rows, mentor_rows, len(vocabulary)) > 0  # goals x mentors
    lengths = np.array([len(g) for g in goals], dtype=np.intp)
    first = np.cumsum(lengths) - lengths  # the row of each mentee's first goal
    met = np.zeros((len(mentees), len(mentors)))  # per mentee, the goals each mentor meets
    for rank in range(int(lengths.max(initial=0))):  # their first goals, their second goals, ...
        having = np.flatnonzero(lengths > rank)
        met[having] += hits[first[having] + rank]
    with np.errstate(invalid="ignore", divide="ignore"):
        result: Matrix = met / lengths.astype(np.float64)[:, None]
    return result


def _goal_words_met(word: str, vocabulary: dict[str, int], starting: dict[str, list[int]]) -> set[int]:
    """The goal words ``word`` meets: equal, one it begins, or one that begins it."""
    found = set(starting.get(word, ()))
    found.update(j for end in range(MIN_WORD, len(word)) if (j := vocabulary.get(word[:end])) is not None)
    return found


def _mean_of_known(parts: Sequence[Matrix]) -> Matrix:
    total, counts = np.zeros(parts[0].shape), np.zeros(parts[0].shape, dtype=np.int8)
    for part in parts:  # part by part, in order: the sums nansum over the stacked parts makes
        known = ~np.isnan(part)
        np.add(total, part, out=total, where=known)
        counts += known
    known = counts > 0
    np.divide(total, counts, out=total, where=known)
    total[~known] = np.nan
    return total


def _language_matrix(mentees: Sequence[Participant], mentors: Sequence[Participant]) -> Matrix:
    own = [list(item_keys(p.languages)) for p in mentees]
    theirs = [list(item_keys(p.languages)) for p in mentors]
    shared, counts = overlap(own, theirs)
    first, _ = overlap([keys[:1] for keys in own], theirs)
    score = np.where(first > 0, 1.0, np.where(shared > 0, 0.5, 0.0))
    result: Matrix = np.where(counts[:, None] > 0, score, np.nan)
    return result


def score_matrices(
    mentees: Sequence[Participant],
    mentors: Sequence[Participant],
    weights: Weights,
    offsets: tuple[Sequence[float], Sequence[float]],
) -> Scores:
    """Every criterion for every (mentee, mentor) pair; ``offsets`` are their UTC offsets in hours."""
    apart = np.abs(np.asarray(offsets[0])[:, None] - np.asarray(offsets[1])[None, :])
    criteria: dict[str, Matrix] = {
        "skills": _coverage_matrix(mentees, mentors, "wants", "skills"),
        "goals_and_interests": _mean_of_known(
            [_goals_matrix(mentees, mentors), _coverage_matrix(mentees, mentors, "interests", "interests")]
        ),
        "compatibility": _mean_of_known(
            [_coverage_matrix(mentees, mentors, field, field) for field in COMPATIBILITY_PARTS]
        ),
        "language": _language_matrix(mentees, mentors),
        "timezone": np.maximum(0.0, WORKDAY_HOURS - apart) / WORKDAY_HOURS,
    }
    if "qualities" in weights.weighed:
        criteria["qualities"] = _coverage_matrix(mentees, mentors, "qualities", "qualities")
    shape = (len(mentees), len(mentors))
    numerator, denominator = np.zeros(shape), np.zeros(shape)
    for name, matrix in criteria.items():
        weight = weights.of(name)
        if weight > 0:
            known = ~np.isnan(matrix)
            np.add(numerator, matrix * weight, out=numerator, where=known)
            np.add(denominator, weight, out=denominator, where=known)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(denominator > 0, numerator / denominator, 0.0)
    return Scores(criteria, total)
