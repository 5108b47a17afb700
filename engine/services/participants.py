"""Operations on who takes part: import participants, open a relationship per mentee.

Each is one transaction: a new mentee's relationship is opened in the policy's
initial phase with the first entry of its audit chain and the outbox rows of
entering that phase, in the same commit as the participant rows.

An import changes only what the file says: a column the file does not have
leaves that field as it is, a present but empty cell clears it (to the field's
default), ``trained`` can set a mentor trained but never undoes a recorded
training, and an empty ``external_id`` never clears one. Every participant
created or changed gets an entry in their own chain naming the fields changed
(:func:`engine.store.participant_entries.record_participant_change`). A ``status``
column puts people on leave or marks them gone (:mod:`engine.services.leave`).
A dry run works all of it out and writes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine.domain.erasure import reference
from engine.domain.participants import Participant
from engine.policy.model import Policy
from engine.services.goals import add_profile_goals
from engine.services.import_checks import refuse_manager_loops, refuse_role_changes, refuse_taken_emails
from engine.services.leave import apply_status
from engine.services.opening import open_relationships_in
from engine.store import audit
from engine.store import goals as goal_store
from engine.store import participant_entries as entry_store
from engine.store import participants as people_store
from engine.store.batches import chunks
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine, RowMapping

    from engine.clock import Clock

FIELDS: tuple[str, ...] = tuple(Participant.model_fields)


@dataclass(frozen=True)
class PersonPlan:
    """What an import does (or, in a dry run, would do) to one person of the file."""

    key: str
    name: str
    action: str  # new, updated, unchanged
    changes: tuple[tuple[str, Any, Any], ...] = ()  # (field, old, new)
    relationships: tuple[
        str, ...
    ] = ()  # "opens a relationship in 'intake'", "relationship 3: closed (close)"


@dataclass(frozen=True)
class ImportSummary:
    """What a participants import did (or, with ``dry_run``, would do)."""

    created: int
    updated: int
    unchanged: int
    relationships_opened: list[int]
    people: list[PersonPlan] = field(default_factory=list)
    dry_run: bool = False
    to_open: int = 0  # in a dry run: the relationships it would open

    @property
    def opened(self) -> int:
        """How many relationships the import opened (or would open)."""
        return self.to_open if self.dry_run else len(self.relationships_opened)


_NOTHING: Mapping[str, Any] = MappingProxyType({})
"""What an import sets on a person it leaves as they are (or creates): shared, read only."""


@dataclass(slots=True)
class _Pending:
    """One person of the file matched to their row (its :data:`~engine.store.participants.IMPORT_KEYS`):
    what to set on it (nothing for a new person, whose model is their row), what those fields held
    before, and their status change. An import holds one per person: kept small."""

    person: Participant
    row: RowMapping | None
    values: Mapping[str, Any]
    status: str | None
    old: Mapping[str, Any]


def import_participants(
    store: Engine,
    policy: Policy,
    clock: Clock,
    people: Sequence[Participant],
    *,
    actor: str,
    columns: Collection[str] | None = None,
    rows: Sequence[str] | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Add or update participants (matched by external id, else email); open a relationship per new mentee.

    ``columns`` names the fields the file has (``None``: all of them); ``rows`` says
    where each person is in the file, for the refusals.
    """
    now = clock.now()
    given = frozenset(columns) if columns is not None else frozenset(FIELDS)
    where = list(rows) if rows is not None else [f"participant {p.key}" for p in people]
    with UnitOfWork(store, write=not dry_run) as uow:
        existing = people_store.import_keys(uow.conn)
        matched = _match(existing, people)
        refuse_taken_emails(existing, people, matched, where)
        refuse_manager_loops(existing, people, matched, given, where)
        refuse_role_changes(uow.conn, policy, people, matched, given, where)
        pending = _compared(uow, people, matched, given)
        if dry_run:
            return _plan(uow, policy, pending, actor, now)
        summary = _write(uow, policy, pending, actor, now)
        audit.record_policy_version(uow.conn, policy, now)
        uow.commit()
    return summary


