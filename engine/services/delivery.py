"""Side effects recorded in the transaction, delivered later: claim, send, record, settle.

A phase change writes its outbox rows in its own transaction; this module
delivers them. Due rows are claimed in one short transaction (PostgreSQL:
``FOR UPDATE SKIP LOCKED``; SQLite: the write lock ``BEGIN IMMEDIATE`` takes):
each becomes ``sending``, its attempt counted, leased until ``now + lease``.
Messages go out with no transaction open; each one sent is recorded in
``outbox_deliveries`` (email and webhook at once, the log after its fsync), so
a later attempt skips the recipients and channels already served. Settling
marks the row ``delivered``; ``pending`` again after an exponential backoff; or
``failed`` (parked) once its attempts are used up or a person must fix the
cause. Parked rows are never dropped: ``mentorflow outbox list --failed`` shows
them and :func:`retry` requeues them.

A worker that dies leaves its rows ``sending``; they fall due again when the
lease ends. The one gap no database closes is a crash between a server
accepting a message and our recording it: the message goes out again with the
same Message-ID and Idempotency-Key, so the receiving side can tell the copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.delivery.channels import Channels, DeliveryError, Message
from engine.delivery.messages import (
    IMPLIED_RECIPIENTS,
    ComposeError,
    Contact,
    OutboxRow,
    Pair,
    compose,
    skip_reason,
)
from engine.domain.audit import iso
from engine.errors import MAX_PROBLEMS, InputError, NotFoundError
from engine.errors import field as field_name
from engine.store import outbox
from engine.store.database import UnitOfWork
from engine.store.outbox import DELIVERED, FAILED, PENDING, SKIPPED

if TYPE_CHECKING:
    from sqlalchemy import Engine

_NOTE_LENGTH = 2000


@dataclass(frozen=True)
class DeliverySummary:
    """What one delivery run did: rows by outcome, messages handed over, and why rows failed."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    parked: int = 0
    skipped: int = 0
    sent: int = 0
    problems: tuple[str, ...] = ()

    def merged(self, other: DeliverySummary) -> DeliverySummary:
        """Two runs added up; the first 50 problems are kept."""
        return DeliverySummary(
            self.claimed + other.claimed,
            self.delivered + other.delivered,
            self.retrying + other.retrying,
            self.parked + other.parked,
            self.skipped + other.skipped,
            self.sent + other.sent,
            (self.problems + other.problems)[:MAX_PROBLEMS],
        )


@dataclass
class _Claim:
    row: OutboxRow
    attempts: int
    served: set[tuple[str, str]] = field(default_factory=set)  # (recipient, channel) already sent


@dataclass(frozen=True)
class _Outcome:
    status: str
    sent: int = 0
    note: str | None = None


def deliver_due(
    store: Engine, channels: Channels, now: datetime, *, limit: int = 200, policy_name: str | None = None
) -> DeliverySummary:
    """Send up to ``limit`` rows that are due at ``now``; returns what happened to them.

    With ``policy_name``, only the rows of that policy's relationships: ``channels`` carry its
    program's surveys and time zone, and another program's messages are its own delivery's.
    """
    claims, pairs = _claim(store, now, limit, channels.retry.lease, policy_name)
    run = _Run(store, channels, now)
    for claim in claims:
        run.deliver(claim, pairs.get(claim.row.relationship_id or 0))
    run.flush()
    return _summary(run.settled)


def _claim(
    store: Engine, now: datetime, limit: int, lease: timedelta, policy_name: str | None
) -> tuple[list[_Claim], dict[int, Pair]]:
    """Take the due rows for this worker: counted, leased, with what composing them needs."""
    with UnitOfWork(store) as uow:
        rows = outbox.claim_due(uow.conn, now, limit, lease, policy_name)
        served = outbox.served(uow.conn, [row["id"] for row in rows])
        pairs = _pairs(uow, {row["relationship_id"] for row in rows if row["relationship_id"]})
        uow.commit()
    claims = [_Claim(_outbox_row(row), row["attempts"] + 1, served.get(row["id"], set())) for row in rows]
    return claims, pairs


def _outbox_row(row: Any) -> OutboxRow:
    fields = ("id", "relationship_id", "idempotency_key", "action", "params", "created_at")
    return OutboxRow(*(row[name] for name in fields))


