"""Choosing the pairs once every pair has a score: optimal, stable, and a greedy baseline.

All three take the same input: ``scores`` (mentees x mentors), ``acceptable``
(the pairs that pass every constraint and reach the minimum score) and
``places`` (per mentor, how many more mentees they can take; ``None`` when
capacity is no constraint). They return, per mentee, the index of its mentor
or ``UNMATCHED``. The same input always gives the same answer: ties go to the
lower index, and callers order mentees and mentors by key.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from functools import cache
from heapq import heappush, heapreplace
from typing import Any

import numpy as np
from numpy.typing import NDArray

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
    weights = np.where(acceptable[rows], scores[rows], 0.0).take(slots, axis=1)
    picked_rows, picked_slots = _linear_sum_assignment()(weights, maximize=True)
    mentees, mentors = rows[picked_rows], slots[picked_slots]
    keep = acceptable[mentees, mentors]
    result[mentees[keep]] = mentors[keep]
    return result


@cache
def _linear_sum_assignment() -> Callable[..., tuple[NDArray[np.intp], NDArray[np.intp]]]:
    """SciPy's ``linear_sum_assignment`` (the Hungarian method, in C), loaded on first use.

    ``scipy.optimize`` imports all of SciPy's optimisers, linear algebra and array-API layer
    (0.4 s, more than the matching itself takes); the function is one compiled module of that
    package, ``scipy.optimize._lsap``, which needs nothing but numpy. So that module is loaded on
    its own (not entered in ``sys.modules``: a later ``import scipy.optimize`` loads the package as
    usual and gets the same function). Should a SciPy lay it out otherwise, the function comes
    from ``scipy.optimize`` as documented.
    """
    if "scipy.optimize" not in sys.modules:
        try:
            return _lsap_module().linear_sum_assignment  # type: ignore[no-any-return]
        except (ImportError, OSError, AttributeError):
            pass
    from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

    return linear_sum_assignment  # type: ignore[no-any-return]


def _lsap_module() -> Any:
    """``scipy.optimize._lsap``, the compiled module, without running ``scipy/optimize/__init__.py``."""
    import importlib.machinery
    import importlib.util
    from pathlib import Path

    name = "scipy.optimize._lsap"
    scipy = importlib.util.find_spec("scipy")
    if scipy is None or scipy.origin is None:
        raise ImportError("scipy is not installed")
    folder = Path(scipy.origin).parent / "optimize"
    found = [folder / f"_lsap{end}" for end in importlib.machinery.EXTENSION_SUFFIXES]
    path = next((p for p in found if p.is_file()), None)
    if path is None:
        raise ImportError(f"no compiled _lsap module in {folder}")
    loader = importlib.machinery.ExtensionFileLoader(name, str(path))
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    if spec is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    sys.modules.pop(name, None)  # entered by Python for a single-phase module: left to the package
    return module


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
