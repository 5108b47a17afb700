"""Small statistics for the report: quartiles, Pearson and Spearman correlation, rounding.

Plain :mod:`statistics`, so the figures can be recomputed by anyone with the
same definitions: quartiles use the ``inclusive`` method (the median and the
25th and 75th percentiles of the values themselves), Spearman's rho is
Pearson's r of the average ranks (ties share their mean rank).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Any

MIN_CORRELATION_PAIRS = 3
"""Fewer pairs than this, or values that do not vary, give no correlation."""


def rounded(value: float | None, places: int = 4) -> float | None:
    """A figure as the report shows it: rounded to ``places`` decimals, ``None`` kept."""
    return None if value is None else round(float(value), places)


def quartiles(values: Sequence[float]) -> tuple[float, float, float] | None:
    """(25th percentile, median, 75th percentile), or ``None`` without values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0], values[0], values[0]
    low, middle, high = statistics.quantiles(values, n=4, method="inclusive")
    return low, middle, high


def mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or ``None`` for too few pairs or values that do not vary."""
    if len(xs) != len(ys):
        raise ValueError("pearson needs as many x values as y values")
    if len(xs) < MIN_CORRELATION_PAIRS or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return statistics.correlation(xs, ys)


def ranks(values: Sequence[float]) -> list[float]:
    """The rank of each value (1 is the smallest); tied values share their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    result = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        shared = (start + end) / 2 + 1
        for position in range(start, end + 1):
            result[order[position]] = shared
        start = end + 1
    return result


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson's r of the ranks; ``None`` as for :func:`pearson` (ranks keep the count
    and how many values differ)."""
    return pearson(ranks(xs), ranks(ys))


Figure = dict[str, Any]


def figure(value: Any, relationships: Iterable[int], **extra: Any) -> Figure:
    """A figure: its value (floats rounded to 4 places), extra detail, and the relationships it counts."""
    shown = rounded(value) if isinstance(value, float) else value
    return {"value": shown, **extra, "relationships": sorted(set(relationships))}
