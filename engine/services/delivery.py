"""Side effects recorded in the transaction, delivered later: claim, send, record, settle.

A phase change writes its outbox rows in its own transaction; this module
delivers them. Due rows are claimed in one short transaction (PostgreSQL:
``FOR UPDATE SKIP LOCKED``; SQLite: the write lock ``BEGIN IMMEDIATE`` takes):
each becomes ``sending``, its attempt counted, leased until ``now + lease``.
Messages go out with no transaction open; each one sent is recorded in
``outbox_deliveries`` (email, webhook and log at once, the log line after its fsync), so
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

from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.delivery.channels import Channel, Channels, DeliveryError, Message
from engine.delivery.messages import (
    IMPLIED_RECIPIENTS,
    ComposeError,
    Contact,
    OutboxRow,
    Pair,
    compose,
    skip_reason,
)
from engine.errors import MAX_PROBLEMS
from engine.services.requeue import retry as retry
from engine.store import outbox
from engine.store.database import UnitOfWork
from engine.store.installation import installation_id
from engine.store.outbox import DELIVERED, FAILED, PENDING, SKIPPED

if TYPE_CHECKING:
    from sqlalchemy import Engine

_NOTE_LENGTH = 2000
_SHOWN_CHANNEL = {"log": "log file"}  # what an operator reads: a line in a file reached nobody


@dataclass(frozen=True)
class DeliverySummary:
    """What one delivery run did: rows by outcome, messages handed over (in all, and by what each channel
    did with them: ``(("sent by email", 3), ("written to mentorflow-outbox.jsonl", 2))``), and why rows
    failed."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    parked: int = 0
    skipped: int = 0
    sent: int = 0
    problems: tuple[str, ...] = ()
    sent_by: tuple[tuple[str, int], ...] = ()

    def merged(self, other: DeliverySummary) -> DeliverySummary:
        """Two runs added up; the first 50 problems are kept."""
        by = Counter(dict(self.sent_by))
        by.update(dict(other.sent_by))
        return DeliverySummary(
            self.claimed + other.claimed,
            self.delivered + other.delivered,
            self.retrying + other.retrying,
            self.parked + other.parked,
            self.skipped + other.skipped,
            self.sent + other.sent,
            (self.problems + other.problems)[:MAX_PROBLEMS],
            tuple(by.items()),
        )

    def handed_over(self) -> str:
        """The messages handed over, in words: ``3 sent by email, 14 written to mentorflow-outbox.jsonl``
        (a line in the log file is never called sent); ``0 message(s) sent`` when there were none."""
        return ", ".join(f"{count} {what}" for what, count in self.sent_by) or f"{self.sent} message(s) sent"

    @property
    def troubled(self) -> bool:
        """Whether a person must look (the CLI exits 1): a row was parked, or every row tried failed."""
        tried = self.delivered + self.retrying + self.parked
        return self.parked > 0 or (tried > 0 and self.delivered == 0)


@dataclass
class _Claim:
    row: OutboxRow
    attempts: int
    served: set[tuple[str, str]] = field(default_factory=set)  # (recipient, channel) already sent


@dataclass(frozen=True)
class _Outcome:
    status: str
    via: tuple[str, ...] = ()  # per message handed over, what its channel did with it (delivered_as)
    note: str | None = None
    wait: timedelta = timedelta(0)  # the receiver's Retry-After: the next attempt is no sooner


def deliver_due(
    store: Engine, channels: Channels, now: datetime, *, limit: int = 200, policy_name: str | None = None
) -> DeliverySummary:
    """Send up to ``limit`` rows that are due at ``now``; returns what happened to them.

    With ``policy_name``, only the rows of that policy's relationships: ``channels`` carry its
    program's surveys and time zone, and another program's messages are its own delivery's.
    """
    claims, pairs, installation = _claim(store, now, limit, channels.retry.lease, policy_name)
    run = _Run(store, channels, now, installation)
    try:
        for claim in claims:
            run.deliver(claim, pairs.get(claim.row.relationship_id or 0))
        run.flush()
    except BaseException as exc:  # interrupted: no other row waits for its lease
        run.release(claims, exc)
        raise
    return _summary(run.settled)


