"""The participants' chains of entries: appending to them (who changed which fields of whom, when
and why; never the values) and reading them back.

Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from engine.domain.audit import GENESIS
from engine.domain.participant_audit import ParticipantEntries
from engine.store.batches import chunks
from engine.store.rendered import DriverStatement
from engine.store.tables import participant_entries, participants


def record_participant_change(
    conn: Connection, participant_id: int, actor: str, fields: Sequence[str], cause: str, now: datetime
) -> dict[str, Any]:
    """Append an entry to the participant's chain: who, when, why (``cause``), the NAMES of ``fields``.

    The values are never written, so a participant's personal data can be erased and
    the chain still verifies. Returns the entry written (with its ``seq`` and ``hash``).
    """
    return record_participant_changes(conn, [(participant_id, fields, cause)], actor, now)[0]


def record_participant_changes(
    conn: Connection,
    changes: Sequence[tuple[int, Sequence[str], str]],
    actor: str,
    now: datetime,
    *,
    new: Collection[int] = (),
) -> list[dict[str, Any]]:
    """Append one entry per (participant id, field names, cause), in order, each chained to its head.

    ``new`` names participants just inserted, whose chains are still empty (their heads are not read).
    One insert of the entries and one update of the heads, each an executemany.
    """
    if not changes:
        return []
    fresh = set(new)
    heads = {pid: (0, "") for pid, _, _ in changes if pid in fresh}
    heads.update(chain_heads(conn, [pid for pid, _, _ in changes if pid not in fresh], lock=True))
    written = []
    entries = ParticipantEntries(actor, now)
    for pid, fields, cause in changes:
        seq, head = heads[pid]
        entry = entries.entry(pid, seq + 1, head or GENESIS, cause, fields)
        heads[pid] = (entry["seq"], entry["hash"])
        written.append(entry)
    _INSERT_ENTRIES.execute(conn, map(itemgetter(*ENTRY_COLUMNS), written))
    _SET_HEAD.execute(conn, [(seq, head, pid) for pid, (seq, head) in heads.items()])
    return written


ENTRY_COLUMNS = ("participant_id", "seq", "at", "actor", "cause", "fields", "prev_hash", "hash")
"""The columns a participant's entry is written with (every column but its id)."""

_INSERT_ENTRIES = DriverStatement(insert(participant_entries), ENTRY_COLUMNS)
"""The entries of a batch in one driver call, each distinct time and list of fields rendered once."""

_SET_HEAD = DriverStatement(
    update(participants)
    .where(participants.c.id == bindparam("b_id"))
    .values(audit_seq=bindparam("b_seq"), audit_head=bindparam("b_head")),
    ("b_seq", "b_head", "b_id"),
)


def chain_heads(conn: Connection, ids: Iterable[int], *, lock: bool = False) -> dict[int, tuple[int, str]]:
    """Per participant of ``ids``, its chain's head: (seq, hash); ``lock`` holds the rows (PostgreSQL)."""
    found: dict[int, tuple[int, str]] = {}
    for part in chunks(sorted(set(ids))):
        query = select(participants.c.id, participants.c.audit_seq, participants.c.audit_head).where(
            participants.c.id.in_(part)
        )
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found.update((int(pid), (int(seq), str(head))) for pid, seq, head in conn.execute(query))
    return found


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
