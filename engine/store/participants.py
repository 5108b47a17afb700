"""The participants: finding them by reference, in bulk, and writing what an import or a training changes.

Every function takes the Connection of the caller's unit of work and never
commits: the service that calls it decides what one transaction is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Dialect,
    Row,
    RowMapping,
    String,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.types import TypeDecorator

from engine.store.batches import chunks
from engine.store.limits import INTEGER_MAX
from engine.store.rendered import DriverQuery
from engine.store.tables import LIST_FIELDS, participants, relationships

if TYPE_CHECKING:  # pydantic's model of a participant, imported by the readers that build one
    from engine.domain.participants import Participant


def participant_by_ref(conn: Connection, ref: str, *, lock: bool = False) -> Row[Any] | None:
    """A participant by id, external id or email; ``lock`` holds the row (PostgreSQL) until commit."""
    matches = (participants.c.external_id == ref) | (participants.c.email == ref.lower())
    if ref.isascii() and ref.isdigit() and int(ref) <= INTEGER_MAX:  # a larger number is no id
        matches = matches | (participants.c.id == int(ref))
    query = select(participants).where(matches)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = conn.execute(query).all()
    exact = [r for r in rows if r.external_id == ref or r.email == ref.lower()]
    found = exact or rows
    return found[0] if found else None


def participants_by_id(conn: Connection, ids: Iterable[int], *, lock: bool = False) -> dict[int, Row[Any]]:
    """Participants by id, in bulk (an unknown id is absent); ``lock`` holds the rows (PostgreSQL)."""
    found: dict[int, Row[Any]] = {}
    for part in chunks(sorted(set(ids))):
        query = select(participants).where(participants.c.id.in_(part))
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found.update((row.id, row) for row in conn.execute(query))
    return found


IMPORT_KEYS = ("id", "external_id", "email", "manager_id", "role", "status")
"""What an import matches a participant by and checks against everyone (emails, reporting lines, roles)."""


def import_keys(conn: Connection) -> list[RowMapping]:
    """Every participant's :data:`IMPORT_KEYS`, as a mapping: what an import needs of everyone, not
    their whole rows (those it reads in chunks, :func:`values_by_id`)."""
    return list(conn.execute(select(*(participants.c[name] for name in IMPORT_KEYS))).mappings())


def values_by_id(conn: Connection, ids: Sequence[int], names: Sequence[str]) -> dict[int, dict[str, Any]]:
    """These participants' ``names`` columns by id, as Core reads them (lists as lists); an unknown id is
    absent (:func:`rows_by_id`, each row by name)."""
    rows = rows_by_id(conn, ids, names)
    return {pid: dict(zip(names, values, strict=True)) for pid, values in rows.items()}


def rows_by_id(conn: Connection, ids: Sequence[int], names: Sequence[str]) -> dict[int, tuple[Any, ...]]:
    """These participants' ``names`` columns by id, in that order, as Core reads them (lists as lists);
    an unknown id is absent. Read through the driver: a list or time that recurs is converted once per
    slice of ids (rows alike share the converted object)."""
    query = _values_query(tuple(names))
    found: dict[int, tuple[Any, ...]] = {}
    for part in chunks(ids):
        found.update((int(row[0]), row[1:]) for row in query.rows(conn, part))
    return found


@cache
def _values_query(names: tuple[str, ...]) -> DriverQuery:
    columns = [participants.c[name] for name in names]
    return DriverQuery(select(participants.c.id, *columns), participants.c.id)


def all_as_domain(conn: Connection) -> dict[int, Participant]:
    """Every participant by id, as the domain sees them (lists as tuples)."""
    from engine.domain.participants import Participant

    found: dict[int, Participant] = {}
    for row in conn.execute(select(participants)).mappings():
        values = {name: row[name] for name in Participant.model_fields}
        values.update({name: tuple(row[name] or ()) for name in LIST_FIELDS})
        found[int(row["id"])] = Participant.model_construct(**values)
    return found


def as_domain(
    conn: Connection, ids: Iterable[int], fields: Collection[str] | None = None
) -> dict[int, Participant]:
    """These participants by id, as the domain sees them (lists as tuples).

    ``fields``: only these are read (the others keep their defaults), for a check that reads no other.
    Read through the driver (each distinct list converted once), each built as ``model_construct``
    builds it from the same values: a batch of thousands skips pydantic's per field work.
    """
    from engine.domain.participants import Constructed, Participant

    names = tuple(name for name in Participant.model_fields if fields is None or name in fields)
    query, construct = _domain_query(names), Constructed(names, LIST_FIELDS)
    found: dict[int, Participant] = {}
    for part in chunks(sorted(set(ids))):
        for pid, *values in query.rows(conn, part):
            found[int(pid)] = construct(values)
    return found


@cache
def _domain_query(names: tuple[str, ...]) -> DriverQuery:
    columns = [participants.c[name] for name in names]
    return DriverQuery(select(participants.c.id, *columns), participants.c.id)


def reporting_lines(conn: Connection, external_ids: Iterable[str]) -> dict[str, str]:
    """external_id -> manager_id of these people and of everyone up their reporting lines.

    One query per level of the lines, not one over everyone: a batch pays for its own people.
    """
    found: dict[str, str] = {}
    todo = set(external_ids)
    while todo:
        level = [(e, m) for part in chunks(sorted(todo)) for e, m in _MANAGERS.rows(conn, part)]
        seen = set(todo) | set(found)
        found.update(level)
        todo = {manager for _, manager in level} - seen - set(found)
    return found


_MANAGERS = DriverQuery(
    select(participants.c.external_id, participants.c.manager_id).where(
        participants.c.manager_id.is_not(None)
    ),
    participants.c.external_id,
)
"""(external id, manager id) of the people with a manager, by external id: one level of reporting lines."""


def insert_participants(conn: Connection, rows: Sequence[Mapping[str, Any]], now: datetime) -> list[int]:
    """Insert participants (their column values each), all created ``now``, in one executemany; their
    new ids, in the order of ``rows`` (each row is told by its email, unique in the table)."""
    if not rows:
        return []
    stamped = [{**row, "created_at": now, "updated_at": now} for row in rows]
    statement = _INSERT_RETURNING_ID
    if conn.dialect.name == "sqlite":
        statement = _INSERT_RENDERED
        render, moment = _Renderer(conn.dialect), _rendered(conn, participants.c.created_at, now)
        for row in stamped:
            row.update((name, render(row[name])) for name in LIST_FIELDS)
            row.update(created_at=moment, updated_at=moment)
    ids = {str(email): int(pid) for pid, email in conn.execute(statement, stamped)}
    return [ids[str(row["email"])] for row in rows]


class _Rendered(TypeDecorator[str]):
    """A value given as its column's own type already rendered it for the database (once per batch)."""

    impl = String
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