def _claim(
    store: Engine, now: datetime, limit: int, lease: timedelta, policy_name: str | None
) -> tuple[list[_Claim], dict[int, Pair], str]:
    """Take the due rows for this worker: counted, leased, with what composing them needs."""
    with UnitOfWork(store) as uow:
        rows = outbox.claim_due(uow.conn, now, limit, lease, policy_name)
        served = outbox.served(uow.conn, [row["id"] for row in rows])
        pairs = _pairs(uow, {row["relationship_id"] for row in rows if row["relationship_id"]})
        installation = installation_id(uow.conn, now) if rows else ""
        uow.commit()
    claims = [_Claim(_outbox_row(row), row["attempts"] + 1, served.get(row["id"], set())) for row in rows]
    return claims, pairs, installation


def _outbox_row(row: Any) -> OutboxRow:
    fields = ("id", "relationship_id", "idempotency_key", "action", "params", "created_at")
    return OutboxRow(*(row[name] for name in fields))


def _pairs(uow: UnitOfWork, rel_ids: Iterable[int]) -> dict[int, Pair]:
    """The mentee, mentor and phase of each relationship, in two queries (each person with their id,
    which their personal links are bound to)."""
    rels, rows = outbox.pair_rows(uow.conn, rel_ids)
    people = {
        pid: Contact(name, email, tuple(languages or ()), bool(trained), pid)
        for pid, (name, email, languages, trained) in rows.items()
    }
    return {
        rel_id: Pair(people[mentee_id], people.get(mentor_id) if mentor_id else None, phase)
        for rel_id, mentee_id, mentor_id, phase in rels
    }


class _Run:
    """One delivery run: sends the claimed rows, records what went out, settles the rows.

    A message the other side accepted is recorded before anything else is sent, and
    the last one of a row together with the row's settlement (one transaction for a
    row with one message), so a slow server never outlives the lease and a crash
    repeats no message.
    """

    def __init__(self, store: Engine, channels: Channels, now: datetime, installation: str = "") -> None:
        self.store, self.channels, self.now, self.installation = store, channels, now, installation
        self.current: _Claim | None = None  # the row being sent
        # channels found unreachable (or asking us to wait): the rest of the run does not wait on them
        self.down: dict[str, DeliveryError] = {}
        # sent, recorded before the next send or with the settlement
        self.unrecorded: list[dict[str, Any]] = []
        self.unsettled: list[tuple[_Claim, _Outcome]] = []
        self.settled: list[tuple[_Claim, _Outcome]] = []

    def deliver(self, claim: _Claim, pair: Pair | None) -> None:
        self.current = claim
        program = self.channels.program
        try:
            reason = skip_reason(claim.row, pair)
            messages = (
                []
                if reason is not None
                else compose(claim.row, pair, program, installation=self.installation)
            )
        except ComposeError as exc:
            self.unsettled.append((claim, _Outcome(FAILED, note=str(exc))))  # only a person can fix this
            return
        except Exception as exc:  # what the store holds breaks a text: this row waits for a person, alone
            self.unsettled.append((claim, _Outcome(FAILED, note=f"cannot be written: {_error(exc)}")))
            return
        if reason is not None:
            self.unsettled.append((claim, _Outcome(SKIPPED, note=reason)))
            return
        sent, errors = self._send(claim, messages)
        self.unsettled.append((claim, self._outcome(claim, sent, errors)))
        self.current = None
        self.flush()

    def _send(
        self, claim: _Claim, messages: Sequence[Message]
    ) -> tuple[tuple[str, ...], list[DeliveryError]]:
        """Hand each message to each of its channels not yet served: (what each channel did with each
        message sent, errors)."""
        sent: list[str] = []
        errors: list[DeliveryError] = []
        for message in messages:
            for channel in self.channels.for_action(claim.row.action):
                if (message.recipient, channel.name) in claim.served:
                    continue
                try:
                    if (down := self.down.get(channel.name)) is not None:
                        raise DeliveryError(
                            f"not tried: {down}", permanent=down.permanent, retry_after=down.retry_after
                        )
                    self._record_sent()  # what was sent before is safe before another send starts
                    _send_one(channel, message)
                except DeliveryError as exc:
                    errors.append(
                        DeliveryError(
                            f"{channel.name} to {message.recipient}: {exc}",
                            permanent=exc.permanent,
                            retry_after=exc.retry_after,
                        )
                    )
                    if exc.unreachable:
                        self.down[channel.name] = exc
                    continue
                record = _delivery(claim.row.id, message, channel.name, self.now)
                self.unrecorded.append(record)
                sent.append(channel.delivered_as)
        return tuple(sent), errors

    def _outcome(self, claim: _Claim, sent: tuple[str, ...], errors: Sequence[DeliveryError]) -> _Outcome:
        if not errors:
            return _Outcome(DELIVERED, sent)
        note = "; ".join(str(error) for error in errors)
        parked = any(e.permanent for e in errors) or claim.attempts >= self.channels.retry.max_attempts
        wait = max((e.retry_after for e in errors if e.retry_after is not None), default=timedelta(0))
        return _Outcome(FAILED if parked else PENDING, sent, note, wait)

    def flush(self) -> None:
        """Record what was sent and settle every unsettled row, in one transaction."""
        if not self.unsettled:
            return
        settle = [self._settlement(claim, outcome) for claim, outcome in self.unsettled]
        with UnitOfWork(self.store) as uow:
            if self.unrecorded:
                outbox.record_deliveries(uow.conn, self.unrecorded)
            outbox.settle(uow.conn, settle)
            uow.commit()
        self.settled += self.unsettled
        self.unsettled, self.unrecorded = [], []

    def release(self, claims: Sequence[_Claim], exc: BaseException) -> None:
        """After an interruption: settle what was done, the row being sent as one failed attempt, and give
        every other claimed row back (pending, due now, its attempt not counted). Best effort: the
        interruption itself is raised on."""
        if self.current is not None:
            error = DeliveryError(f"interrupted while sending: {_error(exc)}")
            self.unsettled.append((self.current, self._outcome(self.current, (), [error])))
        with suppress(Exception):
            self.flush()
        done = {claim.row.id for claim, _ in self.settled}
        rest = [{"b_id": c.row.id, "b_attempts": c.attempts} for c in claims if c.row.id not in done]
        if rest:
            with suppress(Exception), UnitOfWork(self.store) as uow:
                outbox.release(uow.conn, self.now, rest)
                uow.commit()

    def _record_sent(self) -> None:
        """Record the messages sent so far that the store does not hold yet, in one transaction."""
        if self.unrecorded:
            with UnitOfWork(self.store) as uow:
                outbox.record_deliveries(uow.conn, self.unrecorded)
                uow.commit()
            self.unrecorded = []

    def _settlement(self, claim: _Claim, outcome: _Outcome) -> dict[str, Any]:
        delay = max(self.channels.retry.delay(claim.attempts), outcome.wait)
        retry_at = self.now + delay if outcome.status == PENDING else None
        return {
            "b_id": claim.row.id,
            "b_attempts": claim.attempts,
            "b_status": outcome.status,
            "b_next": retry_at,
            "b_delivered": self.now if outcome.status == DELIVERED else None,
            "b_note": outcome.note[:_NOTE_LENGTH] if outcome.note else None,
        }


