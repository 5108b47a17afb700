"""The relationships: their rows, and writing a change with its audit entries and outbox rows.

Every function takes the Connection of the caller's unit of work and never
commits: the service that calls it decides what one transaction is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from importlib import import_module
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Dialect,
    Row,
    Select,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)

from engine.domain.audit import ENTRY_FIELDS
from engine.domain.change_rows import Rendering as ChangeRendering
from engine.domain.change_rows import RowUpdate, Written
from engine.domain.effects import OUTBOX_FIELDS
from engine.domain.phase_time import PhaseClock
from engine.domain.relationships import Relationship
from engine.errors import ConflictError
from engine.store.batches import chunks
from engine.store.rendered import DriverQuery, DriverStatement, Rendering
from engine.store.tables import audit_entries, outbox, relationships


def relationship(conn: Connection, rel_id: int, *, lock: bool = False) -> Relationship | None:
    query = select(relationships).where(relationships.c.id == rel_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return None if row is None else Relationship.model_construct(**row)


class RelationshipRow(NamedTuple):
    """What moving a relationship reads of it: a light row, for batches of thousands."""

    id: int
    mentor_id: int | None
    phase: str
    phase_entered_at: datetime
    version: int
    audit_seq: int
    audit_head: str
    policy_name: str
    phase_clock: PhaseClock | None = None
    mentee_id: int | None = None
    """Always set in a row read from the store (a row made up by hand may leave it out)."""


ROW_COLUMNS = [relationships.c[name] for name in RelationshipRow._fields]
"""The columns of a :class:`RelationshipRow`, in its order."""


_new_row = tuple.__new__  # RelationshipRow._make without its Python-level call per row
_FIRST = itemgetter(0)

_ROWS = DriverQuery(select(*ROW_COLUMNS).order_by(relationships.c.id), relationships.c.id)


def relationship_rows(
    conn: Connection, ids: Sequence[int], *, lock: bool = False
) -> dict[int, RelationshipRow]:
    """The rows of ``ids`` (an unknown id is absent), in id order, reading only what a phase change needs.

    ``lock`` holds the rows (PostgreSQL) until commit, so that appends to their chains are serialised.
    Read through the driver, each distinct time and phase clock converted once: rows that share a
    phase clock share its (read-only) object.
    """
    found: dict[int, RelationshipRow] = {}
    for part in chunks(ids):
        rows = _ROWS.rows(conn, part, lock=lock)
        found.update(zip(map(_FIRST, rows), map(_new_row, repeat(RelationshipRow), rows), strict=True))
    return found


def ids_of_policy(policy_name: str) -> Select[tuple[int]]:
    """A subquery: the ids of the relationships opened under the policy ``policy_name``."""
    return select(relationships.c.id).where(relationships.c.policy_name == policy_name)


def relationships_per_policy(conn: Connection, *, created_by: datetime | None = None) -> dict[str, int]:
    """How many relationships each policy (by name) has opened, by ``created_by`` if given."""
    query = select(relationships.c.policy_name, func.count()).group_by(relationships.c.policy_name)
    if created_by is not None:
        query = query.where(relationships.c.created_at <= created_by)
    return {str(name): int(count) for name, count in conn.execute(query)}


def standings(conn: Connection, policy_name: str) -> list[tuple[int, str, datetime]]:
    """(id, phase, entered) of every relationship of the policy ``policy_name``."""
    columns = (relationships.c.id, relationships.c.phase, relationships.c.phase_entered_at)
    query = select(*columns).where(relationships.c.policy_name == policy_name)
    return [(r.id, r.phase, r.phase_entered_at) for r in conn.execute(query)]


def chain_heads(conn: Connection) -> list[Row[tuple[int, int, str, str]]]:
    """Every relationship's (id, audit_seq, audit_head, phase): where its audit chain ends."""
    columns = (
        relationships.c.id,
        relationships.c.audit_seq,
        relationships.c.audit_head,
        relationships.c.phase,
    )
    return list(conn.execute(select(*columns)))


def waiting_for_mentor(conn: Connection, policy_name: str, phases: Sequence[str]) -> list[tuple[int, int]]:
    """(id, mentee id) of the relationships of ``policy_name`` in ``phases`` without a mentor, by id."""
    query = (
        select(relationships.c.id, relationships.c.mentee_id)
        .where(
            relationships.c.policy_name == policy_name,
            relationships.c.phase.in_(list(phases)),
            relationships.c.mentor_id.is_(None),
        )
        .order_by(relationships.c.id)
    )
    return [(int(rel_id), int(mentee_id)) for rel_id, mentee_id in conn.execute(query)]


