"""Building one phase change: the row update, its audit entry and its outbox rows.

Pure functions over plain data: the services load the relationship, the
lifecycle decides the move, and these functions shape what is written, so a
single advance and a batch of thousands write exactly the same things (a
batch shares one :class:`Mover`, which does the per-moment work once). The
entries that record a fact without moving the pair (a meeting held, a survey
answered) are shaped here too, and written the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.domain.audit import ENTRY_FIELDS, GENESIS, EntryHasher, canonical, canonical_text, iso
from engine.domain.audit import Cause as Cause  # made here, where it was first
from engine.domain.cadence import Standing, next_due
from engine.domain.change_rows import Change, Moving, Recorded, Recording, Rendering, RowUpdate, Written
from engine.domain.effects import OUTBOX_FIELDS, outbox_row
from engine.domain.phase_time import NOTHING_EARLIER, Earlier, PhaseClock, after_leaving, earlier
from engine.policy.model import Policy
from engine.policy.timers import LATEST_ENTRY


class Mover:
    """Shapes the phase changes made at one moment under one policy.

    What depends only on the policy, the moment and the destination (the
    time's text form in the hash, the next due time, the outbox actions) is
    worked out once, so a batch of thousands pays for it once, not per row.
    """

    def __init__(self, policy: Policy, now: datetime) -> None:
        self.policy = policy
        self.now = now
        self._at_text = iso(now)
        # the fields every entry of the batch shares, encoded for the hash once (engine.domain.audit)
        self._shared = {
            "at": canonical(self._at_text),
            "policy_name": canonical(policy.policy),
            "policy_version": canonical(policy.digest),
        }
        self._hashers: dict[tuple[str | None, ...], EntryHasher] = {}
        self._data: dict[int, tuple[dict[str, Any], str]] = {}
        self._leavings: dict[tuple[Any, ...], tuple[Any, PhaseClock | None, datetime | None]] = {}
        self._due: dict[tuple[str, datetime | None, Earlier], datetime | None] = {}
        self._actions: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        # (trigger, source, dest) whose timer reads a counting clock: taking it starts the clock over
        self._restarts = {
            (e.trigger, e.source, e.dest)
            for e in policy.edges
            if e.after is not None and e.since != LATEST_ENTRY
        }

    def entry(
        self, rel_id: int, seq: int, prev_hash: str, source: str | None, dest: str, cause: Cause
    ) -> dict[str, Any]:
        """An audit entry with its hash, chained to ``prev_hash``."""
        entry: dict[str, Any] = {
            "relationship_id": rel_id,
            "seq": seq,
            "at": self._at_text,  # the hash reads the time in this text form; stored as a time below
            "actor": cause.actor,
            "trigger": cause.trigger,
            "from_phase": source,
            "to_phase": dest,
            "reason": cause.reason,
            "policy_name": self.policy.policy,
            "policy_version": self.policy.digest,
            "data": cause.data,
            "prev_hash": prev_hash,
        }
        entry["hash"] = self._hash(rel_id, seq, prev_hash, source, dest, cause)
        entry["at"] = self.now
        entry["reason_seal"], entry["reason_salt"] = cause.seal, cause.salt
        return entry

    def _hash(
        self, rel_id: int, seq: int, prev_hash: str, source: str | None, dest: str, cause: Cause
    ) -> str:
        """The entry's hash, from the text its batch shares, put together once per shape (and ``data``
        encoded once per object: the memo keeps the object, so no other can take its id meanwhile)."""
        return self._hasher(source, dest, cause).hash(self._encoded(cause.data), prev_hash, rel_id, seq)

    def _hasher(self, source: str | None, dest: str, cause: Cause) -> EntryHasher:
        """The hasher of the entries of a move from ``source`` to ``dest`` for ``cause``, once per shape."""
        key = (source, dest, cause.actor, cause.trigger, cause.hashed_reason)
        hasher = self._hashers.get(key)
        if hasher is None:
            shared = {
                **self._shared,
                "actor": canonical(cause.actor),
                "trigger": canonical(cause.trigger),
                "reason": canonical(cause.hashed_reason),  # the reason's seal, never its text
                "from_phase": canonical(source),
                "to_phase": canonical(dest),
            }
            hasher = self._hashers[key] = EntryHasher(shared)
        return hasher

    def _encoded(self, data: dict[str, Any]) -> str:
        """``data`` encoded for the hash, once per object (the memo keeps the object, so no other can
        take its id meanwhile)."""
        kept = self._data.get(id(data))
        if kept is None or kept[0] is not data:
            kept = self._data[id(data)] = (data, canonical(data))
        return kept[1]

    def effects(self, rel_id: int, seq: int, dest: str) -> list[dict[str, Any]]:
        """The outbox rows the ``on_enter`` actions of ``dest`` cause, each with its idempotency key."""
        key = f"rel:{rel_id}:entry:{seq}:"
        rows = self._action_rows(dest)
        return [{**row, "relationship_id": rel_id, "idempotency_key": key + slot} for slot, row in rows]

    def _action_rows(self, dest: str) -> list[tuple[str, dict[str, Any]]]:
        """(key slot, outbox row without its pair and key) of each action of entering ``dest``, once."""
        rows = self._actions.get(dest)
        if rows is None:  # per action, its row as outbox_row shapes it: a row differs in its pair and key
            now = self.now  # the rows of one action share its params: the store renders them once per batch
            rows = self._actions[dest] = [
                (slot, outbox_row(None, "", name, params, now))
                for name, slot, params in _actions_entering(self.policy, dest)
            ]
        return rows

    def due(
        self, dest: str, last_meeting_at: datetime | None, before: Earlier = NOTHING_EARLIER
    ) -> datetime | None:
        """When the tick must next look at a pair that enters ``dest`` now (``None``: never), given its
        ``before`` stays there."""
        key = (dest, last_meeting_at, before)
        if key not in self._due:
            standing = Standing(dest, self.now, last_meeting_at, before.spent, before.first_entered)
            terminal = self.policy.phases[dest].terminal
            self._due[key] = None if terminal else next_due(self.policy, standing)
        return self._due[key]

    def change(
        self,
        rel: Moving,
        dest: str,
        cause: Cause,
        *,
        mentor_id: int | None = None,
        last_meeting_at: datetime | None = None,
    ) -> Change:
        """The change that moves ``rel`` to ``dest`` now."""
        seq = rel.audit_seq + 1
        entry = self.entry(rel.id, seq, rel.audit_head, rel.phase, dest, cause)
        restart = (cause.trigger, rel.phase, dest) in self._restarts
        clock, due_at = self._leaving(rel, dest, last_meeting_at, restart=restart)
        mentor = mentor_id if mentor_id is not None else rel.mentor_id
        update = RowUpdate(rel.id, rel.version, dest, self.now, due_at, mentor, seq, entry["hash"], clock)
        return Change(update, entry, self.effects(rel.id, seq, dest))

    def _leaving(
        self, rel: Moving, dest: str, last_meeting_at: datetime | None, *, restart: bool
    ) -> tuple[PhaseClock | None, datetime | None]:
        """The phase clock of ``rel`` once it leaves its phase for ``dest``, and its next due time."""
        _, clock, due_at = self._left(rel, dest, last_meeting_at, restart=restart)
        return clock, due_at

    def _left(
        self, rel: Moving, dest: str, last_meeting_at: datetime | None, *, restart: bool
    ) -> tuple[Any, PhaseClock | None, datetime | None]:
        """(clock read, clock left with, next due time) of ``rel`` leaving its phase for ``dest``: once
        per shape in a batch, so rows alike share one clock object and one such tuple (the memo keeps the
        clock it read, so no other object can take its id meanwhile)."""
        before = rel.phase_clock
        key = (id(before), rel.phase, rel.phase_entered_at, dest, last_meeting_at, restart)
        kept = self._leavings.get(key)
        if kept is None or kept[0] is not before:
            clock = after_leaving(before, rel.phase, rel.phase_entered_at, self.now, restart=restart)
            kept = (before, clock, self.due(dest, last_meeting_at, earlier(clock, dest)))
            self._leavings[key] = kept
        return kept

    def rows(self, moves: Iterable[tuple[Moving, str, Cause, int | None]], rendering: Rendering) -> Written:
        """What :meth:`change` writes for each of ``moves`` (a relationship, its destination, the cause,
        the mentor it takes), as rows for the store's driver (values as ``rendering`` renders them), in
        the order of ``moves``.

        The same values as :meth:`change` (no last meeting: a move starts a stay now), put together
        once per shape: what a source, destination and cause decide (the hasher, fed the text before
        ``prev_hash`` once, a restarted clock, the rendered values the entries and outbox rows share)
        once per run of rows of one shape (the memo keeps the cause: no other object takes its id), the
        leaving once per run of rows that share their clock and stay objects (as rows read alike do).
        """
        written = Written([], [], [])
        updates, entries, effects = written
        add_update, add_entry, add_effect = updates.append, entries.append, effects.append
        shapes: dict[tuple[str, str, int], _Shape] = {}
        shown: dict[int, tuple[Any, ...]] = {}  # by leaving (kept in self._leavings): its rendered values
        text, left, now = canonical_text, self._left, self.now
        shape, last = None, ("", "", Cause("", ""))  # rows of a batch come in runs of one shape
        for rel, dest, cause, mentor_id in moves:
            rel_id, seq, prev, source = rel.id, rel.audit_seq + 1, rel.audit_head, rel.phase
            if shape is None or cause is not last[2] or source != last[0] or dest != last[1]:
                last, shape = (source, dest, cause), self._shape_of(shapes, source, dest, cause, rendering)
                at, actor, trigger, came, went, why, name, version, data = shape.entry
                sealed, salt, actions = cause.seal, cause.salt, shape.actions
                seed, after_prev, after_rel, after_seq = shape.seed
                read, entered = _UNREAD, None
            if type(rel_id) is int is type(seq) and type(prev) is str:  # EntryHasher.hash, from the seed
                sha = seed.copy()
                sha.update(f"{text(prev)}{after_prev}{rel_id}{after_rel}{seq}{after_seq}".encode())
                head = sha.hexdigest()
            else:
                head = shape.hasher.hash(shape.data, prev, rel_id, seq)
            add_entry((
                rel_id, seq, at, actor, trigger, came, went, why, name, version, data, prev, head,
                sealed, salt,
            ))  # fmt: skip
            if rel.phase_clock is not read or rel.phase_entered_at is not entered:
                read, entered = rel.phase_clock, rel.phase_entered_at
                kept = left(rel, dest, None, restart=shape.restart)
                stay = shown.get(id(kept))
                if stay is None:
                    stay = shown[id(kept)] = rendering.update(_STAY, (dest, now, kept[2], kept[1]))
                phase, since, due_at, clock = stay
            mentor = mentor_id if mentor_id is not None else rel.mentor_id
            add_update((rel_id, rel.version, phase, since, due_at, mentor, seq, head, clock))
            if actions:
                key = f"rel:{rel_id}:entry:{seq}:"
                for slot, rest in actions:
                    add_effect((rel_id, key + slot) + rest)  # noqa: RUF005 (one tuple, no list between)
        return written

    def _shape_of(
        self, shapes: dict[tuple[str, str, int], _Shape], source: str, dest: str, cause: Cause,
        rendering: Rendering,
    ) -> _Shape:  # fmt: skip
        """:meth:`_shape`, once per shape in ``shapes`` (which keeps the cause: no other takes its id)."""
        shape = shapes.get((source, dest, id(cause)))
        if shape is None or shape.cause is not cause:
            shape = shapes[(source, dest, id(cause))] = self._shape(source, dest, cause, rendering)
        return shape

    def _shape(self, source: str, dest: str, cause: Cause, rendering: Rendering) -> _Shape:
        """What the moves from ``source`` to ``dest`` for ``cause`` share (see :meth:`rows`)."""
        actions = tuple(
            (slot, rendering.message(_MESSAGE_SHARED, tuple(row[name] for name in _MESSAGE_SHARED)))
            for slot, row in self._action_rows(dest)
        )
        restart = (cause.trigger, source, dest) in self._restarts
        hasher, data = self._hasher(source, dest, cause), self._encoded(cause.data)
        before, after_data, after_prev, after_rel, after_seq = hasher.parts
        seed = hashlib.sha256((before + data + after_data).encode())  # the text before prev_hash, once
        shared = (
            self.now, cause.actor, cause.trigger, source, dest, cause.reason, self.policy.policy,
            self.policy.digest, cause.data,
        )  # fmt: skip
        entry = rendering.entry(_ENTRY_SHARED, shared)
        return _Shape(cause, hasher, data, restart, entry, actions, (seed, after_prev, after_rel, after_seq))

    def facts(self, rel: Recording, causes: Sequence[Cause]) -> Recorded:
        """Entries recording what happened to ``rel`` (a meeting, a survey answer), chained in order.

        Each has ``from_phase`` = ``to_phase`` = the phase it happened in. The row
        keeps its phase and stay, takes the new chain head and a new version (so a
        writer that read it before cannot append to the old head), and becomes due
        now so the tick reconsiders it (a pair in a terminal phase never is).
        """
        seq, head, entries = rel.audit_seq, rel.audit_head, []
        for cause in causes:
            seq += 1
            entry = self.entry(rel.id, seq, head, rel.phase, rel.phase, cause)
            entries.append(entry)
            head = entry["hash"]
        phase = self.policy.phases.get(rel.phase)
        due_at = None if phase is not None and phase.terminal else self.now
        update = RowUpdate(
            rel.id, rel.version, rel.phase, rel.phase_entered_at, due_at, rel.mentor_id, seq, head,
            rel.phase_clock,
        )  # fmt: skip
        return Recorded(update, entries)

    def creation(self, rel_id: int, cause: Cause) -> dict[str, Any]:
        """The first link of a relationship's chain: its creation in the initial phase."""
        return self.entry(rel_id, 1, GENESIS, None, self.policy.initial_phase, cause)


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the moves of one source, destination and cause share (see :meth:`Mover.rows`)."""

    cause: Cause
    hasher: EntryHasher
    data: str
    restart: bool
    entry: tuple[Any, ...]
    """The entry's values of :data:`_ENTRY_SHARED`, rendered."""
    actions: tuple[tuple[str, tuple[Any, ...]], ...]
    """Per outbox action: its key slot, and its row's values of :data:`_MESSAGE_SHARED`, rendered."""
    seed: tuple[Any, str, str, str]
    """A hash fed the entries' text before ``prev_hash`` (each entry hashes a copy of it), and the
    hasher's text after ``prev_hash``, ``relationship_id`` and ``seq``."""