def _send_one(channel: Channel, message: Message) -> None:
    """``channel.send``; an error it did not expect fails this message alone, for a person to look at."""
    try:
        channel.send(message)
    except DeliveryError:
        raise
    except Exception as exc:
        raise DeliveryError(f"unexpected error: {_error(exc)}", permanent=True) from None


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


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
        sent=sum(len(outcome.via) for _, outcome in settled),
        problems=problems,
        sent_by=tuple(Counter(what for _, outcome in settled for what in outcome.via).items()),
    )


def list_rows(
    store: Engine, *, failed_only: bool = False, limit: int = 200, relationship: int | None = None
) -> list[dict[str, Any]]:
    """The newest outbox rows (only the parked ones with ``failed_only``, only ``relationship``'s if
    given), with whom each has reached and how: ``sent`` as ``recipient/channel``, ``delivered_via``
    the same in words (``mentee/log file``)."""
    with UnitOfWork(store, write=False) as uow:
        rows = outbox.newest(uow.conn, failed_only=failed_only, limit=limit, relationship=relationship)
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
            "delivered_via": ", ".join(
                f"{r}/{_SHOWN_CHANNEL.get(c, c)}" for r, c in sorted(served.get(row["id"], set()))
            ),
            "last_error": row["last_error"],
            "key": row["idempotency_key"],
        }
        for row in rows
    ]


def status_counts(store: Engine) -> dict[str, dict[str, int]]:
    """Rows by action and status (``{"notify_pair": {"delivered": 40, "failed": 1}}``), for summaries."""
    with UnitOfWork(store, write=False) as uow:
        return outbox.status_counts(uow.conn)
