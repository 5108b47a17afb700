"""The outbox in the store: claiming due rows, recording deliveries, settling and requeueing rows.

Every function takes the Connection of the caller's unit of work and never
commits: :mod:`engine.services.delivery` decides what one transaction is.
Claims take ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (on SQLite the write lock
of ``BEGIN IMMEDIATE`` serialises them); a delivery already recorded is let
stand (``INSERT ... ON CONFLICT DO NOTHING``); a row is settled only while it
is still the claimer's. A delivery run writes a row's record and settlement
in a transaction of their own per row, so its statements are built once, and
those two go straight to the driver (:class:`engine.store.rendered.DriverStatement`),
stored as Core would store them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import cache
from importlib import import_module
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    RowMapping,
    Select,
    Text,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from engine.store.batches import chunks
from engine.store.rendered import DriverStatement
from engine.store.tables import outbox, outbox_deliveries, participants, relationships

PENDING, SENDING, DELIVERED, FAILED, SKIPPED = "pending", "sending", "delivered", "failed", "skipped"
STATUSES = (PENDING, SENDING, DELIVERED, FAILED, SKIPPED)

Served = dict[int, set[tuple[str, str]]]
"""Per outbox row, the (recipient, channel) pairs a message has already gone out to."""

PairRow = tuple[int, int, int | None, str]
"""A relationship as a message needs it: id, mentee id, mentor id (``None``: none yet), phase."""

PersonRow = tuple[str, str, Sequence[str] | None, bool]
"""A participant as a message needs them: name, email, languages, trained."""


class ParkedRow(NamedTuple):
    """What requeueing a row reads of it."""

    id: int
    status: str
    attempts: int
    last_error: str | None


def _keys() -> Any:
    """The ids of the rows a statement reads or changes, as one parameter (``b_ids``) that expands to the
    list given: the statement is built once, however many ids each call has."""
    return bindparam("b_ids", expanding=True)


def claim_due(
    conn: Connection, now: datetime, limit: int, lease: timedelta, policy_name: str | None
) -> Sequence[RowMapping]:
    """Lock up to ``limit`` rows due at ``now`` (of ``policy_name``'s relationships, or with none, if
    given), mark them ``sending`` with their attempt counted, leased until ``now + lease``; the rows as
    read (attempts before this one)."""
    due = _due_query(policy_name is not None, conn.dialect.name == "postgresql")
    values: dict[str, Any] = {"b_now": now, "b_limit": limit}
    if policy_name is not None:
        values["b_policy"] = policy_name
    rows = conn.execute(due, values).mappings().all()
    for part in chunks([row["id"] for row in rows]):
        conn.execute(_TAKE, {"b_ids": part, "b_until": now + lease})
    return rows


@cache
def _due_query(by_policy: bool, locking: bool) -> Select[Any]:
    """The query of the due rows, built once for each shape (the moment, limit and policy are bound
    parameters): for one policy's relationships or all; ``locking`` (PostgreSQL) skips rows another
    worker holds."""
    due = (
        select(outbox)
        .where(outbox.c.status.in_((PENDING, SENDING)), outbox.c.next_attempt_at <= bindparam("b_now"))
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(bindparam("b_limit", type_=Integer))
    )
    if by_policy:
        # each due row's relationship by its key, not the policy's every relationship: the claim reads
        # the rows it takes and their pairs, however large the program
        due = due.outerjoin(relationships, relationships.c.id == outbox.c.relationship_id).where(
            or_(outbox.c.relationship_id.is_(None), relationships.c.policy_name == bindparam("b_policy"))
        )
    if locking:
        # a row another worker holds is its to send; the relationships read are not locked
        due = due.with_for_update(skip_locked=True, of=outbox)
    return due


# Taking claimed rows: sending, their attempt counted, leased until ``b_until``.
_TAKE = (
    update(outbox)
    .where(outbox.c.id.in_(_keys()))
    .values(status=SENDING, attempts=outbox.c.attempts + 1, next_attempt_at=bindparam("b_until"))
)


def served(conn: Connection, ids: Sequence[int]) -> Served:
    """Per outbox row of ``ids``, the (recipient, channel) pairs already recorded as sent."""
    found: Served = {}
    for part in chunks(ids):
        for outbox_id, recipient, channel in conn.execute(_SERVED, {"b_ids": part}):
            found.setdefault(outbox_id, set()).add((recipient, channel))
    return found


def pair_rows(conn: Connection, rel_ids: Iterable[int]) -> tuple[list[PairRow], dict[int, PersonRow]]:
    """Each relationship of ``rel_ids``, and each of their people by id, in two queries."""
    rels: list[PairRow] = []
    for part in chunks(sorted(rel_ids)):
        rels += [
            (rid, mentee, mentor, phase)
            for rid, mentee, mentor, phase in conn.execute(_PAIRS, {"b_ids": part})
        ]
    people: dict[int, PersonRow] = {}
    for part in chunks(sorted({pid for rel in rels for pid in rel[1:3] if pid is not None})):
        for pid, name, email, languages, trained in conn.execute(_PEOPLE, {"b_ids": part}):
            people[pid] = (name, email, languages, trained)
    return rels, people


# The reads of a claim, built once.
_SERVED = select(
    outbox_deliveries.c.outbox_id, outbox_deliveries.c.recipient, outbox_deliveries.c.channel
).where(outbox_deliveries.c.outbox_id.in_(_keys()))
_PAIRS = select(
    relationships.c.id, relationships.c.mentee_id, relationships.c.mentor_id, relationships.c.phase
).where(relationships.c.id.in_(_keys()))
_PEOPLE = select(
    participants.c.id,
    participants.c.name,
    participants.c.email,
    participants.c.languages,
    participants.c.trained,
).where(participants.c.id.in_(_keys()))


def record_deliveries(conn: Connection, records: list[dict[str, Any]]) -> None:
    """Record messages sent (``outbox_id``, ``recipient``, ``channel``, ``address``, ``message_id``,
    ``sent_at`` each); one already recorded stands."""
    _insert_deliveries(conn.dialect.name).execute(conn, map(itemgetter(*DELIVERY_FIELDS), records))


def settle(conn: Connection, settlements: list[dict[str, Any]]) -> None:
    """Settle claimed rows (``b_id``, ``b_attempts``, ``b_status``, ``b_next``, ``b_delivered``,
    ``b_note`` each): only those still ``sending`` at the attempt claimed."""
    _SETTLEMENTS.execute(conn, map(itemgetter(*SETTLEMENT_FIELDS), settlements))


def release(conn: Connection, now: datetime, claims: list[dict[str, Any]]) -> None:
    """Give claimed rows back (``b_id``, ``b_attempts`` each) that an interrupted run did not try: pending,
    due at ``now``, their attempt not counted; only those still ``sending`` at the attempt claimed."""
    conn.execute(
        update(outbox)
        .where(
            outbox.c.id == bindparam("b_id"),
            outbox.c.status == SENDING,
            outbox.c.attempts == bindparam("b_attempts"),
        )
        .values(status=PENDING, attempts=outbox.c.attempts - 1, next_attempt_at=now),
        claims,
    )


# Settling a row: only if it is still ours (a worker whose lease ran out may have claimed it since).
_SETTLE = (
    update(outbox)
    .where(
        outbox.c.id == bindparam("b_id"),
        outbox.c.status == SENDING,
        outbox.c.attempts == bindparam("b_attempts"),
    )
    .values(
        status=bindparam("b_status"),
        next_attempt_at=bindparam("b_next"),
        delivered_at=bindparam("b_delivered"),
        last_error=func.coalesce(bindparam("b_note", type_=Text), outbox.c.last_error),
    )
)


SETTLEMENT_FIELDS = ("b_id", "b_attempts", "b_status", "b_next", "b_delivered", "b_note")
"""What settling a row is given, in the order the settlement is sent to the driver."""
_SETTLEMENTS = DriverStatement(_SETTLE, SETTLEMENT_FIELDS)

DELIVERY_FIELDS = ("outbox_id", "recipient", "channel", "address", "message_id", "sent_at")
"""The columns a delivery is recorded with, in the order they are sent to the driver."""


@cache
def _insert_deliveries(dialect: str) -> DriverStatement:
    """An insert that lets a delivery already recorded stand (a worker whose lease ran out sent it too),
    built once per dialect; the dialect's own insert is imported when its first one is built."""
    if dialect in ("postgresql", "sqlite"):
        own = import_module(f"sqlalchemy.dialects.{dialect}")
        unique = ["outbox_id", "recipient", "channel"]
        statement = own.insert(outbox_deliveries).on_conflict_do_nothing(index_elements=unique)
        return DriverStatement(statement, DELIVERY_FIELDS)
    return DriverStatement(insert(outbox_deliveries), DELIVERY_FIELDS)


