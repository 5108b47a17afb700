"""What the coordinator pages read that no other reader does: a participant search with the pairs of
those found, the names of given pairs, and one pair's messages and records for its links' states.

Each reads what its page shows, in a fixed number of statements however large the program: the search
reads the participants once (a name *contains* the text, which no index serves) and the pairs of those
found by their mentee and mentor indexes; the names of the overdue pairs are read by the pairs' ids.
Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, RowMapping, func, or_, select

from engine.store.batches import chunks
from engine.store.reads import participant_row
from engine.store.records import retracted
from engine.store.tables import (
    meetings,
    outbox,
    outbox_deliveries,
    participants,
    relationships,
    survey_responses,
)

_ESCAPE = "\\"
_LARGEST_ID = 2**63 - 1
_mentee, _mentor = participants.alias("mentee"), participants.alias("mentor")


class PersonPair(NamedTuple):
    """A relationship of a person found: its id, phase, and its mentee's and mentor's ids and names."""

    id: int
    phase: str
    mentee_id: int
    mentor_id: int | None
    mentee: str
    mentor: str | None


class SentRow(NamedTuple):
    """An outbox row of a pair with the recipients (mentee, mentor, coordinator) it has reached."""

    id: int
    key: str
    action: str
    params: Mapping[str, Any]
    created_at: datetime
    status: str
    reached: frozenset[str]


def search_people(conn: Connection, wanted: str, limit: int, *, after: int = 0) -> list[dict[str, Any]]:
    """Up to ``limit`` participants, by id, whose id, external id or email is ``wanted`` or whose name
    contains it, compared casefolded (``wanted`` is casefolded already); every column, as
    :func:`engine.store.reads.participants_list` has them.

    The database's ``lower()`` folds ASCII letters only on SQLite (and on PostgreSQL under a ``C``
    ctype), so the statement asks for a little more (every other character of ``wanted`` matches any
    one character, a ``ß`` is read as ``ss``) and Python's ``casefold`` decides. A page with rows that
    did not match is followed by the next, by id, so ``limit`` matches are found if there are.
    ``after``: only participants with a greater id (the next page of a search).
    """
    condition = _search_condition(wanted)
    found: list[dict[str, Any]] = []
    while len(found) < limit:
        query = select(participants).where(condition, participants.c.id > after)
        rows = conn.execute(query.order_by(participants.c.id).limit(limit)).mappings().all()
        found += [participant_row(row) for row in rows if _matches(row, wanted)]
        if len(rows) < limit:
            break
        after = int(rows[-1]["id"])
    return found[:limit]


def _search_condition(wanted: str) -> ColumnElement[bool]:
    pattern = "".join(_like_char(char) for char in wanted)
    conditions: list[ColumnElement[bool]] = [
        _folded(participants.c.name).like(f"%{pattern}%", escape=_ESCAPE),
        _folded(participants.c.email).like(pattern, escape=_ESCAPE),
        _folded(participants.c.external_id).like(pattern, escape=_ESCAPE),
    ]
    if wanted.isascii() and wanted.isdigit() and str(int(wanted)) == wanted and int(wanted) <= _LARGEST_ID:
        conditions.append(participants.c.id == int(wanted))
    return or_(*conditions)


def _folded(column: Any) -> ColumnElement[str]:
    """``column`` lowered, with ``ß`` and ``ẞ`` as ``ss`` (as ``casefold`` has them)."""
    return func.lower(func.replace(func.replace(column, "ß", "ss"), "ẞ", "ss"))


def _like_char(char: str) -> str:
    """One character of a LIKE pattern: an ASCII one as itself (escaped), any other as ``_``."""
    if not char.isascii():
        return "_"
    return f"{_ESCAPE}{char}" if char in ("%", "_", _ESCAPE) else char


def _matches(row: RowMapping, wanted: str) -> bool:
    exact = {str(row["id"]), str(row["external_id"] or "").casefold(), str(row["email"] or "").casefold()}
    return wanted in exact or wanted in str(row["name"] or "").casefold()


_PAIR_COLUMNS = (
    relationships.c.id,
    relationships.c.phase,
    relationships.c.mentee_id,
    relationships.c.mentor_id,
    _mentee.c.name,
    _mentor.c.name,
)


def _named_pairs() -> Any:
    return (
        select(*_PAIR_COLUMNS)
        .join(_mentee, _mentee.c.id == relationships.c.mentee_id)
        .outerjoin(_mentor, _mentor.c.id == relationships.c.mentor_id)
    )


def pairs_of_people(conn: Connection, person_ids: Iterable[int]) -> list[PersonPair]:
    """Every relationship whose mentee or mentor is one of ``person_ids``, by id, with both names: one
    statement per slice of ids, by the mentee and mentor indexes."""
    wanted = sorted(set(person_ids))
    found: dict[int, PersonPair] = {}
    for part in chunks(wanted):
        r = relationships.c
        query = _named_pairs().where(or_(r.mentee_id.in_(part), r.mentor_id.in_(part)))
        found.update((int(row[0]), PersonPair(*row)) for row in conn.execute(query))
    return [found[rel_id] for rel_id in sorted(found)]


def pair_names(conn: Connection, rel_ids: Iterable[int]) -> dict[int, tuple[str, str | None]]:
    """The mentee's and mentor's names (``None``: no mentor yet) of each relationship of ``rel_ids`` that
    exists: one statement per slice of ids, by the relationships' key."""
    found: dict[int, tuple[str, str | None]] = {}
    for part in chunks(sorted(set(rel_ids))):
        query = _named_pairs().where(relationships.c.id.in_(part))
        found.update((int(row[0]), (str(row[4]), row[5])) for row in conn.execute(query))
    return found