def _rendered(conn: Connection, column: ColumnElement[Any], value: Any) -> Any:
    """``value`` as ``column``'s type renders it for this database."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return process(value) if process is not None else value


class _Renderer:
    """A JSON list's text as the JSON type renders it, once per distinct list (HR's lists recur)."""

    def __init__(self, dialect: Dialect) -> None:
        self._process = JSON().dialect_impl(dialect).bind_processor(dialect)
        self._rendered: dict[tuple[str, ...], Any] = {}

    def __call__(self, value: Sequence[str]) -> Any:
        key = tuple(value)
        text = self._rendered.get(key)
        if text is None:
            text = self._rendered[key] = self._process(value) if self._process else value
        return text


# Without sort_by_parameter_order: SQLite would insert one row per statement to keep the order; the ids
# are matched back to the rows by email instead.
_INSERT_RETURNING_ID = insert(participants).returning(participants.c.id, participants.c.email)
_INSERT_RENDERED = (
    insert(participants)
    .values({name: bindparam(name, type_=_Rendered()) for name in (*LIST_FIELDS, "created_at", "updated_at")})
    .returning(participants.c.id, participants.c.email)
)


def update_participants(
    conn: Connection, changes: Sequence[tuple[int, Mapping[str, Any]]], now: datetime
) -> None:
    """Set column values on participants, (id, values) each, one executemany per set of columns changed.

    A participant appears at most once in ``changes`` (a later change would depend on the earlier).
    """
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for pid, values in changes:
        by_columns.setdefault(tuple(values), []).append({"b_id": pid, **values, "updated_at": now})
    for rows in by_columns.values():
        conn.execute(_UPDATE_BY_ID, rows)


_UPDATE_BY_ID = update(participants).where(participants.c.id == bindparam("b_id"))
"""An update by id whose SET clause is the columns of its parameters (an executemany sets the same ones)."""


def update_participant(
    conn: Connection, participant_id: int, values: Mapping[str, Any], now: datetime
) -> None:
    """Set these column values on a participant."""
    conn.execute(
        update(participants).where(participants.c.id == participant_id).values(**values, updated_at=now)
    )


def mark_trained(conn: Connection, participant_id: int, now: datetime) -> None:
    """Record that a mentor finished the mentor training (the caller writes its participant entry)."""
    update_participant(conn, participant_id, {"trained": True}, now)


def trained_mentors(conn: Connection, mentor_ids: Iterable[int]) -> set[int]:
    """The trained ones of these mentors (read through the driver; no query for none)."""
    found: set[int] = set()
    for part in chunks(sorted(set(mentor_ids))):
        found.update(int(pid) for (pid,) in _TRAINED.rows(conn, part))
    return found


_TRAINED = DriverQuery(select(participants.c.id).where(participants.c.trained), participants.c.id)
"""The ids of the trained participants, by id."""


def relationship_ids_of(conn: Connection, participant_id: int) -> tuple[list[int], list[int]]:
    """The ids of the relationships with ``participant_id`` as mentee, and as mentor, in id order."""
    r = relationships.c
    query = select(r.id, r.mentee_id).where((r.mentee_id == participant_id) | (r.mentor_id == participant_id))
    rows = conn.execute(query.order_by(r.id)).all()
    return [int(i) for i, mentee in rows if mentee == participant_id], [
        int(i) for i, mentee in rows if mentee != participant_id
    ]


def relationship_phases(conn: Connection, participant_id: int, *, exclude: Iterable[str]) -> dict[int, str]:
    """The phase of each relationship of ``participant_id`` (as mentee or mentor) not in ``exclude``."""
    r = relationships.c
    query = select(r.id, r.phase).where(
        (r.mentee_id == participant_id) | (r.mentor_id == participant_id), r.phase.not_in(list(exclude))
    )
    return {int(i): str(phase) for i, phase in conn.execute(query)}


def open_relationship_ids(
    conn: Connection, participant_id: int, policy_name: str, terminal: Iterable[str]
) -> list[int]:
    """The open relationships of ``policy_name`` with ``participant_id`` as mentee or mentor, by id."""
    query = (
        select(relationships.c.id)
        .where(
            (relationships.c.mentee_id == participant_id) | (relationships.c.mentor_id == participant_id),
            relationships.c.policy_name == policy_name,
            relationships.c.phase.not_in(list(terminal)),
        )
        .order_by(relationships.c.id)
    )
    return [int(rel_id) for rel_id in conn.execute(query).scalars()]


def open_relationship_counts(
    conn: Connection, participant_ids: Iterable[int], terminal: Iterable[str]
) -> dict[int, int]:
    """Per participant (mentee or mentor), how many relationships of any program are not in ``terminal``."""
    counts: dict[int, int] = {}
    phases = list(terminal)
    for part in chunks(sorted(set(participant_ids))):
        for column in (relationships.c.mentee_id, relationships.c.mentor_id):
            query = (
                select(column, func.count())
                .where(column.in_(part), relationships.c.phase.not_in(phases))
                .group_by(column)
            )
            for pid, count in conn.execute(query):
                counts[int(pid)] = counts.get(int(pid), 0) + int(count)
    return counts


def set_status(conn: Connection, participant_id: int, status: str, now: datetime) -> None:
    """Set a participant's status: active, leave or left."""
    update_participant(conn, participant_id, {"status": status}, now)


