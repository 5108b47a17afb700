"""A mentor's training reported through their link, and the coordinator's decision on it.

Without the policy's ``links.confirm_training`` a mentor's "I completed the training" records the
training at once (:func:`engine.services.recording.record_training`). With it, it is a *training report*
that waits for a coordinator: confirmed, the training is recorded with the coordinator as its actor;
declined, with a reason, the mentor may report again. A mentor has at most one open report, kept so by
holding the mentor's row (PostgreSQL) or the database (SQLite) while the report is looked for and made.

Confirming records the training in its own transaction (``record_training`` opens one) and then closes
the report in another: if the second fails, the report stays open with the mentor trained, and
confirming again records nothing twice (a training recorded again changes nothing) and closes it.
``mentorflow record training`` closes a mentor's open report as confirmed the same way
(:func:`record_and_close`), so nothing stays pending once the mentor is trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from engine.clock import shown
from engine.errors import InputError, NotFoundError, RefusedError, field
from engine.services.recording import record_training
from engine.store import participants as people_store
from engine.store import training_reports as report_store
from engine.store import users as user_store
from engine.store.database import UnitOfWork
from engine.store.training_reports import CONFIRMED, DECLINED, ReportRow

if TYPE_CHECKING:
    from sqlalchemy import Engine, Row

    from engine.clock import Clock
    from engine.policy.model import Policy

RECORDED = "recorded"
"""The training itself was recorded (the policy does not ask for a coordinator)."""
REPORTED = "reported"
"""A report was made; it waits for a coordinator."""
WAITING = "waiting"
"""A report of this mentor already waited: nothing was written."""
TRAINED = "trained"
"""The mentor is trained already: nothing was written."""
MAX_REASON = 2000
"""The longest reason a decline keeps (a sentence or two; the page's field allows as much)."""


@dataclass(frozen=True)
class TrainingReported:
    """What :func:`report_training` did: ``outcome`` (:data:`RECORDED`, :data:`REPORTED`,
    :data:`WAITING` or :data:`TRAINED`), the report made or found, the pairs made due by a recording."""

    outcome: str
    report_id: int | None = None
    relationship_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class TrainingReport:
    """A training report as the coordinator pages show it."""

    id: int
    participant_id: int
    mentor: str
    reference: str
    reported_at: datetime
    reported_by: str
    decided_at: datetime | None
    decided_by: str | None
    decision: str | None
    reason: str | None


def report_training(
    store: Engine, policy: Policy, clock: Clock, mentor_ref: str, actor: str
) -> TrainingReported:
    """A mentor says they completed the training: recorded at once, or a report for a coordinator when the
    policy's ``links.confirm_training`` is set (nothing is written for a mentor trained or already
    waiting)."""
    if not policy.confirm_training:
        rel_ids = record_training(store, clock, mentor_ref, actor=actor)
        return TrainingReported(RECORDED, relationship_ids=tuple(rel_ids))
    with UnitOfWork(store) as uow:
        mentor = _mentor(uow, mentor_ref)
        if mentor.trained:
            return TrainingReported(TRAINED)
        found = report_store.open_report(uow.conn, mentor.id)
        if found is not None:
            return TrainingReported(WAITING, found.id)
        report_id = report_store.insert_report(uow.conn, mentor.id, clock.now(), actor)
        uow.commit()
    return TrainingReported(REPORTED, report_id)


def pending_training_reports(store: Engine) -> list[TrainingReport]:
    """The reports that wait for a coordinator, the longest-waiting first."""
    with UnitOfWork(store, write=False) as uow:
        rows = report_store.open_reports(uow.conn)
    return [_shown(row) for row in rows]


def open_training_report(store: Engine, participant_id: int) -> TrainingReport | None:
    """The mentor's report that waits for a coordinator, or ``None`` (what their training page says)."""
    with UnitOfWork(store, write=False) as uow:
        row = report_store.open_report(uow.conn, participant_id)
    return None if row is None else _shown(row)


def decide_training_report(
    store: Engine, clock: Clock, report_id: int, confirm: bool, actor: str, reason: str | None = None
) -> TrainingReport:
    """A coordinator confirms report ``report_id`` (the training is recorded, ``actor`` its actor) or
    declines it (``reason`` required). Refused, with nothing written: a participant or a console account
    that may not act, a report that is not there or already decided, a decline without a reason."""
    why = _reason(reason, required=not confirm)
    with UnitOfWork(store, write=False) as uow:
        _may_decide(uow, actor)
        row = _open(uow, report_id)
    if not confirm:
        return _close(store, clock, row, DECLINED, actor, why)
    record_training(store, clock, _reference(row), actor=actor)
    return _close(store, clock, row, CONFIRMED, actor, why)


def record_and_close(
    store: Engine, clock: Clock, mentor_ref: str, actor: str
) -> tuple[list[int], int | None]:
    """``mentorflow record training MENTOR``: the training recorded, and the mentor's open report (if any)
    closed as confirmed by ``actor``; returns the pairs made due and the report closed."""
    rel_ids = record_training(store, clock, mentor_ref, actor=actor)
    with UnitOfWork(store, write=False) as uow:
        mentor = _mentor(uow, mentor_ref, lock=False)
        row = report_store.open_report(uow.conn, mentor.id)
    if row is None:
        return rel_ids, None
    _close(store, clock, row, CONFIRMED, actor, None)
    return rel_ids, row.id


def _mentor(uow: UnitOfWork, mentor_ref: str, *, lock: bool = True) -> Row[Any]:
    mentor = people_store.participant_by_ref(uow.conn, mentor_ref, lock=lock)
    if mentor is None or mentor.role != "mentor":
        raise NotFoundError(f"no mentor {mentor_ref!r} (give an id, external id or email)")
    return mentor


def _open(uow: UnitOfWork, report_id: int) -> ReportRow:
    row = report_store.report(uow.conn, report_id)
    if row is None:
        raise NotFoundError(f"no training report {report_id}")
    if row.decided_at is not None:
        raise RefusedError(_decided(row))
    return row


def _close(
    store: Engine, clock: Clock, row: ReportRow, decision: str, actor: str, reason: str | None
) -> TrainingReport:
    now = clock.now()
    with UnitOfWork(store) as uow:
        if not report_store.decide(uow.conn, row.id, decision, now, actor, reason):
            now_row = report_store.report(uow.conn, row.id)
            assert now_row is not None
            raise RefusedError(f"{_decided(now_row)} meanwhile; nothing else was changed")
        uow.commit()
    closed = row._replace(decided_at=now, decided_by=actor, decision=decision, reason=reason)
    return _shown(closed)


def _may_decide(uow: UnitOfWork, actor: str) -> None:
    """A participant never decides; a console account (``coordinator:<name>``) only if it may act."""
    if actor.startswith("participant:"):
        raise RefusedError(f"{actor} may not decide a training report (a coordinator does)")
    kind, _, name = actor.partition(":")
    if kind != "coordinator":
        return  # an operator at the command line, who holds the database itself
    account = user_store.user_by_name(uow.conn, name)
    if account is None or account.disabled or account.role != "coordinator":
        what = "no such account" if account is None else "disabled" if account.disabled else account.role
        raise RefusedError(f"account {name!r} may not decide a training report ({what}: a coordinator does)")


def _reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise InputError(f"{field('reason')}: say why the training report is declined")
    if "\x00" in text or len(text) > MAX_REASON:
        raise InputError(f"{field('reason')}: at most {MAX_REASON} characters, and no NUL")
    return text or None


def _decided(row: ReportRow) -> str:
    assert row.decided_at is not None
    return f"training report {row.id} was {row.decision} by {row.decided_by} at {shown(row.decided_at, UTC)}"


def _reference(row: ReportRow) -> str:
    """How ``record_training`` finds the mentor: their external id, else their email (never a bare id,
    which could also be someone's external id)."""
    return row.external_id or row.email


def _shown(row: ReportRow) -> TrainingReport:
    return TrainingReport(
        row.id, row.participant_id, row.name, _reference(row), row.reported_at, row.reported_by,
        row.decided_at, row.decided_by, row.decision, row.reason,
    )  # fmt: skip