def _match(existing: Sequence[RowMapping], people: Sequence[Participant]) -> list[RowMapping | None]:
    """Each person's row: by external id when the file gives one, else by email."""
    by_id = {row["external_id"]: row for row in existing if row["external_id"]}
    by_email = {row["email"]: row for row in existing}
    return [by_id.get(p.external_id) if p.external_id else by_email.get(p.email) for p in people]


COMPARED = 2000
"""People compared per chunk: their stored rows are read for the chunk, and only what differs is kept."""


def _compared(
    uow: UnitOfWork,
    people: Sequence[Participant],
    matched: Sequence[RowMapping | None],
    given: frozenset[str],
) -> list[_Pending]:
    """Each person against their row as it was before the import wrote anything, a chunk at a time: the
    stored rows of a chunk are read, compared and let go (a re-import holds no one's whole row)."""
    names = [name for name in FIELDS if name in given]
    compared: list[_Pending] = []
    for start in range(0, len(people), COMPARED):
        rows = matched[start : start + COMPARED]
        ids = [int(row["id"]) for row in rows if row is not None]
        stored = people_store.values_by_id(uow.conn, ids, names) if ids else {}
        compared += (
            _pending(person, row, stored[int(row["id"])] if row is not None else None, given)
            for person, row in zip(people[start : start + COMPARED], rows, strict=True)
        )
    return compared


def _pending(
    person: Participant, row: RowMapping | None, stored: Mapping[str, Any] | None, given: frozenset[str]
) -> _Pending:
    """What the import sets on ``row`` (whose columns are ``stored``) for ``person``."""
    if row is None or stored is None:
        return _Pending(
            person, None, _NOTHING, None, _NOTHING
        )  # a new person's row is the whole model, taken when written
    values: dict[str, Any] = {}
    for name in FIELDS:
        if name not in given or name == "status":
            continue
        new = getattr(person, name)
        if name == "external_id" and new is None:
            continue  # an empty cell does not take a participant's identity away
        if name == "trained":
            new = bool(stored["trained"]) or new  # HR's file never undoes a recorded training
        if _comparable(stored[name]) != _comparable(new):
            values[name] = list(new) if isinstance(new, tuple) else new
    changed = "status" in given and person.status != stored["status"]
    status = person.status if changed else None
    if not values:
        return _Pending(person, row, _NOTHING, status, _NOTHING)
    return _Pending(person, row, values, status, {name: stored[name] for name in values})


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple | list) else value


def _plan(
    uow: UnitOfWork, policy: Policy, pending: Iterable[_Pending], actor: str, now: datetime
) -> ImportSummary:
    """What the import would do, person by person; nothing is written."""
    plans = []
    for item in pending:
        person, row = item.person, item.row
        if row is None:
            opens = person.role == "mentee" and person.status != "left"
            shown = (f"opens a relationship in {policy.initial_phase!r}",) if opens else ()
            plans.append(PersonPlan(person.key, person.name, "new", (), shown))
            continue
        changes = [(name, item.old[name], value) for name, value in item.values.items()]
        moves: tuple[str, ...] = ()
        if item.status is not None:
            changes.append(("status", row["status"], item.status))
            status = apply_status(uow, policy, _as_row(uow, row), item.status, None, actor, now, write=False)
            moves = tuple(str(c) for c in status.consequences)
        action = "updated" if changes else "unchanged"
        plans.append(PersonPlan(_key(row), person.name, action, tuple(changes), moves))
    to_open = sum(1 for p in plans if p.action == "new" and p.relationships)
    new, changed, same = (sum(p.action == a for p in plans) for a in ("new", "updated", "unchanged"))
    return ImportSummary(new, changed, same, [], plans, dry_run=True, to_open=to_open)


BATCH = 2000
"""People written per batch: each batch is one executemany per table, all in the import's one transaction."""


