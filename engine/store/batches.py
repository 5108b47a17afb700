"""Reading many rows by key: the keys go in slices small enough for every database's parameter limit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

CHUNK = 900  # keys per IN (...) list: under SQLite's variable limit on old builds too

T = TypeVar("T")


def chunks(ids: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
