"""Read-only listings for the operator: participants, relationships, one history, as plain dicts;
and the few counts the demo's summary shows."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Engine, RowMapping, func, select

from engine.errors import NotFoundError
from engine.store.database import UnitOfWork
from engine.store.tables import LIST_FIELDS, audit_entries, participants, relationships


def participant_row(row: RowMapping) -> dict[str, Any]:
    """A participant's row as the lists show it: every column, the list fields after the others."""
    return {k: v for k, v in row.items() if k not in LIST_FIELDS} | {f: row[f] for f in LIST_FIELDS}


def participants_list(store: Engine, role: str | None = None) -> list[dict[str, Any]]:
    query = select(participants).order_by(participants.c.id)
    if role is not None:
        query = query.where(participants.c.role == role)
    with UnitOfWork(store, write=False) as uow:
        rows = uow.conn.execute(query).mappings().all()
    return [participant_row(row) for row in rows]


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
    with UnitOfWork(store, write=False) as uow:
        rows = uow.conn.execute(query).mappings().all()
    return [dict(row) for row in rows]


def history(store: Engine, rel_id: int) -> list[dict[str, Any]]:
    """A relationship's audit entries, oldest first; NotFoundError if it does not exist."""
    with UnitOfWork(store, write=False) as uow:
        exists = uow.conn.execute(select(relationships.c.id).where(relationships.c.id == rel_id)).first()
        if exists is None:
            raise NotFoundError(f"no relationship {rel_id} (see `mentorflow relationships list`)")
        query = select(audit_entries).where(audit_entries.c.relationship_id == rel_id)
        rows = uow.conn.execute(query.order_by(audit_entries.c.id)).mappings().all()
    return [dict(row) for row in rows]


def journey(store: Engine, rel_id: int) -> list[tuple[int, str]]:
    """(id, phase) of every relationship of this relationship's mentee, oldest first."""
    mentee = select(relationships.c.mentee_id).where(relationships.c.id == rel_id).scalar_subquery()
    query = select(relationships.c.id, relationships.c.phase).where(relationships.c.mentee_id == mentee)
    with UnitOfWork(store, write=False) as uow:
        return [(int(rid), str(phase)) for rid, phase in uow.conn.execute(query.order_by(relationships.c.id))]


def participant_count(store: Engine) -> int:
    """How many participants the store holds."""
    with UnitOfWork(store, write=False) as uow:
        return int(uow.conn.execute(select(func.count()).select_from(participants)).scalar_one())


def phases_reached(store: Engine, moves_only_without: Collection[str]) -> dict[str, int]:
    """Per phase, how many relationships ever entered it, by an entry whose trigger is not one of
    ``moves_only_without`` (the triggers that record something in a phase without moving there)."""
    query = (
        select(audit_entries.c.to_phase, func.count(func.distinct(audit_entries.c.relationship_id)))
        .where(audit_entries.c.trigger.not_in(list(moves_only_without)))
        .group_by(audit_entries.c.to_phase)
    )
    with UnitOfWork(store, write=False) as uow:
        return {phase: int(n) for phase, n in uow.conn.execute(query)}


def first_closed_after_review(store: Engine) -> int | None:
    """The first relationship that moved from ``review`` to ``closed`` without a reason (its survey
    completed it), or ``None``."""
    query = (
        select(audit_entries.c.relationship_id)
        .where(audit_entries.c.from_phase == "review", audit_entries.c.reason.is_(None))
        .where(audit_entries.c.to_phase == "closed")
        .order_by(audit_entries.c.relationship_id)
        .limit(1)
    )
    with UnitOfWork(store, write=False) as uow:
        found = uow.conn.execute(query).scalar()
    return None if found is None else int(found)
