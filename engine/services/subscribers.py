"""Delivering the event feed to its webhook subscribers: at least once, in the feed's order, each event
signed (:mod:`engine.delivery.event_hooks`), retried with backoff, and parked after too many failures.

Each subscriber has a position (the last event it acknowledged) in ``event_subscriptions``; a new one
starts at the feed's beginning. A pass claims a subscriber for a while (so two deliverers never post to
one at once), posts its next events one by one in order, and moves its position after each 2xx, so an
event is posted again only when its answer was lost (a subscriber drops a repeat by its ``id``). A
failure stops the pass for that subscriber, so nothing is ever delivered out of order: it is tried
again after a backoff (or its ``Retry-After``), and parked (listed, tried no more) after
``max_attempts`` failures at one event, or at once for a refusal that waiting cannot mend.
``mentorflow events retry NAME`` unparks it; it then resumes at the event it stopped at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.delivery.channels import DeliveryError
from engine.delivery.event_hooks import Subscriber, backoff
from engine.errors import NotFoundError
from engine.services import events
from engine.store import events as event_store
from engine.store.database import UnitOfWork
from engine.store.events import SubscriptionRow

if TYPE_CHECKING:
    from sqlalchemy import Engine

CLAIM = timedelta(minutes=5)
"""How long a pass holds a subscriber it is posting to; another deliverer leaves it alone meanwhile."""
PER_PASS = 500
"""The most events a pass posts to one subscriber (the next pass goes on)."""


@dataclass
class Delivered:
    """What a pass did for one subscriber."""

    name: str
    posted: int = 0
    position: int = 0
    failed: str | None = None
    parked: bool = False
    skipped: str | None = None  # why it was not tried now (parked, waiting, claimed by another deliverer)

    @property
    def said(self) -> str:
        """One line for an operator: what was posted, or why nothing was tried."""
        if self.skipped:
            return f"{self.name}: not tried ({self.skipped}); at position {self.position}"
        line = f"{self.name}: {self.posted} event(s) posted, at position {self.position}"
        return line + (f"; {'parked' if self.parked else 'to retry'}: {self.failed}" if self.failed else "")

    @property
    def troubled(self) -> bool:
        """Whether a person must look: a post failed, or the subscriber is parked."""
        return self.failed is not None or self.skipped == "parked"


@dataclass
class SubscriberState:
    """A subscriber as ``mentorflow events list`` shows it."""

    name: str
    position: int
    behind: int
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    parked_at: datetime | None
    configured: bool = True


def deliver_events(
    store: Engine, subscribers: tuple[Subscriber, ...], now: datetime, *, per_pass: int = PER_PASS
) -> list[Delivered]:
    """One pass over every subscriber: its next events posted, in order, until one fails or none is left."""
    if not subscribers:
        return []
    events.publish(store)
    source = events.event_source(store, now)
    return [_deliver(store, subscriber, source, now, per_pass) for subscriber in subscribers]


def _deliver(store: Engine, subscriber: Subscriber, source: str, now: datetime, per_pass: int) -> Delivered:
    done = Delivered(subscriber.name)
    row = _claim(store, subscriber.name, now, done)
    if row is None:
        return done
    found, _ = events.feed(
        store, source, row.position, min(per_pass, events.MAX_FEED), names=subscriber.names, numbered=True
    )  # deliver_events numbered the entries once for every subscriber
    position, attempts = row.position, row.attempts
    for event in found:
        try:
            subscriber.post(event, now)
        except DeliveryError as exc:
            attempts += 1
            parked = exc.permanent or attempts >= subscriber.max_attempts
            wait = max(exc.retry_after or timedelta(0), backoff(attempts))
            _save(store, row._replace(position=position, attempts=attempts, last_error=str(exc)[:500],
                                      next_attempt_at=None if parked else now + wait,
                                      parked_at=now if parked else None))  # fmt: skip
            done.failed, done.parked, done.position = str(exc), parked, position
            return done
        position, attempts = int(event["sequence"]), 0
        done.posted += 1
        _save(
            store, row._replace(position=position, attempts=0, last_error=None, next_attempt_at=now + CLAIM)
        )
    _save(store, row._replace(position=position, attempts=0, last_error=None, next_attempt_at=None))
    done.position = position
    return done


def _claim(store: Engine, name: str, now: datetime, done: Delivered) -> SubscriptionRow | None:
    """The subscriber's row, claimed for :data:`CLAIM`; ``None`` (with why in ``done``) when it is parked,
    waiting for its next attempt, or being served by another deliverer."""
    with UnitOfWork(store) as uow:
        row = event_store.subscription(uow.conn, name, lock=True)
        if row is None:
            event_store.add_subscription(uow.conn, name, 0)
            row = SubscriptionRow(name, 0, 0, None, None, None)
        elif row.parked_at is not None:
            done.skipped, done.position = "parked", row.position
            return None
        elif row.next_attempt_at is not None and row.next_attempt_at > now:
            done.skipped, done.position = "waiting", row.position
            return None
        claimed = row._replace(next_attempt_at=now + CLAIM)
        event_store.save_subscription(uow.conn, claimed)
        uow.commit()
    return claimed


def _save(store: Engine, row: SubscriptionRow) -> None:
    with UnitOfWork(store) as uow:
        event_store.save_subscription(uow.conn, row)
        uow.commit()


def subscriber_states(store: Engine, subscribers: tuple[Subscriber, ...]) -> list[SubscriberState]:
    """Every subscriber configured or with a row (one no longer configured says so), and how far behind
    the feed each is."""
    events.publish(store)
    with UnitOfWork(store, write=False) as uow:
        rows = {row.name: row for row in event_store.all_subscriptions(uow.conn)}
        last = event_store.published_up_to(uow.conn)[0]
    names = sorted({s.name for s in subscribers} | set(rows))
    configured = {s.name for s in subscribers}
    states = []
    for name in names:
        row = rows.get(name) or SubscriptionRow(name, 0, 0, None, None, None)
        states.append(
            SubscriberState(name, row.position, last - row.position, row.attempts, row.next_attempt_at,
                            row.last_error, row.parked_at, name in configured)
        )  # fmt: skip
    return states


def retry_subscriber(store: Engine, name: str) -> SubscriptionRow:
    """Unpark subscriber ``name`` (or end its wait): the next pass resumes at the event it stopped at."""
    with UnitOfWork(store) as uow:
        row = event_store.subscription(uow.conn, name)
        if row is None:
            raise NotFoundError(
                f"no subscriber {name!r} has been delivered to (see `mentorflow events list`)"
            )
        cleared = row._replace(attempts=0, next_attempt_at=None, parked_at=None)
        event_store.save_subscription(uow.conn, cleared)
        uow.commit()
    return cleared


def configured_subscribers(config: str | None = None) -> tuple[Subscriber, ...]:
    """The subscribers the settings file in force names (``[[events.subscribers]]``); ConfigError for
    one that is wrong, naming the file, the subscriber and the key."""
    from pathlib import Path

    from engine.delivery.event_hooks import subscribers_from
    from engine.settings import settings_document

    path, document = settings_document(Path(config) if config else None)
    return subscribers_from(document, path)
