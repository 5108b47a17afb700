"""Matching mentors and mentees: scores, hard constraints, the pairs chosen, and why.

Pure: a :class:`Pool` of participants and what the program already knows
(open relationships per mentor, earlier pairs, the coordinator's rejections,
reporting lines) goes in with the policy's ``matching:`` section and ``now``;
a :class:`MatchResult` comes out. Every mentee gets an :class:`Explanation`:
the proposed pair with its score broken down by criterion, or the reason no
pair is proposed, plus the mentors ruled out and the alternatives not taken.

The steps are separate so the benchmark can time them: :func:`prepare`
(scores and constraints for the whole pool), :func:`assign` (the pairs), and
:func:`explain` (the words).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from engine.domain.participants import Participant
from engine.matching import assignment as matching_assign
from engine.matching.assignment import UNMATCHED, Assignment
from engine.matching.constraints import CONSTRAINT_LABELS, Pool, failures, places_left, unchecked, violations
from engine.matching.scores import (
    Breakdown,
    Scores,
    pair_breakdown,
    pair_offsets,
    score_matrices,
    utc_offset_hours,
)
from engine.policy.matching import MatchingPolicy

__all__ = ["Explanation", "MatchResult", "Pool", "Proposal", "assign", "explain", "match", "prepare"]

Mask = NDArray[np.bool_]
Reason = Literal["no_mentors", "constraints", "below_minimum", "capacity"]
SHOWN = 5  # ruled-out mentors and alternatives named per mentee
SHOWN_BLOCKING = 20


@dataclass(frozen=True)
class Proposal:
    """A proposed pair, its score by criterion, and what could not be checked for it."""

    mentee: Participant
    mentor: Participant
    breakdown: Breakdown
    notes: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return self.breakdown.total


@dataclass(frozen=True)
class RuledOut:
    """A mentor a hard constraint keeps from the mentee, with the score they would have had."""

    mentor: Participant
    score: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Alternative:
    """A mentor who fits the mentee but was not chosen, and why not."""

    mentor: Participant
    score: float
    why_not: str


@dataclass(frozen=True)
class Explanation:
    """Everything a coordinator needs to trust (or question) what happened to one mentee."""

    mentee: Participant
    proposal: Proposal | None
    reason: str | None
    reason_kind: Reason | None
    ruled_out_counts: dict[str, int]
    ruled_out: tuple[RuledOut, ...]
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class BlockingPair:
    """A mentee and mentor who would both rather be together than with whom they have."""

    mentee: Participant
    mentor: Participant
    score: float


@dataclass(frozen=True)
class MatchResult:
    """The pairs chosen for a pool, one explanation per mentee (ordered by key)."""

    mode: str
    explanations: tuple[Explanation, ...]
    total: float
    blocking_count: int
    blocking: tuple[BlockingPair, ...]
    mentors: int

    @property
    def proposals(self) -> list[Proposal]:
        return [e.proposal for e in self.explanations if e.proposal is not None]

    @property
    def unmatched(self) -> list[Explanation]:
        return [e for e in self.explanations if e.proposal is None]


@dataclass(frozen=True)
class Instance:
    """A pool made ready to assign: sorted, scored, and checked against every constraint."""

    pool: Pool
    policy: MatchingPolicy
    offsets: tuple[list[float], list[float]]
    scores: Scores
    fails: dict[str, Mask]
    fit: Mask  # passes every constraint except a mentor's capacity
    good: Mask  # fits and reaches the minimum score
    places: NDArray[np.int64] | None
    acceptable: Mask  # what an assignment may choose: good, with a mentor who has a place


def prepare(pool: Pool, policy: MatchingPolicy, now: datetime, default_timezone: str = "UTC") -> Instance:
    """Score every pair and check every constraint; participants are put in key order."""
    pool = Pool(
        sorted(pool.mentees, key=lambda p: p.key),
        sorted(pool.mentors, key=lambda p: p.key),
        pool.taken,
        pool.previous,
        pool.rejected,
        pool.managers,
    )
    offsets = (
        [utc_offset_hours(p.timezone or default_timezone, now) for p in pool.mentees],
        [utc_offset_hours(p.timezone or default_timezone, now) for p in pool.mentors],
    )
    scores = score_matrices(pool.mentees, pool.mentors, policy.weights, offsets)
    fails = failures(pool, policy.constraints, offsets)
    shape = (len(pool.mentees), len(pool.mentors))
    fit = ~_any([f for name, f in fails.items() if name != "capacity"], shape)
    good = fit & (scores.total >= policy.min_score) & (scores.total > 0)
    places = places_left(pool, policy.constraints)
    acceptable = good if places is None else good & (places > 0)[None, :]
    return Instance(pool, policy, offsets, scores, fails, fit, good, places, acceptable)


def _any(masks: list[Mask], shape: tuple[int, ...]) -> Mask:
    found = np.zeros(shape, dtype=bool)
    for mask in masks:
        found |= mask
    return found


def assign(instance: Instance, mode: str | None = None) -> Assignment:
    """The pairs of the policy's mode (or ``mode``): ``optimal``, ``stable`` or ``greedy``."""
    chosen = {
        "optimal": matching_assign.optimal,
        "stable": matching_assign.stable,
        "greedy": matching_assign.greedy,
    }
    return chosen[mode or instance.policy.mode](instance.scores.total, instance.acceptable, instance.places)