def mentored_pairs(conn: Connection, mentee_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
    """(mentee id, mentor id) of every pair that has been matched, in any program (only of these
    mentees, if given)."""
    if mentee_ids is None:
        return {(int(mentee), int(mentor)) for mentee, mentor in conn.execute(_PAIRS)}
    return {
        (int(mentee), int(mentor))
        for part in chunks(sorted(set(mentee_ids)))
        for mentee, mentor in _PAIRS_OF.rows(conn, part)
    }


_PAIRS = (
    select(relationships.c.mentee_id, relationships.c.mentor_id)
    .where(relationships.c.mentor_id.is_not(None))
    .distinct()
)
_PAIRS_OF = DriverQuery(_PAIRS, relationships.c.mentee_id)
"""The pairs of some mentees, read through the driver (one compiled query per slice size)."""


def ids_of_mentor(conn: Connection, mentor_id: int) -> list[int]:
    """The relationships ``mentor_id`` is (or was) the mentor of."""
    query = select(relationships.c.id).where(relationships.c.mentor_id == mentor_id)
    return [int(rel_id) for rel_id in conn.execute(query).scalars()]


def active_mentee_count(conn: Connection, mentor_id: int, terminal: Iterable[str]) -> int:
    query = select(func.count()).where(
        relationships.c.mentor_id == mentor_id, relationships.c.phase.not_in(list(terminal))
    )
    return int(conn.execute(query).scalar_one())


def active_mentee_counts(
    conn: Connection, mentor_ids: Iterable[int], terminal: Iterable[str]
) -> dict[int, int]:
    """Per mentor: how many relationships not in a terminal phase they have (absent: none)."""
    counts: dict[int, int] = {}
    for part in chunks(sorted(set(mentor_ids))):
        query = (
            select(relationships.c.mentor_id, func.count())
            .where(relationships.c.mentor_id.in_(part), relationships.c.phase.not_in(list(terminal)))
            .group_by(relationships.c.mentor_id)
        )
        counts.update((int(mentor), int(count)) for mentor, count in conn.execute(query))
    return counts


def insert_relationships(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert relationship rows; their new ids, in the order of ``rows``."""
    if not rows:
        return []
    mentees = [row["mentee_id"] for row in rows]
    if len(set(mentees)) == len(mentees):  # one statement per page of rows; ids matched back by mentee
        statement = insert(relationships).returning(relationships.c.id, relationships.c.mentee_id)
        ids = {int(mentee): int(rel_id) for rel_id, mentee in conn.execute(statement, rows)}
        return [ids[int(mentee)] for mentee in mentees]
    statement = insert(relationships).returning(relationships.c.id, sort_by_parameter_order=True)
    return [int(rel_id) for rel_id in conn.execute(statement, rows).scalars()]


def set_chain_heads(conn: Connection, heads: list[tuple[int, int, str]]) -> None:
    """Point relationships at the last entry of their chain: (id, seq, hash) each."""
    if not heads:
        return
    statement = (
        update(relationships)
        .where(relationships.c.id == bindparam("b_id"))
        .values(audit_seq=bindparam("b_seq"), audit_head=bindparam("b_head"))
    )
    conn.execute(statement, [{"b_id": i, "b_seq": seq, "b_head": head} for i, seq, head in heads])


def make_due(conn: Connection, rel_ids: list[int], now: datetime) -> None:
    """Make these relationships due at ``now`` (one in a terminal phase, never due, stays so)."""
    for part in chunks(rel_ids):
        conn.execute(
            update(relationships)
            .where(relationships.c.id.in_(part), relationships.c.due_at.is_not(None))
            .values(due_at=now)
        )


_MOVE = (
    update(relationships)
    .where(relationships.c.id == bindparam("b_id"), relationships.c.version == bindparam("b_version"))
    .values(
        phase=bindparam("phase"),
        phase_entered_at=bindparam("phase_entered_at"),
        due_at=bindparam("due_at"),
        mentor_id=bindparam("mentor_id"),
        version=relationships.c.version + literal_column("1"),  # no parameter: rows go as rendered
        audit_seq=bindparam("audit_seq"),
        audit_head=bindparam("audit_head"),
        phase_clock=bindparam("phase_clock"),
    )
)
_BINDS = {"relationship_id": "b_id", "expected_version": "b_version"}
_MOVES = DriverStatement(_MOVE, tuple(_BINDS.get(name, name) for name in RowUpdate._fields))
"""The row update, with the bind parameter of each field of a :class:`RowUpdate`, in its order."""

ENTRY_COLUMNS = (*ENTRY_FIELDS, "hash", "reason_seal", "reason_salt")
"""The columns an audit entry is written with (every column but its id), in the order of the entry rows
of :meth:`engine.domain.changes.Mover.rows`."""

OUTBOX_COLUMNS = OUTBOX_FIELDS
"""The columns an outbox row is written with: those :func:`engine.domain.effects.outbox_row` shapes."""


def apply_moves(
    conn: Connection,
    updates: Sequence[RowUpdate],
    entries: list[dict[str, Any]],
    effects: list[dict[str, Any]],
) -> None:
    """Write row updates, their audit entries and outbox rows; refuse if any row moved meanwhile.

    The ``WHERE version = :b_version`` check (the version each update expects)
    makes two writers of one row unable to both succeed, and takes the row lock
    that serialises the chain append. Each table is written in one driver call.
    """
    if updates:
        _move(conn, updates)
        append(conn, entries, effects)


def write_moves(conn: Connection, written: Written) -> None:
    """:func:`apply_moves` of changes given as rows for the driver (:meth:`engine.domain.changes.Mover.rows`
    with the :func:`rendering` of ``conn``'s dialect).

    Their outbox rows are inserted plainly, not skipped on a known key: each key names the new entry
    that caused it (``rel:ID:entry:SEQ:...``), which the same transaction inserts under the unique
    (relationship, seq), so no row can hold it yet (one that did would be a fault, and fail the write
    whole). PostgreSQL inserts such rows some 15 % cheaper than with ``ON CONFLICT``.
    """
    if written.updates:
        _moved(len(written.updates), _MOVES.send(conn, written.updates))
        _ENTRIES.send(conn, written.entries)
        _NEW_OUTBOX_ROWS.send(conn, written.effects)


class _Rendering:
    """:class:`engine.domain.change_rows.Rendering` for one dialect: each table's columns as its driver
    takes them."""

    def __init__(self, dialect: Dialect) -> None:
        self.entry = Rendering(audit_entries, dialect)
        self.message = Rendering(outbox, dialect)
        self.update = Rendering(relationships, dialect)


def rendering(conn: Connection) -> ChangeRendering:
    """How the rows of :func:`write_moves` are rendered for ``conn``'s driver (one per dialect)."""
    kept = _RENDERINGS.get(conn.dialect.name)
    if kept is None:
        kept = _RENDERINGS[conn.dialect.name] = _Rendering(conn.dialect)
    return kept


_RENDERINGS: dict[str, _Rendering] = {}


def _move(conn: Connection, updates: Sequence[RowUpdate]) -> None:
    """The row updates, in one driver call; ConflictError if any row moved meanwhile."""
    _moved(len(updates), _MOVES.execute(conn, updates))


def _moved(wanted: int, moved: int) -> None:
    """Raise ConflictError unless the ``wanted`` row updates all found their row at its version."""
    if moved != wanted:
        raise ConflictError(
            f"{wanted - moved} of {wanted} relationship(s) were changed by "
            "another writer meanwhile; nothing was written (run the command again)"
        )


def append(conn: Connection, entries: list[dict[str, Any]], effects: list[dict[str, Any]]) -> None:
    """Insert audit entries and the outbox rows they cause (a known idempotency key is skipped)."""
    if entries:
        _ENTRIES.execute(conn, map(itemgetter(*ENTRY_COLUMNS), entries))
    if effects:
        _outbox_insert(conn.dialect.name).execute(conn, map(itemgetter(*OUTBOX_COLUMNS), effects))


_ENTRIES = DriverStatement(audit_entries.insert(), ENTRY_COLUMNS)
_NEW_OUTBOX_ROWS = DriverStatement(outbox.insert(), OUTBOX_COLUMNS)


@cache
def _outbox_insert(dialect: str) -> DriverStatement:
    """The outbox insert of ``dialect`` (``sqlite``, ``postgresql``) that skips a row whose idempotency
    key is already there; the dialect's module is imported when its first insert is built."""
    own = import_module(f"sqlalchemy.dialects.{dialect}")
    statement = own.insert(outbox).on_conflict_do_nothing(index_elements=["idempotency_key"])
    return DriverStatement(statement, OUTBOX_COLUMNS)


def mentees(rows: Mapping[int, RelationshipRow], of: Iterable[int] | None = None) -> dict[int, int]:
    """The mentee id of each of ``rows`` (read by :func:`relationship_rows`), by relationship id; only of
    the relationships ``of`` names, if given (an id not among ``rows`` is absent)."""
    found: dict[int, int] = {}
    for rel_id in rows if of is None else of:
        row = rows.get(rel_id)
        if row is not None:
            assert row.mentee_id is not None, "a row read from the store names its mentee"
            found[rel_id] = row.mentee_id
    return found
