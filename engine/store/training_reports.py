"""Training reports in the store: the trainings mentors reported through their links, and their decisions.

A report is open while ``decided_at`` is NULL; a mentor has at most one, which the service keeps so by
holding the mentor's row while it looks (:mod:`engine.services.training`). Every function takes the
Connection of the caller's unit of work and never commits: the service decides what one transaction is.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, insert, select, update

from engine.store.tables import participants, training_reports

CONFIRMED = "confirmed"
DECLINED = "declined"
DECISIONS = (CONFIRMED, DECLINED)


class ReportRow(NamedTuple):
    """A training report as stored, with its mentor's name, external id and email."""

    id: int
    participant_id: int
    reported_at: datetime
    reported_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision: str | None
    reason: str | None
    name: str
    external_id: str | None
    email: str


_t, _p = training_reports.c, participants.c
_REPORTS = select(
    _t.id, _t.participant_id, _t.reported_at, _t.reported_by, _t.decided_at, _t.decided_by, _t.decision,
    _t.reason, _p.name, _p.external_id, _p.email,
).join_from(training_reports, participants, _t.participant_id == _p.id)  # fmt: skip


def open_report(conn: Connection, participant_id: int) -> ReportRow | None:
    """The mentor's report that waits for a decision, or ``None``."""
    query = _REPORTS.where(_t.participant_id == participant_id, _t.decided_at.is_(None))
    row = conn.execute(query.order_by(_t.id)).first()
    return None if row is None else ReportRow(*row)


def report(conn: Connection, report_id: int) -> ReportRow | None:
    """Report ``report_id``, open or decided, or ``None``."""
    row = conn.execute(_REPORTS.where(_t.id == report_id)).first()
    return None if row is None else ReportRow(*row)


def open_reports(conn: Connection) -> list[ReportRow]:
    """Every report that waits for a decision, the longest-waiting first."""
    query = _REPORTS.where(_t.decided_at.is_(None)).order_by(_t.reported_at, _t.id)
    return [ReportRow(*row) for row in conn.execute(query)]


def insert_report(conn: Connection, participant_id: int, now: datetime, actor: str) -> int:
    """A new open report of the mentor ``participant_id``, made by ``actor`` at ``now``; returns its id."""
    values = {"participant_id": participant_id, "reported_at": now, "reported_by": actor}
    new_id = conn.execute(insert(training_reports).values(values).returning(_t.id)).scalar_one()
    return int(new_id)


def decide(
    conn: Connection, report_id: int, decision: str, now: datetime, actor: str, reason: str | None
) -> bool:
    """Close report ``report_id`` with ``decision``; ``False`` (nothing changed) if it was not open."""
    assert decision in DECISIONS
    values = {"decided_at": now, "decided_by": actor, "decision": decision, "reason": reason}
    query = update(training_reports).where(_t.id == report_id, _t.decided_at.is_(None)).values(values)
    return conn.execute(query).rowcount == 1