_ENTRY_SHARED = ENTRY_FIELDS[2:-1]
"""The fields of an audit entry its batch's moves of one shape share: all but the pair, the seq and
``prev_hash`` (and the hash, seal and salt after them)."""
assert ENTRY_FIELDS[:2] == ("relationship_id", "seq") and ENTRY_FIELDS[-1] == "prev_hash"
_MESSAGE_SHARED = OUTBOX_FIELDS[2:]
"""The fields of an outbox row the rows of one action share: all but the pair and idempotency key."""
_STAY = ("phase", "phase_entered_at", "due_at", "phase_clock")
"""The columns of a row update that the moves of one leaving share (as :class:`RowUpdate` orders them)."""

_UNREAD = object()
"""The phase clock a run of rows read last, before its first row."""


def _actions_entering(policy: Policy, dest: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, key slot, params) of each message the ``on_enter`` calls of ``dest`` send, in policy order.

    Each message goes to one recipient (``params["recipient"]``), so a delivery that
    reached the mentee but not yet the mentor never resends to the mentee. The slot
    names the action and recipient in the idempotency key; an action listed again
    (two ``send_survey`` calls) gets ``name:2``, so its rows are not dropped as duplicates.
    """
    actions: list[tuple[str, str, dict[str, Any]]] = []
    seen: list[str] = []
    for call in policy.phases[dest].on_enter:
        params = call.param.model_dump(mode="json") if call.param is not None else {}
        seen.append(call.name)
        slot = call.name if seen.count(call.name) == 1 else f"{call.name}:{seen.count(call.name)}"
        for recipient in call.term.recipients:
            actions.append(
                (call.name, f"{slot}:{recipient}", {**params, "phase": dest, "recipient": recipient})
            )
    return actions


def phase_change(
    rel: Moving,
    dest: str,
    cause: Cause,
    policy: Policy,
    now: datetime,
    *,
    mentor_id: int | None = None,
    last_meeting_at: datetime | None = None,
) -> Change:
    """The change that moves ``rel`` to ``dest`` now."""
    return Mover(policy, now).change(rel, dest, cause, mentor_id=mentor_id, last_meeting_at=last_meeting_at)
