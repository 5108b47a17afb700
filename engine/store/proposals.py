"""The match proposals: one row per waiting relationship per run, and the coordinator's decisions.

Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, func, select, update

from engine.store.batches import chunks
from engine.store.relationships import ids_of_policy
from engine.store.rendered import DriverQuery
from engine.store.tables import match_proposals, participants

PENDING, APPROVED, REJECTED, UNMATCHED, SUPERSEDED = (
    "pending",
    "approved",
    "rejected",
    "unmatched",
    "superseded",
)


def _of_policy(policy_name: str) -> ColumnElement[bool]:
    """Proposals for the relationships of ``policy_name``'s program (another program's are its own)."""
    return match_proposals.c.relationship_id.in_(ids_of_policy(policy_name))


def next_run(conn: Connection) -> int:
    """The number of the next matching run."""
    return int(conn.execute(select(func.coalesce(func.max(match_proposals.c.run), 0))).scalar_one()) + 1


def supersede_open(conn: Connection, policy_name: str) -> None:
    """Mark the pending and unmatched rows of ``policy_name``'s program superseded by a new run."""
    conn.execute(
        update(match_proposals)
        .where(match_proposals.c.status.in_([PENDING, UNMATCHED]), _of_policy(policy_name))
        .values(status=SUPERSEDED)
    )


def insert_proposals(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(match_proposals.insert(), rows)


def rejected_pairs(
    conn: Connection, mentee_ids: Iterable[int] | None = None
) -> list[tuple[int, int, str | None]]:
    """(mentee id, mentor id, reason) of every rejected proposal (only of these mentees, if given),
    oldest first."""
    if mentee_ids is None:
        query = (
            select(match_proposals.c.mentee_id, match_proposals.c.mentor_id, match_proposals.c.reason)
            .where(match_proposals.c.status == REJECTED)
            .order_by(match_proposals.c.id)
        )
        return [(mentee, mentor, reason) for mentee, mentor, reason in conn.execute(query)]
    found = [row for part in chunks(sorted(set(mentee_ids))) for row in _REJECTED_OF.rows(conn, part)]
    found.sort(key=itemgetter(3))
    return [(mentee, mentor, reason) for mentee, mentor, reason, _ in found]


_REJECTED = select(
    match_proposals.c.mentee_id, match_proposals.c.mentor_id, match_proposals.c.reason, match_proposals.c.id
).where(match_proposals.c.status == REJECTED)
_REJECTED_OF = DriverQuery(_REJECTED, match_proposals.c.mentee_id)
"""The rejected proposals of some mentees, read through the driver (one compiled query per slice size)."""


def pending_scoring(conn: Connection, policy_name: str, above: float) -> list[int]:
    """The relationships of ``policy_name`` with a pending proposal scoring at least ``above``, in order."""
    query = select(match_proposals.c.relationship_id).where(
        match_proposals.c.status == PENDING, match_proposals.c.score >= above, _of_policy(policy_name)
    )
    return sorted(conn.execute(query).scalars())


def pending_proposal(conn: Connection, rel_id: int) -> RowMapping | None:
    """The pending proposal of a relationship, with its mentor's ``external_id`` and ``email``."""
    mentor = participants.alias("mentor")
    query = (
        select(match_proposals, mentor.c.external_id, mentor.c.email)
        .join(mentor, mentor.c.id == match_proposals.c.mentor_id)
        .where(match_proposals.c.relationship_id == rel_id, match_proposals.c.status == PENDING)
    )
    return conn.execute(query).mappings().first()


def pending_proposals(conn: Connection, rel_ids: Sequence[int]) -> dict[int, RowMapping]:
    """:func:`pending_proposal` of each of ``rel_ids`` (one without a pending proposal is absent), in one
    query per slice of ids; should a relationship have two, the older."""
    mentor = participants.alias("mentor")
    query = (
        select(match_proposals, mentor.c.external_id, mentor.c.email)
        .join(mentor, mentor.c.id == match_proposals.c.mentor_id)
        .where(match_proposals.c.status == PENDING)
        .order_by(match_proposals.c.id)
    )
    found: dict[int, RowMapping] = {}
    for part in chunks(sorted(set(rel_ids))):
        for row in conn.execute(query.where(match_proposals.c.relationship_id.in_(part))).mappings():
            found.setdefault(row["relationship_id"], row)
    return found


def mark_decided(
    conn: Connection, proposal_id: int, status: str, actor: str, now: datetime, reason: str | None
) -> None:
    """Record the decision on a proposal still pending (or superseded by a run started meanwhile)."""
    conn.execute(
        update(match_proposals)
        .where(match_proposals.c.id == proposal_id, match_proposals.c.status.in_([PENDING, SUPERSEDED]))
        .values(status=status, decided_by=actor, decided_at=now, reason=reason)
    )


def mark_all_decided(
    conn: Connection, proposal_ids: Sequence[int], status: str, actor: str, now: datetime, reason: str | None
) -> None:
    """:func:`mark_decided` of each of ``proposal_ids``, in one statement per slice of ids."""
    for part in chunks(sorted(set(proposal_ids))):
        conn.execute(
            update(match_proposals)
            .where(match_proposals.c.id.in_(part), match_proposals.c.status.in_([PENDING, SUPERSEDED]))
            .values(status=status, decided_by=actor, decided_at=now, reason=reason)
        )


def pending_among(conn: Connection, rel_ids: Sequence[int]) -> set[int]:
    """Those of ``rel_ids`` that have a pending proposal."""
    query = select(match_proposals.c.relationship_id).where(
        match_proposals.c.relationship_id.in_(list(rel_ids)), match_proposals.c.status == PENDING
    )
    return set(conn.execute(query).scalars())


def reject_pending(conn: Connection, rel_ids: Sequence[int], actor: str, now: datetime, reason: str) -> None:
    """Reject the pending proposals of ``rel_ids``."""
    conn.execute(
        update(match_proposals)
        .where(match_proposals.c.relationship_id.in_(list(rel_ids)), match_proposals.c.status == PENDING)
        .values(status=REJECTED, decided_by=actor, decided_at=now, reason=reason)
    )


def proposals_of(conn: Connection, rel_id: int) -> list[dict[str, Any]]:
    """Every proposal row of a relationship, newest first, with mentee and mentor names and keys."""
    mentee, mentor = participants.alias("mentee"), participants.alias("mentor")
    query = (
        select(
            match_proposals,
            mentee.c.name.label("mentee_name"),
            func.coalesce(mentee.c.external_id, mentee.c.email).label("mentee_key"),
            mentor.c.name.label("mentor_name"),
            func.coalesce(mentor.c.external_id, mentor.c.email).label("mentor_key"),
        )
        .join(mentee, mentee.c.id == match_proposals.c.mentee_id)
        .outerjoin(mentor, mentor.c.id == match_proposals.c.mentor_id)
        .where(match_proposals.c.relationship_id == rel_id)
        .order_by(match_proposals.c.run.desc())
    )
    return [dict(row) for row in conn.execute(query).mappings()]