def match(pool: Pool, policy: MatchingPolicy, now: datetime, default_timezone: str = "UTC") -> MatchResult:
    """Propose pairs for the whole pool under ``policy``, every decision explained."""
    instance = prepare(pool, policy, now, default_timezone)
    return explain(instance, assign(instance))


def explain(instance: Instance, assignment: Assignment) -> MatchResult:
    """Put an assignment into words: a proposal or a reason per mentee, and the blocking pairs."""
    pool, total_scores = instance.pool, instance.scores.total
    taken_by: dict[int, list[int]] = {}
    for i, j in enumerate(assignment.tolist()):
        if j != UNMATCHED:
            taken_by.setdefault(j, []).append(i)
    shared = _Shared(
        _full_mentors(instance, taken_by),
        {name: fail.sum(axis=1) for name, fail in instance.fails.items()},
        _any(list(instance.fails.values()), total_scores.shape),
    )
    explanations = tuple(
        _explain_one(instance, i, int(assignment[i]), shared) for i in range(len(pool.mentees))
    )
    blocking = matching_assign.blocking_pairs(total_scores, instance.acceptable, instance.places, assignment)
    return MatchResult(
        mode=instance.policy.mode,
        explanations=explanations,
        total=matching_assign.total(total_scores, assignment),
        blocking_count=len(blocking),
        blocking=tuple(
            BlockingPair(pool.mentees[i], pool.mentors[j], float(total_scores[i, j]))
            for i, j in blocking[:SHOWN_BLOCKING].tolist()
        ),
        mentors=len(pool.mentors),
    )


@dataclass(frozen=True)
class _Shared:
    """What every mentee's explanation reads, worked out once for the whole pool."""

    full: dict[int, str]  # mentor index -> who holds all their places
    ruled_counts: dict[str, NDArray[np.intp]]  # constraint -> per mentee, the mentors it rules out
    ruled: Mask  # the pairs some constraint rules out


def _full_mentors(instance: Instance, taken_by: dict[int, list[int]]) -> dict[int, str]:
    """The mentors whose places this assignment fills, each with who holds them (best score first)."""
    pool, places, scores = instance.pool, instance.places, instance.scores.total
    if places is None:
        return {}
    return {
        j: ", ".join(
            f"{pool.mentees[k].name} ({scores[k, j]:.2f})"
            for k in sorted(holders, key=lambda k: -scores[k, j])
        )
        for j, holders in taken_by.items()
        if len(holders) >= places[j]
    }