def retry_candidates(conn: Connection, ids: Sequence[int], *, all_failed: bool) -> list[ParkedRow]:
    """The rows ``ids``, or every parked row with ``all_failed``, by id."""
    query = select(outbox.c.id, outbox.c.status, outbox.c.attempts, outbox.c.last_error)
    query = query.where(outbox.c.status == FAILED) if all_failed else query.where(outbox.c.id.in_(ids))
    return [ParkedRow._make(row) for row in conn.execute(query.order_by(outbox.c.id))]


def requeue(conn: Connection, now: datetime, notes: list[dict[str, Any]]) -> None:
    """Make the rows ``b_id`` pending again, due at ``now``, attempts from zero, with the note ``b_note``."""
    conn.execute(
        update(outbox)
        .where(outbox.c.id == bindparam("b_id"))
        .values(status=PENDING, attempts=0, next_attempt_at=now, last_error=bindparam("b_note")),
        notes,
    )


def newest(
    conn: Connection, *, failed_only: bool, limit: int, relationship: int | None = None
) -> Sequence[RowMapping]:
    """The newest ``limit`` outbox rows (only the parked ones with ``failed_only``, only those of
    ``relationship`` if given), newest first."""
    query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
    if failed_only:
        query = query.where(outbox.c.status == FAILED)
    if relationship is not None:
        query = query.where(outbox.c.relationship_id == relationship)
    return conn.execute(query).mappings().all()