def _pairs(uow: UnitOfWork, rel_ids: Iterable[int]) -> dict[int, Pair]:
    """The mentee, mentor and phase of each relationship, in two queries."""
    rels, rows = outbox.pair_rows(uow.conn, rel_ids)
    people = {
        pid: Contact(name, email, tuple(languages or ()), bool(trained))
        for pid, (name, email, languages, trained) in rows.items()
    }
    return {
        rel_id: Pair(people[mentee_id], people.get(mentor_id) if mentor_id else None, phase)
        for rel_id, mentee_id, mentor_id, phase in rels
    }


class _Run:
    """One delivery run: sends the claimed rows, records what went out, settles the rows.

    A message through a channel that is not buffered (email, webhook) is recorded
    the moment the other side accepted it, and its row is settled straight after,
    so a slow server never outlives the lease. Through a buffered channel (the
    log) messages are recorded, and their rows settled, in one transaction after
    one ``sync`` at the end of the run.
    """

    def __init__(self, store: Engine, channels: Channels, now: datetime) -> None:
        self.store, self.channels, self.now = store, channels, now
        self.down: dict[
            str, str
        ] = {}  # channels found unreachable: the rest of the run does not wait on them
        self.buffered: list[dict[str, Any]] = []  # sent through buffered channels, recorded after sync
        self.unsettled: list[tuple[_Claim, _Outcome]] = []
        self.settled: list[tuple[_Claim, _Outcome]] = []

    def deliver(self, claim: _Claim, pair: Pair | None) -> None:
        try:
            reason = skip_reason(claim.row, pair)
            messages = [] if reason is not None else compose(claim.row, pair, self.channels.program)
        except ComposeError as exc:
            self.unsettled.append((claim, _Outcome(FAILED, note=str(exc))))  # only a person can fix this
            return
        if reason is not None:
            self.unsettled.append((claim, _Outcome(SKIPPED, note=reason)))
            return
        sent, errors, immediate = self._send(claim, messages)
        self.unsettled.append((claim, self._outcome(claim, sent, errors)))
        if immediate:
            self.flush()

    def _send(self, claim: _Claim, messages: Sequence[Message]) -> tuple[int, list[DeliveryError], bool]:
        """Hand each message to each of its channels not yet served: (count sent, errors, any unbuffered)."""
        sent, errors, immediate = 0, [], False
        for message in messages:
            for channel in self.channels.for_action(claim.row.action):
                if (message.recipient, channel.name) in claim.served:
                    continue
                immediate = immediate or not channel.buffered
                try:
                    if channel.name in self.down:
                        raise DeliveryError(f"not tried: {self.down[channel.name]}")
                    channel.send(message)
                except DeliveryError as exc:
                    errors.append(
                        DeliveryError(
                            f"{channel.name} to {message.recipient}: {exc}", permanent=exc.permanent
                        )
                    )
                    if exc.unreachable:
                        self.down[channel.name] = str(exc)
                    continue
                record = _delivery(claim.row.id, message, channel.name, self.now)
                if channel.buffered:
                    self.buffered.append(record)
                else:
                    self._record([record])
                sent += 1
        return sent, errors, immediate

    def _outcome(self, claim: _Claim, sent: int, errors: Sequence[DeliveryError]) -> _Outcome:
        if not errors:
            return _Outcome(DELIVERED, sent)
        note = "; ".join(str(error) for error in errors)
        parked = any(e.permanent for e in errors) or claim.attempts >= self.channels.retry.max_attempts
        return _Outcome(FAILED if parked else PENDING, sent, note)

    def flush(self) -> None:
        """Make buffered messages safe, then record them and settle every unsettled row in one transaction."""
        if not self.unsettled:
            return
        self._sync()
        settle = [self._settlement(claim, outcome) for claim, outcome in self.unsettled]
        with UnitOfWork(self.store) as uow:
            if self.buffered:
                outbox.record_deliveries(uow.conn, self.buffered)
            outbox.settle(uow.conn, settle)
            uow.commit()
        self.settled += self.unsettled
        self.unsettled, self.buffered = [], []

    def _sync(self) -> None:
        """Sync each buffered channel used; if one fails, its messages count as not sent."""
        for name in sorted({record["channel"] for record in self.buffered}):
            try:
                self.channels.by_name[name].sync()
            except DeliveryError as exc:
                lost = {r["outbox_id"] for r in self.buffered if r["channel"] == name}
                self.buffered = [r for r in self.buffered if r["channel"] != name]
                error = DeliveryError(f"{name}: {exc}")
                self.unsettled = [
                    (c, self._outcome(c, 0, [error]) if c.row.id in lost else o) for c, o in self.unsettled
                ]

    def _record(self, records: list[dict[str, Any]]) -> None:
        with UnitOfWork(self.store) as uow:
            outbox.record_deliveries(uow.conn, records)
            uow.commit()

    def _settlement(self, claim: _Claim, outcome: _Outcome) -> dict[str, Any]:
        retry_at = self.now + self.channels.retry.delay(claim.attempts) if outcome.status == PENDING else None
        return {
            "b_id": claim.row.id,
            "b_attempts": claim.attempts,
            "b_status": outcome.status,
            "b_next": retry_at,
            "b_delivered": self.now if outcome.status == DELIVERED else None,
            "b_note": outcome.note[:_NOTE_LENGTH] if outcome.note else None,
        }