def _explain_one(instance: Instance, i: int, chosen: int, shared: _Shared) -> Explanation:
    pool, policy = instance.pool, instance.policy
    mentee = pool.mentees[i]
    row = instance.scores.total[i]
    counts = {name: int(count[i]) for name, count in shared.ruled_counts.items() if count[i]}
    ruled = np.flatnonzero(shared.ruled[i])
    ruled_out = tuple(
        RuledOut(pool.mentors[j], float(row[j]), tuple(text for _, text in _violations(instance, i, j)))
        for j in _best(row, ruled, SHOWN)
    )
    others = np.flatnonzero(instance.acceptable[i])
    others = others[others != chosen]
    alternatives = tuple(
        Alternative(pool.mentors[j], float(row[j]), _why_not(row, j, chosen, shared.full))
        for j in _best(row, others, SHOWN)
    )
    proposal = None
    reason_kind: Reason | None = None
    reason = None
    if chosen != UNMATCHED:
        mentor = pool.mentors[chosen]
        offsets = (instance.offsets[0][i], instance.offsets[1][chosen])
        notes = tuple(unchecked(mentee, mentor, policy.constraints))
        proposal = Proposal(mentee, mentor, pair_breakdown(mentee, mentor, policy.weights, offsets), notes)
    else:
        reason_kind, reason = _unmatched_reason(instance, i, counts)
    return Explanation(mentee, proposal, reason, reason_kind, counts, ruled_out, alternatives)


def _best(row: NDArray[np.float64], columns: NDArray[np.intp], limit: int) -> list[int]:
    """The ``limit`` best-scoring of ``columns``, ties by index."""
    if columns.size == 0:
        return []
    order = np.lexsort((columns, -row[columns]))
    return [int(j) for j in columns[order][:limit]]


def _violations(instance: Instance, i: int, j: int) -> list[tuple[str, str]]:
    apart = abs(instance.offsets[0][i] - instance.offsets[1][j])
    pool = instance.pool
    return violations(pool.mentees[i], pool.mentors[j], pool, instance.policy.constraints, apart)


def _why_not(row: NDArray[np.float64], j: int, chosen: int, full: dict[int, str]) -> str:
    names = full.get(j)
    if names is not None:
        if chosen != UNMATCHED and row[j] > row[chosen]:
            return f"scores higher, but all places went to {names}: together a higher total"
        return f"all places went to {names}"
    return "scores lower than the proposed mentor" if chosen != UNMATCHED else "not chosen"


def _unmatched_reason(instance: Instance, i: int, counts: dict[str, int]) -> tuple[Reason, str]:
    pool, policy, row = instance.pool, instance.policy, instance.scores.total[i]
    if not pool.mentors:
        return "no_mentors", "there are no mentors to choose from"
    fitting = np.flatnonzero(instance.fit[i])
    if fitting.size == 0:
        parts = ", ".join(f"{CONSTRAINT_LABELS[name]} {count}" for name, count in counts.items())
        return "constraints", f"no mentor passes the constraints; of {len(pool.mentors)} mentors: {parts}"
    good = np.flatnonzero(instance.good[i])
    if good.size == 0:
        best = _best(row, fitting, 1)[0]
        return "below_minimum", (
            f"best score {row[best]:.2f} ({pool.mentors[best].name}) is below the minimum "
            f"{policy.min_score:.2f} ({fitting.size} mentor(s) pass the constraints)"
        )
    full_before = int(np.sum(instance.places[good] <= 0)) if instance.places is not None else 0
    if full_before == good.size:
        return "capacity", f"all {good.size} fitting mentor(s) had no places left before this run"
    went = f"went to pairs that {_mode_phrase(policy.mode)}"
    if full_before == 0:
        return "capacity", f"all {good.size} fitting mentor(s) are full: their places {went}"
    return "capacity", (
        f"all {good.size} fitting mentor(s) are full: {full_before} before this run, "
        f"the places of the others {went}"
    )


def _mode_phrase(mode: str) -> str:
    return "make a higher total score" if mode == "optimal" else "rank each other higher"


def proposal_for(
    mentee: Participant,
    mentor: Participant,
    pool: Pool,
    policy: MatchingPolicy,
    now: datetime,
    default_timezone: str,
) -> tuple[Proposal, list[tuple[str, str]]]:
    """One pair scored and checked on its own: used to re-check a proposal before it is approved."""
    offsets = pair_offsets(mentee, mentor, default_timezone, now)
    breakdown = pair_breakdown(mentee, mentor, policy.weights, offsets)
    found = violations(mentee, mentor, pool, policy.constraints, abs(offsets[0] - offsets[1]))
    return Proposal(mentee, mentor, breakdown, tuple(unchecked(mentee, mentor, policy.constraints))), found
