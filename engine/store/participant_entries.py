"""Reading the participants' chains of entries (written by ``participants.record_participant_change``).

Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from engine.store.tables import participant_entries, participants


def entries_of(conn: Connection, participant_id: int) -> list[dict[str, Any]]:
    """One participant's entries, oldest first."""
    query = (
        select(participant_entries)
        .where(participant_entries.c.participant_id == participant_id)
        .order_by(participant_entries.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def heads(conn: Connection) -> dict[int, tuple[int, str]]:
    """Per participant, the head of its chain as its row says: (seq, hash); (0, "") before any entry."""
    query = select(participants.c.id, participants.c.audit_seq, participants.c.audit_head)
    return {int(pid): (int(seq), str(head)) for pid, seq, head in conn.execute(query)}


def chains(conn: Connection) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Every participant's entries, grouped by participant, each group in insertion order."""
    query = select(participant_entries).order_by(
        participant_entries.c.participant_id, participant_entries.c.id
    )
    current: int | None = None
    chain: list[dict[str, Any]] = []
    for row in conn.execution_options(yield_per=2000).execute(query).mappings():
        if row["participant_id"] != current:
            if current is not None:
                yield current, chain
            current, chain = int(row["participant_id"]), []
        chain.append(dict(row))
    if current is not None:
        yield current, chain
