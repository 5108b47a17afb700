"""Planning a change of the live program's policy: what switching from one version to another would do.

Nothing is written. The plan compares the two versions (:mod:`engine.policy.comparison`),
finds the relationships left in a phase the new version no longer has (stranded:
the tick leaves them untouched), and runs the real tick at ``now`` under each version
inside a :class:`~engine.store.database.Rehearsal`, reading the phase changes and
messages it wrote before the rollback. The difference of the two rehearsals is what
the switch itself causes at the next tick.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.lifecycle import Lifecycle
from engine.domain.surveys import REMINDER
from engine.errors import InputError
from engine.policy.comparison import Difference, differences
from engine.policy.survey_plans import SEND
from engine.services.tick import run_tick
from engine.store import relationships as rel_store
from engine.store import written
from engine.store.database import Rehearsal, UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.policy.model import Policy

KINDS = {"reminders": "remind", "escalations": "escalate", "surveys_sent": SEND, "survey_reminders": REMINDER}
"""The messages a plan counts by name, and the outbox action of each."""


@dataclass(frozen=True)
class Message:
    """One outbox row a tick would write: its relationship, action and parameters."""

    relationship: int | None
    action: str
    params: dict[str, Any]

    @property
    def signature(self) -> tuple[int | None, str, str]:
        return self.relationship, self.action, json.dumps(self.params, sort_keys=True, default=str)


@dataclass
class Forecast:
    """What the next tick at a moment would write under one policy version: the phase changes (per
    trigger, one relationship id per move, in order) and the messages."""

    moves: dict[str, list[int]] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)

    def sent(self, action: str) -> list[int | None]:
        """The relationship of each message of ``action``, in order."""
        return [m.relationship for m in self.messages if m.action == action]

    def counts(self) -> dict[str, int]:
        """Moves and messages by kind: ``moved``, ``messages`` and each of :data:`KINDS`."""
        found = {"moved": sum(map(len, self.moves.values())), "messages": len(self.messages)}
        return found | {name: len(self.sent(action)) for name, action in KINDS.items()}


@dataclass(frozen=True)
class Stranded:
    """A relationship in a phase the new version no longer has, since ``since``."""

    relationship: int
    phase: str
    since: datetime


@dataclass
class Plan:
    """What switching the program from ``current`` to ``new`` at ``as_of`` would do."""

    current: Policy
    new: Policy
    as_of: datetime
    changes: list[Difference]
    stranded: list[Stranded]
    under_new: Forecast
    under_current: Forecast
    max_messages: int | None = None

    @property
    def extra_messages(self) -> list[Message]:
        """The messages the next tick would write under the new version and not under the current one."""
        left = Counter(m.signature for m in self.under_current.messages)
        extra = []
        for message in self.under_new.messages:
            if left[message.signature]:
                left[message.signature] -= 1
            else:
                extra.append(message)
        return extra

    @property
    def too_many(self) -> bool:
        """Whether the next tick under the new version would write more than ``max_messages`` messages."""
        return self.max_messages is not None and len(self.under_new.messages) > self.max_messages

    @property
    def concerns(self) -> list[str]:
        """Why the plan is not safe; empty when it is."""
        found = []
        if self.stranded:
            phases = Counter(s.phase for s in self.stranded)
            listed = ", ".join(f"{phase} {count}" for phase, count in sorted(phases.items()))
            found.append(f"{len(self.stranded)} relationship(s) would be stranded: {listed}")
        if self.too_many:
            found.append(
                f"the next tick would write {len(self.under_new.messages)} messages, "
                f"more than the {self.max_messages} allowed at once"
            )
        return found


def plan_change(
    store: Engine, current: Policy, new: Policy, now: datetime, *, max_messages: int | None = None
) -> Plan:
    """The plan of switching the program of ``current`` to ``new`` at ``now``; writes nothing."""
    if new.policy != current.policy:
        raise InputError(
            f"the new policy is named {new.policy!r}, the program's {current.policy!r}: a plan "
            f"changes the version of one program's policy (keep `policy: {current.policy}`)"
        )
    with UnitOfWork(store, write=False) as uow:
        standing = rel_store.standings(uow.conn, new.policy)
    stranded = [
        Stranded(rid, phase, since) for rid, phase, since in sorted(standing) if phase not in new.phases
    ]
    return Plan(
        current, new, now, differences(current, new), stranded,
        rehearse_tick(store, new, now), rehearse_tick(store, current, now), max_messages,
    )  # fmt: skip


def rehearse_tick(store: Engine, policy: Policy, now: datetime) -> Forecast:
    """What the tick at ``now`` under ``policy`` would write: run for real, then rolled back."""
    forecast = Forecast()
    with Rehearsal(store) as rehearsal:
        start = written.mark(rehearsal.conn)
        run_tick(store, Lifecycle(policy), now, rehearsal=rehearsal)
        for entry in written.entries_since(rehearsal.conn, start):
            if entry.relationship_id is not None:
                forecast.moves.setdefault(entry.kind, []).append(entry.relationship_id)
        forecast.messages = [
            Message(row.relationship_id, row.kind, row.detail)
            for row in written.messages_since(rehearsal.conn, start)
        ]
    return forecast
