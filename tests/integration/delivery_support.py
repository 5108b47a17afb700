"""Helpers of the delivery tests: a channel we control, pairs with outbox rows, what the outbox holds."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.delivery.channels import Channel, Channels, DeliveryError, Message, ProgramInfo, RetryPolicy
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.store.tables import outbox, outbox_deliveries

from .support import TRAINED_MENTOR, UNTRAINED_MENTOR, fire, import_examples

PROGRAM = ProgramInfo(
    name="Mentorprogramma",
    coordinator_name="Marieke de Vries",
    coordinator_email="coordinator@example.com",
    language="en",
    timezone="Europe/Amsterdam",
)
RETRY = RetryPolicy(max_attempts=3, backoff=timedelta(minutes=5), backoff_max=timedelta(hours=1))


class FakeChannel:
    """Records what it is given; ``fail`` (if set) decides per message whether and how it fails."""

    def __init__(self, name: str = "log") -> None:
        self.name = name
        self.delivered_as = f"sent by {name}"
        self.sent: list[Message] = []
        self.calls = 0
        self.fail: Callable[[Message], DeliveryError | None] | None = None
        self._lock = threading.Lock()

    def send(self, message: Message) -> None:
        with self._lock:
            self.calls += 1
        error = self.fail(message) if self.fail else None
        if error is not None:
            raise error
        with self._lock:
            self.sent.append(message)

    def keys(self) -> Counter[str]:
        return Counter(message.key for message in self.sent)


def channels_of(*channels: Channel, retry: RetryPolicy = RETRY) -> Channels:
    """Every action to every given channel."""
    names = tuple(channel.name for channel in channels)
    return Channels({c.name: c for c in channels}, names, {}, PROGRAM, retry)


def matched_pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    """Two pairs matched: the first with an untrained mentor (notify_pair, enrol_mentor_training), the
    second with a trained one (notify_pair, and an enrolment that is not needed)."""
    rels = import_examples(store, policy, clock)
    fire(store, lifecycle, clock, rels[0], "match", mentor=UNTRAINED_MENTOR)
    fire(store, lifecycle, clock, rels[1], "match", mentor=TRAINED_MENTOR)
    return rels[:2]


# The messages matched_pairs causes, whichever shape the rows have (one per action, or one per recipient).
EXPECTED_MATCH_MESSAGES = 3  # notify_pair to mentee and mentor of pair 1, enrolment of its mentor
EXPECTED_MATCH_MESSAGES_BOTH = 5  # plus notify_pair to mentee and mentor of pair 2


def rows(store: Engine) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return [dict(row) for row in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]


def deliveries(store: Engine) -> list[dict[str, Any]]:
    query = select(outbox_deliveries).order_by(outbox_deliveries.c.id)
    with store.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def statuses(store: Engine) -> Counter[str]:
    return Counter(row["status"] for row in rows(store))


def later(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