def _write(
    uow: UnitOfWork, policy: Policy, pending: Iterable[_Pending], actor: str, now: datetime
) -> ImportSummary:
    """Write what the file changes in file order, in batches; then open the new mentees' relationships."""
    batch = _Batch(uow, actor, now)
    created, updated, unchanged, plans, goals_changed = 0, 0, 0, [], []
    for item in pending:
        person, row = item.person, item.row
        if row is None:
            batch.create(person)
            created += 1
            plans.append(PersonPlan(person.key, person.name, "new"))
            continue
        if item.values:
            batch.change(int(row["id"]), item.values)
            goals_changed += [int(row["id"])] if row["role"] == "mentee" and "goals" in item.values else []
        moves: tuple[str, ...] = ()
        if item.status is not None:
            batch.flush()  # the status change reads the row as the import left it
            status = apply_status(uow, policy, _as_row(uow, row), item.status, None, actor, now)
            moves = tuple(str(c) for c in status.consequences)
        changed = bool(item.values) or item.status is not None
        updated, unchanged = updated + changed, unchanged + (not changed)
        changes = tuple((name, item.old[name], value) for name, value in item.values.items())
        plans.append(
            PersonPlan(_key(row), person.name, "updated" if changed else "unchanged", changes, moves)
        )
    batch.flush()
    _new_goals(uow, policy, goals_changed, actor, now)
    opened = [
        rel_id
        for part in chunks(batch.new_mentees, BATCH)
        for rel_id in open_relationships_in(uow, policy, part, actor, now, goals=batch.goals_of)
    ]
    return ImportSummary(created, updated, unchanged, opened, plans)


def _new_goals(uow: UnitOfWork, policy: Policy, mentee_ids: list[int], actor: str, now: datetime) -> None:
    """The goals a re-import adds to mentees' profiles, added to their open relationships' records."""
    if mentee_ids:
        terminal = sorted(policy.terminal_phases)
        rels = goal_store.open_relationships_of_mentees(uow.conn, mentee_ids, policy.policy, terminal)
        add_profile_goals(uow, policy, now, rels, actor)


class _Batch:
    """The participant rows and history entries an import writes next, in file order; ``flush`` writes
    them, one executemany per table, exactly as writing them one person at a time would."""

    def __init__(self, uow: UnitOfWork, actor: str, now: datetime) -> None:
        self.uow, self.actor, self.now = uow, actor, now
        self.new_mentees: list[tuple[int, str]] = []
        self.goals_of: dict[int, Sequence[str]] = {}  # the new mentees' goals, as the file gives them
        self._new: list[Participant] = []
        self._changed: dict[int, Mapping[str, Any]] = {}
        self._order: list[int | None] = []  # per person: the id changed, or None for the next new one

    def create(self, person: Participant) -> None:
        self._new.append(person)
        self._order.append(None)
        self._full()

    def change(self, participant_id: int, values: Mapping[str, Any]) -> None:
        if participant_id in self._changed:
            self.flush()  # matched twice (by external id and by email): written in file order
        self._changed[participant_id] = values
        self._order.append(participant_id)
        self._full()

    def _full(self) -> None:
        if len(self._order) >= BATCH:
            self.flush()

    def flush(self) -> None:
        conn, now = self.uow.conn, self.now
        new_ids = iter(people_store.insert_participants(conn, [dict(p.__dict__) for p in self._new], now))
        people_store.update_participants(conn, list(self._changed.items()), now)
        people = iter(self._new)
        entries: list[tuple[int, Sequence[str], str]] = []
        created: list[int] = []
        for pid in self._order:
            if pid is not None:
                entries.append((pid, list(self._changed[pid]), "import"))
                continue
            person, new_id = next(people), next(new_ids)
            entries.append((new_id, _given(person), "create"))
            created.append(new_id)
            if person.role == "mentee" and person.status != "left":
                self.new_mentees.append((new_id, reference(person.external_id, new_id)))
                self.goals_of[new_id] = person.goals
        entry_store.record_participant_changes(conn, entries, self.actor, now, new=created)
        self._new, self._changed, self._order = [], {}, []


_DEFAULTS = {name: info.default for name, info in Participant.model_fields.items() if not info.is_required()}


def _given(person: Participant) -> list[str]:
    """The fields a new participant was given a value for (not left at their default)."""
    return [name for name, default in _DEFAULTS.items() if getattr(person, name) != default]


def _as_row(uow: UnitOfWork, row: RowMapping) -> Any:
    """The participant's row as it is now in this transaction (the import may just have changed it)."""
    found = people_store.participants_by_id(uow.conn, [int(row["id"])], lock=True)
    return found[int(row["id"])]


def _key(row: Any) -> str:
    return str(row["external_id"] or row["email"])
