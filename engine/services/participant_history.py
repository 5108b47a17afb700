"""Each participant's own history: the chain of entries that says who changed them, when and which fields.

``participants history PERSON`` reads it; ``audit verify`` checks every chain
(:func:`verify_participants`, called inside its read transaction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.domain.participant_audit import ParticipantProblem, verify_participant_chain
from engine.errors import NotFoundError
from engine.store import participant_entries
from engine.store import participants as people_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


def participant_history(store: Engine, ref: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the participant's id, key, name, role and status, their entries oldest first)."""
    with UnitOfWork(store, write=False) as uow:
        row = people_store.participant_by_ref(uow.conn, ref)
        if row is None:
            raise NotFoundError(f"no participant {ref!r} (give an id, external id or email)")
        person = {
            "id": int(row.id),
            "key": row.external_id or row.email,
            "name": row.name,
            "role": row.role,
            "status": row.status,
        }
        return person, participant_entries.entries_of(uow.conn, int(row.id))


def verify_participants(conn: Connection) -> tuple[int, list[ParticipantProblem]]:
    """(entries checked, problems) over every participant's chain, against each participant's row."""
    heads = participant_entries.heads(conn)
    problems: list[ParticipantProblem] = []
    count = 0
    for pid, chain in participant_entries.chains(conn):
        count += len(chain)
        head = heads.pop(pid, None)
        if head is None:
            problems.append(ParticipantProblem(pid, None, "has entries but no participant row"))
            continue
        problems += verify_participant_chain(pid, head[0], head[1], chain)
    for pid, (seq, head_hash) in heads.items():
        if seq:
            problems += verify_participant_chain(pid, seq, head_hash, [])
    return count, problems