def sent_rows(conn: Connection, rel_id: int, limit: int) -> list[SentRow]:
    """The newest ``limit`` outbox rows of relationship ``rel_id``, newest first, each with whom it has
    reached (its recorded deliveries): two statements."""
    columns = (outbox.c.id, outbox.c.idempotency_key, outbox.c.action, outbox.c.params,
               outbox.c.created_at, outbox.c.status)  # fmt: skip
    query = select(*columns).where(outbox.c.relationship_id == rel_id).order_by(outbox.c.id.desc())
    rows = conn.execute(query.limit(limit)).all()
    reached: dict[int, set[str]] = {}
    d = outbox_deliveries.c
    for part in chunks([int(row[0]) for row in rows]):
        for outbox_id, recipient in conn.execute(
            select(d.outbox_id, d.recipient).where(d.outbox_id.in_(part))
        ):
            reached.setdefault(int(outbox_id), set()).add(str(recipient))
    return [
        SentRow(int(i), key, action, params or {}, at, status, frozenset(reached.get(int(i), ())))
        for i, key, action, params, at, status in rows
    ]


class PairRecords(NamedTuple):
    """What was recorded for one pair and not taken back: (kind, recorded at) of each meeting and
    (survey, respondent, answered at, seq of its audit entry) of each survey answer, oldest first."""

    meetings: list[tuple[str, datetime]]
    answers: list[tuple[str, str, datetime, int | None]]


def pair_records(conn: Connection, rel_id: int) -> PairRecords:
    """The meetings and survey answers of relationship ``rel_id`` that were not retracted, by its index."""
    gone = retracted(conn, [rel_id])
    m, s = meetings.c, survey_responses.c
    held = conn.execute(
        select(m.kind, m.recorded_at, m.entry_seq).where(m.relationship_id == rel_id).order_by(m.recorded_at)
    ).all()
    answered = conn.execute(
        select(s.survey, s.respondent, s.answered_at, s.entry_seq)
        .where(s.relationship_id == rel_id)
        .order_by(s.answered_at)
    ).all()
    return PairRecords(
        [(str(kind), at) for kind, at, seq in held if (rel_id, seq) not in gone],
        [(str(name), str(who), at, seq) for name, who, at, seq in answered if (rel_id, seq) not in gone],
    )


def trained_people(conn: Connection, person_ids: Sequence[int]) -> dict[int, tuple[str, bool]]:
    """The name and whether they are trained of each participant of ``person_ids``, by id."""
    found: dict[int, tuple[str, bool]] = {}
    p = participants.c
    for part in chunks(sorted(set(person_ids))):
        for pid, name, trained in conn.execute(select(p.id, p.name, p.trained).where(p.id.in_(part))):
            found[int(pid)] = (str(name), bool(trained))
    return found
