"""Participants for the benchmarks, written in bulk as an import writes them (setup, never timed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert

from engine.domain.audit import GENESIS, entry_hash, iso
from engine.policy.model import Policy
from engine.store.database import UnitOfWork
from engine.store.tables import participants

MENTOR_CAPACITY = 1000
LIST_COLUMNS = ("skills", "wants", "goals", "interests", "values", "work_style", "communication", "languages")


def external_id(i: int, role: str) -> str:
    """The external id of benchmark participant ``i``: ``ME00000012``, ``MO00000003``."""
    return f"{role[:2].upper()}{i:08d}"


def person_row(
    i: int, role: str, when: datetime, *, capacity: int, trained: bool, **fields: Any
) -> dict[str, Any]:
    """Participant ``i`` as a row of the participants table (with its id), empty lists, ``fields`` over
    the defaults, created and updated at ``when``."""
    return {
        "id": i,
        "external_id": external_id(i, role),
        "role": role,
        "name": f"{role.title()} {i}",
        "email": f"{role}{i}@example.com",
        **{column: [] for column in LIST_COLUMNS},
        "capacity": capacity,
        "trained": trained,
        "created_at": when,
        "updated_at": when,
        **fields,
    }


def participant_rows(count: int, role: str, now: datetime) -> list[dict[str, Any]]:
    """Participants as an import writes them; mentors trained, with room for many mentees."""
    prefix = "M" if role == "mentor" else "E"
    return [
        {
            "external_id": f"{prefix}{i:07d}",
            "role": role,
            "name": f"{role.title()} {i}",
            "email": f"{role}{i}@example.com",
            "department": None,
            "manager_id": None,
            "level": None,
            **{column: [] for column in LIST_COLUMNS},
            "timezone": None,
            "capacity": MENTOR_CAPACITY if role == "mentor" else 1,
            "trained": role == "mentor",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]


def inserted_ids(store: Engine, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` into participants; their ids, in order."""
    statement = insert(participants).returning(participants.c.id, sort_by_parameter_order=True)
    with UnitOfWork(store) as uow:
        ids = [int(i) for i in uow.conn.execute(statement, rows).scalars()]
        uow.commit()
    return ids


class Chain:
    """A relationship's audit entries, hashed and chained as the engine writes them."""

    def __init__(self, policy: Policy, rel_id: int) -> None:
        self.policy, self.rel_id = policy, rel_id
        self.seq, self.head, self.entries = 0, GENESIS, []

    def add(self, at: datetime, trigger: str, source: str | None, dest: str, data: dict[str, Any]) -> int:
        self.seq += 1
        entry = {
            "relationship_id": self.rel_id,
            "seq": self.seq,
            "at": iso(at),
            "actor": "bench",
            "trigger": trigger,
            "from_phase": source,
            "to_phase": dest,
            "reason": None,
            "policy_name": self.policy.policy,
            "policy_version": self.policy.digest,
            "data": data,
            "prev_hash": self.head,
        }
        self.head = entry["hash"] = entry_hash(entry)
        entry["at"] = at
        self.entries.append(entry)
        return self.seq
