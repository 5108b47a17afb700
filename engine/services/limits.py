"""The limits of the store, for the checks made before anything is written.

Text columns have a length (:func:`column_lengths`, from the table definitions),
integers are 32 bits on PostgreSQL (:data:`INTEGER_MAX`), text never holds a NUL
character, and the program's moments stay in :data:`EARLIEST` .. :data:`LATEST`
(datetime arithmetic a hundred years out stays safe). Importing this module costs
nothing: the store is imported only when lengths are asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime

INTEGER_MAX = 2**31 - 1
"""The largest id, level or capacity an INTEGER column holds (PostgreSQL's, the stricter back end)."""
INTEGER_MIN = -(2**31)

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
"""The earliest moment the program works with."""
LATEST = datetime(3000, 1, 1, tzinfo=UTC)
"""The first moment past the latest the program works with: policy durations (at most 100 years each)
added to it still make a date both databases and Python can hold."""


def column_lengths(table: str) -> dict[str, int]:
    """The longest text each bounded text column of ``table`` holds (``participants``: name 200, ...)."""
    from engine.store.limits import column_lengths as lengths

    return lengths(table)


def actor_length() -> int:
    """The longest actor name the store records (the ``actor`` of audit and participant entries)."""
    return min(
        column_lengths(table)[name]
        for table, name in (
            ("audit_entries", "actor"),
            ("participant_entries", "actor"),
            ("meetings", "recorded_by"),
            ("match_proposals", "decided_by"),
        )
    )


def in_range(moment: datetime) -> bool:
    """Whether ``moment`` (aware) is one the program works with."""
    return EARLIEST <= moment < LATEST