def _delivery(outbox_id: int, message: Message, channel: str, now: datetime) -> dict[str, Any]:
    return {
        "outbox_id": outbox_id,
        "recipient": message.recipient,
        "channel": channel,
        "address": message.to_address,
        "message_id": message.message_id(),
        "sent_at": now,
    }


def _summary(settled: Sequence[tuple[_Claim, _Outcome]]) -> DeliverySummary:
    def count(status: str) -> int:
        return sum(1 for _, outcome in settled if outcome.status == status)

    problems = tuple(
        f"outbox {claim.row.id} ({claim.row.action}, attempt {claim.attempts}): {outcome.note}"
        for claim, outcome in settled
        if outcome.status in (PENDING, FAILED)
    )
    return DeliverySummary(
        claimed=len(settled),
        delivered=count(DELIVERED),
        retrying=count(PENDING),
        parked=count(FAILED),
        skipped=count(SKIPPED),
        sent=sum(outcome.sent for _, outcome in settled),
        problems=problems,
    )


def retry(
    store: Engine, now: datetime, *, ids: Sequence[int] = (), all_failed: bool = False, actor: str
) -> list[int]:
    """Requeue parked rows (all of ``ids``, or every parked row): due at ``now``, attempts from zero.

    The row keeps its history: the note says who requeued it, when, after how many
    attempts, and the error it had. Only parked rows can be requeued; if any of
    ``ids`` is not one, nothing is requeued and the error lists them.
    """
    if not ids and not all_failed:
        raise InputError(f"name the outbox rows to retry, or give {field_name('all_failed')}")
    with UnitOfWork(store) as uow:
        rows = outbox.retry_candidates(uow.conn, ids, all_failed=all_failed)
        _refuse_unparked(ids if not all_failed else (), rows)
        if rows:
            notes = [
                {
                    "b_id": row.id,
                    "b_note": f"requeued by {actor} at {iso(now)} after {row.attempts} attempt(s); "
                    f"last error: {row.last_error}"[:_NOTE_LENGTH],
                }
                for row in rows
            ]
            outbox.requeue(uow.conn, now, notes)
        uow.commit()
    return [row.id for row in rows]


def _refuse_unparked(ids: Sequence[int], rows: Sequence[outbox.ParkedRow]) -> None:
    found = {row.id: row.status for row in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFoundError(f"no outbox row {', '.join(map(str, missing))} (see `mentorflow outbox list`)")
    unparked = [f"outbox row {i} is {found[i]}" for i in ids if found[i] != FAILED]
    if unparked:
        raise InputError("only parked (failed) rows can be retried; nothing was requeued", unparked)


def list_rows(store: Engine, *, failed_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """The newest outbox rows (only the parked ones with ``failed_only``), with whom each has reached."""
    with UnitOfWork(store, write=False) as uow:
        rows = outbox.newest(uow.conn, failed_only=failed_only, limit=limit)
        served = outbox.served(uow.conn, [row["id"] for row in rows])
    return [
        {
            "id": row["id"],
            "relationship": row["relationship_id"],
            "action": row["action"],
            "to": row["params"].get("recipient") or "+".join(IMPLIED_RECIPIENTS.get(row["action"], ("?",))),
            "status": row["status"],
            "attempts": row["attempts"],
            "created_at": row["created_at"],
            "next_attempt_at": row["next_attempt_at"],
            "delivered_at": row["delivered_at"],
            "sent": ", ".join(f"{r}/{c}" for r, c in sorted(served.get(row["id"], set()))),
            "last_error": row["last_error"],
            "key": row["idempotency_key"],
        }
        for row in rows
    ]


def status_counts(store: Engine) -> dict[str, dict[str, int]]:
    """Rows by action and status (``{"notify_pair": {"delivered": 40, "failed": 1}}``), for summaries."""
    with UnitOfWork(store, write=False) as uow:
        return outbox.status_counts(uow.conn)
