"""The five criteria of a match, each a score from 0 to 1, and their weighted mean.

From the guide: skills and expertise (the mentor's ``skills`` against the
mentee's ``wants``), goals and interests, compatibility (values, work style,
communication), plus a shared language and time-zone distance. Each list
criterion is a coverage: the share of what the mentee wrote that the mentor
matches. A criterion the mentee gave nothing for is *not known* and left out
of that mentee's weighted mean, rather than counted as 0 against every mentor.

Scores are computed twice on purpose: :func:`score_matrices` for the whole
pool at once (sparse matrix products, fast enough for thousands), and
:func:`pair_breakdown` for one pair, in words, for the coordinator. A test
keeps the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]

from engine.domain.participants import Participant
from engine.matching.text import content_words, goal_hits, goals_with_words, item_keys
from engine.policy.matching import CRITERIA, Weights

Matrix = NDArray[np.float64]
WORKDAY_HOURS = 8.0  # two working days this many hours apart no longer overlap
COMPATIBILITY_PARTS = ("values", "work_style", "communication")


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

    @property
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
    }
    rows = []
    for name in CRITERIA:
        score, detail = scorers[name]()
        rows.append(CriterionScore(name, weights.of(name), score, detail))
    return Breakdown(tuple(rows))


# -- the whole pool, as matrices ----------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Per criterion a mentees x mentors matrix (NaN rows: not known for that mentee), and the total."""

    criteria: dict[str, Matrix]
    total: Matrix


def _incidence(rows: Sequence[Sequence[str]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    """A 0/1 matrix: row r has a 1 in the column of each of its keys (keys added to ``vocabulary``)."""
    indptr, indices = [0], list[int]()
    for keys in rows:
        indices.extend(vocabulary.setdefault(key, len(vocabulary)) for key in keys)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float64)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), max(len(vocabulary), 1)))


def _widen(matrix: sparse.csr_matrix, columns: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((matrix.data, matrix.indices, matrix.indptr), shape=(matrix.shape[0], columns))


def overlap(wanted: Sequence[Sequence[str]], offered: Sequence[Sequence[str]]) -> tuple[Matrix, Matrix]:
    """How many of each mentee's keys each mentor has, and how many keys each mentee has."""
    vocabulary: dict[str, int] = {}
    a = _incidence(wanted, vocabulary)
    b = _incidence(offered, vocabulary)
    size = max(len(vocabulary), 1)
    common = (_widen(a, size) @ _widen(b, size).T).toarray()
    return np.asarray(common, dtype=np.float64), np.array([len(k) for k in wanted], dtype=np.float64)


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
    goals = [goals_with_words(p.goals) for p in mentees]
    offered = [sorted(frozenset().union(*(content_words(t) for t in (*p.skills, *p.goals)))) for p in mentors]
    vocabulary: dict[str, int] = {}
    goal_rows = _incidence([sorted(words) for g in goals for _, words in g], vocabulary)
    mentor_rows = _incidence(offered, vocabulary)
    size = max(len(vocabulary), 1)
    meets = _word_relation(vocabulary, size)
    covered = (_widen(mentor_rows, size) @ meets) > 0  # mentors x words they meet
    hits = (_widen(goal_rows, size) @ covered.T.astype(np.float64)) > 0  # goals x mentors
    owner_of = np.repeat(np.arange(len(mentees)), [len(g) for g in goals])
    owner = sparse.csr_matrix(
        (np.ones(len(owner_of)), (owner_of, np.arange(len(owner_of)))),
        shape=(len(mentees), len(owner_of)),
    )
    met = np.asarray((owner @ hits.astype(np.float64)).toarray(), dtype=np.float64)
    counts = np.array([len(g) for g in goals], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: Matrix = met / counts[:, None]
    return result


def _word_relation(vocabulary: dict[str, int], size: int) -> sparse.csr_matrix:
    """Which words meet which (:func:`words_meet`): equal, or one begins the other."""
    pairs = [(i, i) for i in vocabulary.values()]
    for word, i in vocabulary.items():
        for end in range(len(word) - 1, 3, -1):
            j = vocabulary.get(word[:end])
            if j is not None:
                pairs += [(i, j), (j, i)]
    rows, cols = zip(*pairs, strict=True) if pairs else ((), ())
    data = np.ones(len(rows), dtype=np.float64)
    return sparse.csr_matrix((data, (rows, cols)), shape=(size, size))


def _mean_of_known(parts: Sequence[Matrix]) -> Matrix:
    stacked = np.stack(parts)
    known = ~np.isnan(stacked)
    counts = known.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: Matrix = np.where(counts > 0, np.nansum(stacked, axis=0) / counts, np.nan)
    return result


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
    shape = (len(mentees), len(mentors))
    numerator, denominator = np.zeros(shape), np.zeros(shape)
    for name, matrix in criteria.items():
        weight = weights.of(name)
        if weight > 0:
            known = ~np.isnan(matrix)
            numerator += np.where(known, matrix * weight, 0.0)
            denominator += np.where(known, weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(denominator > 0, numerator / denominator, 0.0)
    return Scores(criteria, total)
