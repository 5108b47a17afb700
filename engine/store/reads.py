"""Read-only listings for the operator: participants, relationships, one history, as plain dicts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from engine.errors import NotFoundError
from engine.store.database import UnitOfWork, translated_errors
from engine.store.tables import LIST_FIELDS, audit_entries, participants, relationships


def participants_list(store: Engine, role: str | None = None) -> list[dict[str, Any]]:
    query = select(participants).order_by(participants.c.id)
    if role is not None:
        query = query.where(participants.c.role == role)
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        rows = uow.conn.execute(query).mappings().all()
    return [
        {k: v for k, v in row.items() if k not in LIST_FIELDS} | {f: row[f] for f in LIST_FIELDS}
        for row in rows
    ]


def relationships_list(store: Engine, phase: str | None = None) -> list[dict[str, Any]]:
    mentee, mentor = participants.alias("mentee"), participants.alias("mentor")
    query = (
        select(
            relationships.c.id,
            mentee.c.name.label("mentee"),
            mentor.c.name.label("mentor"),
            relationships.c.phase,
            relationships.c.phase_entered_at.label("since"),
            relationships.c.due_at,
            relationships.c.version,
            relationships.c.policy_name.label("policy"),
        )
        .join(mentee, mentee.c.id == relationships.c.mentee_id)
        .outerjoin(mentor, mentor.c.id == relationships.c.mentor_id)
        .order_by(relationships.c.id)
    )
    if phase is not None:
        query = query.where(relationships.c.phase == phase)
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        rows = uow.conn.execute(query).mappings().all()
    return [dict(row) for row in rows]


def history(store: Engine, rel_id: int) -> list[dict[str, Any]]:
    """A relationship's audit entries, oldest first; NotFoundError if it does not exist."""
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        exists = uow.conn.execute(select(relationships.c.id).where(relationships.c.id == rel_id)).first()
        if exists is None:
            raise NotFoundError(f"no relationship {rel_id} (see `mentorflow relationships list`)")
        query = select(audit_entries).where(audit_entries.c.relationship_id == rel_id)
        rows = uow.conn.execute(query.order_by(audit_entries.c.id)).mappings().all()
    return [dict(row) for row in rows]
