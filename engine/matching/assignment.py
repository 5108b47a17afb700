"""Choosing the pairs once every pair has a score: optimal, stable, and a greedy baseline.

All three take the same input: ``scores`` (mentees x mentors), ``acceptable``
(the pairs that pass every constraint and reach the minimum score) and
``places`` (per mentor, how many more mentees they can take; ``None`` when
capacity is no constraint). They return, per mentee, the index of its mentor
or ``UNMATCHED``. The same input always gives the same answer: ties go to the
lower index, and callers order mentees and mentors by key.
"""

from __future__ import annotations

from collections import deque
from heapq import heappush, heapreplace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

Assignment = NDArray[np.int64]
Scores = NDArray[np.float64]
Mask = NDArray[np.bool_]
Places = NDArray[np.int64] | None
UNMATCHED = -1


def optimal(scores: Scores, acceptable: Mask, places: Places) -> Assignment:
    """The assignment with the highest total score (Hungarian method over capacity slots).

    Each mentor becomes as many columns as places it can usefully fill; a pair
    that is not acceptable weighs 0, the same as leaving the mentee unmatched,
    so the optimum over the padded matrix is the optimum over acceptable pairs.
    """
    n, m = scores.shape
    result = np.full(n, UNMATCHED, dtype=np.int64)
    rows = np.flatnonzero(acceptable.any(axis=1))
    if rows.size == 0:
        return result
    if places is None:  # nobody competes for a place: each mentee takes their best mentor
        best = np.where(acceptable[rows], scores[rows], -np.inf)
        result[rows] = np.argmax(best, axis=1)
        return result
    useful = np.minimum(places, acceptable[rows].sum(axis=0))
    slots = np.repeat(np.arange(m), useful)
    if slots.size == 0:
        return result
    weights = np.where(acceptable[np.ix_(rows, slots)], scores[np.ix_(rows, slots)], 0.0)
    picked_rows, picked_slots = linear_sum_assignment(weights, maximize=True)
    mentees, mentors = rows[picked_rows], slots[picked_slots]
    keep = acceptable[mentees, mentors]
    result[mentees[keep]] = mentors[keep]
    return result


def stable(scores: Scores, acceptable: Mask, places: Places) -> Assignment:
    """Mentee-proposing deferred acceptance (Gale–Shapley) with capacities.

    Both sides rank by the pair's score, ties broken by index; the result has
    no blocking pair (:func:`blocking_pairs` finds none).
    """
    n, m = scores.shape
    capacity = places.tolist() if places is not None else [n] * m
    table = scores.tolist()
    prefs = []
    for i in range(n):
        choices = np.flatnonzero(acceptable[i])
        prefs.append(choices[np.lexsort((choices, -scores[i, choices]))].tolist())
    held: list[list[tuple[float, int]]] = [[] for _ in range(m)]  # min-heap: the worst-ranked on top
    next_choice = [0] * n
    result = np.full(n, UNMATCHED, dtype=np.int64)
    free = deque(range(n))
    while free:
        i = free.popleft()
        while next_choice[i] < len(prefs[i]):
            j = prefs[i][next_choice[i]]
            next_choice[i] += 1
            entry = (table[i][j], -i)
            if len(held[j]) < capacity[j]:
                heappush(held[j], entry)
                result[i] = j
                break
            if capacity[j] > 0 and entry > held[j][0]:
                _, loser = heapreplace(held[j], entry)
                result[-loser] = UNMATCHED
                free.append(-loser)
                result[i] = j
                break
    return result


def greedy(scores: Scores, acceptable: Mask, places: Places) -> Assignment:
    """The baseline: each mentee in turn takes the best mentor who still has a place."""
    n, _ = scores.shape
    left = None if places is None else places.copy()
    result = np.full(n, UNMATCHED, dtype=np.int64)
    for i in range(n):
        open_ = acceptable[i] if left is None else acceptable[i] & (left > 0)
        if open_.any():
            j = int(np.argmax(np.where(open_, scores[i], -np.inf)))
            result[i] = j
            if left is not None:
                left[j] -= 1
    return result


def total(scores: Scores, assignment: Assignment) -> float:
    """The sum of the scores of the chosen pairs."""
    matched = np.flatnonzero(assignment >= 0)
    return float(scores[matched, assignment[matched]].sum())


def blocking_pairs(
    scores: Scores, acceptable: Mask, places: Places, assignment: Assignment
) -> NDArray[np.int64]:
    """The (mentee, mentor) pairs that would both rather be together than with whom they have.

    A mentee prefers a mentor whose score with them is higher than their
    current pair's (any acceptable mentor, when unmatched); a mentor prefers a
    mentee if they have a place left or the mentee scores higher than their
    weakest. Rows are sorted by score, best first.
    """
    n, m = scores.shape
    matched = assignment >= 0
    current = np.full(n, -np.inf)
    current[matched] = scores[np.flatnonzero(matched), assignment[matched]]
    weakest = np.full(m, -np.inf)
    if places is not None:
        counts = np.bincount(assignment[matched], minlength=m)
        lowest = np.full(m, np.inf)
        np.minimum.at(lowest, assignment[matched], current[matched])
        weakest = np.where(counts >= places, lowest, -np.inf)
    block = acceptable & (scores > current[:, None]) & (scores > weakest[None, :])
    pairs = np.argwhere(block)
    if pairs.size == 0:
        return pairs.astype(np.int64)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -scores[pairs[:, 0], pairs[:, 1]]))
    return pairs[order].astype(np.int64)