def latest_relationships(conn: Connection, mentee_ids: Iterable[int]) -> dict[int, int]:
    """Per mentee, the id of their latest relationship in any program (absent: none yet)."""
    latest: dict[int, int] = {}
    for part in chunks(sorted(set(mentee_ids))):
        query = (
            select(relationships.c.mentee_id, func.max(relationships.c.id))
            .where(relationships.c.mentee_id.in_(part))
            .group_by(relationships.c.mentee_id)
        )
        latest.update((int(mentee), int(rel)) for mentee, rel in conn.execute(query))
    return latest


def open_relationships_of_mentees(
    conn: Connection, mentee_ids: Iterable[int], policy_name: str, terminal: Iterable[str]
) -> dict[int, int]:
    """Per mentee, an open relationship of ``policy_name`` they have (absent: none)."""
    found: dict[int, int] = {}
    for part in chunks(sorted(set(mentee_ids))):
        query = select(relationships.c.mentee_id, relationships.c.id).where(
            relationships.c.mentee_id.in_(part),
            relationships.c.policy_name == policy_name,
            relationships.c.phase.not_in(list(terminal)),
        )
        found.update((int(mentee), int(rel)) for mentee, rel in conn.execute(query))
    return found


def participants_by_refs(
    conn: Connection, refs: Collection[str], *, lock: bool = False
) -> dict[str, Row[Any]]:
    """:func:`participant_by_ref` of each of ``refs`` (an unknown reference is absent), in one query per
    slice of references; ``lock`` holds the rows found (PostgreSQL) until commit."""
    found: dict[str, Row[Any]] = {}
    for part in chunks(sorted(set(refs))):
        ids = [int(ref) for ref in part if ref.isascii() and ref.isdigit() and int(ref) <= INTEGER_MAX]
        matches = participants.c.external_id.in_(part) | participants.c.email.in_([r.lower() for r in part])
        if ids:
            matches = matches | participants.c.id.in_(ids)
        query = select(participants).where(matches)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = conn.execute(query).all()
        for ref in part:
            number = int(ref) if ref.isascii() and ref.isdigit() and int(ref) <= INTEGER_MAX else None
            exact = [r for r in rows if r.external_id == ref or r.email == ref.lower()]
            chosen = exact or [r for r in rows if number is not None and r.id == number]
            if chosen:
                found[ref] = chosen[0]
    return found
