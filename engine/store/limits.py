"""What the tables can hold, read from their definitions: the length of each text column.

:mod:`engine.services.limits` hands these to the readers of operators' files, so
every value is checked against the column it goes into before anything is written.
"""

from __future__ import annotations

from sqlalchemy import String

from engine.store.tables import metadata

INTEGER_MAX = 2**31 - 1
"""The largest value of an INTEGER column on PostgreSQL (the stricter back end); ids are INTEGER."""


def column_lengths(table: str) -> dict[str, int]:
    """The longest text each bounded text column of ``table`` holds, by column name."""
    return {
        column.name: int(column.type.length)
        for column in metadata.tables[table].columns
        if isinstance(column.type, String) and column.type.length
    }