def status_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Rows by action and status (``{"notify_pair": {"delivered": 40, "failed": 1}}``)."""
    query = select(outbox.c.action, outbox.c.status, func.count()).group_by(outbox.c.action, outbox.c.status)
    counts: dict[str, dict[str, int]] = {}
    for action, status, number in conn.execute(query):
        counts.setdefault(action, {})[status] = int(number)
    return counts


def skip_unsent(
    conn: Connection, rel_id: int, actions: Iterable[str], recipient: str, note: str
) -> list[int]:
    """Mark ``skipped`` (with ``note``) the rows of ``rel_id`` for ``actions`` to ``recipient`` that have
    not gone out (pending or parked); their ids. A row being sent now is left to its worker."""
    return skip_unsent_where(conn, outbox.c.relationship_id == rel_id, recipient, note, actions)


def skip_unsent_where(
    conn: Connection,
    where: ColumnElement[bool],
    recipient: str,
    note: str,
    actions: Iterable[str] | None = None,
) -> list[int]:
    """Mark ``skipped`` (with ``note``) the rows ``where`` selects to ``recipient`` (and for ``actions``,
    if given) that have not gone out (pending or parked); their ids. A row being sent now is left to
    its worker."""
    wanted = None if actions is None else set(actions)
    query = select(outbox.c.id, outbox.c.action, outbox.c.params).where(
        where, outbox.c.status.in_((PENDING, FAILED))
    )
    ids = [
        int(row.id)
        for row in conn.execute(query)
        if (wanted is None or row.action in wanted) and (row.params or {}).get("recipient") == recipient
    ]
    if ids:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(status=SKIPPED, next_attempt_at=None, last_error=note)
        )
    return ids
