"""Erasing what the store holds about people: the free text of relationships, a participant's row.

Set-based updates, in chunks of ids. Every function takes the Connection of the caller's unit of
work and never commits; :mod:`engine.services.erasure` decides what is erased and records it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from engine.domain.erasure import Redaction
from engine.errors import ConflictError
from engine.store.batches import chunks
from engine.store.outbox import SENDING, skip_unsent_where
from engine.store.retention import personal_params, without_personal_params
from engine.store.tables import (
    LIST_FIELDS,
    api_requests,
    audit_entries,
    goals,
    link_revocations,
    match_proposals,
    meetings,
    outbox,
    outbox_deliveries,
    participants,
    relationships,
    survey_responses,
    training_reports,
)

ERASED_GOAL = "(erased)"
"""What a goal's text becomes: the goal is still counted, reached or not."""


def chains(conn: Connection, rel_ids: Collection[int]) -> dict[int, list[dict[str, Any]]]:
    """The audit entries of each relationship of ``rel_ids``, in chain order."""
    found: dict[int, list[dict[str, Any]]] = {rid: [] for rid in rel_ids}
    e = audit_entries.c
    for part in chunks(sorted(rel_ids)):
        query = select(audit_entries).where(e.relationship_id.in_(part)).order_by(e.relationship_id, e.id)
        for row in conn.execute(query).mappings():
            found[int(row["relationship_id"])].append(dict(row))
    return found


def versions(conn: Connection, rel_ids: Collection[int]) -> dict[int, int]:
    """The version of each relationship of ``rel_ids`` (an unknown id is absent), the rows locked until
    commit (PostgreSQL), so that nothing else appends to their chains meanwhile."""
    r = relationships.c
    found: dict[int, int] = {}
    for part in chunks(sorted(rel_ids)):
        query = select(r.id, r.version).where(r.id.in_(part))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        found.update((int(i), int(version)) for i, version in conn.execute(query))
    return found


def redact(conn: Connection, done: Iterable[Redaction]) -> int:
    """Erase the reasons (text and salt) of the entries of ``done`` and set their redacted data."""
    rows = [{"b_id": r.entry_id, "b_data": r.data} for r in done]
    if rows:
        statement = (
            update(audit_entries)
            .where(audit_entries.c.id == bindparam("b_id"))
            .values(reason=None, reason_salt=None, data=bindparam("b_data"))
        )
        conn.execute(statement, rows)
    return len(rows)


def advance_heads(conn: Connection, moved: Sequence[tuple[int, int, int, str]]) -> None:
    """(relationship, version read, new seq, new head) of each chain that got an entry; ConflictError if
    a relationship changed meanwhile."""
    r = relationships.c
    statement = (
        update(relationships)
        .where(r.id == bindparam("b_id"), r.version == bindparam("b_version"))
        .values(audit_seq=bindparam("b_seq"), audit_head=bindparam("b_head"), version=r.version + 1)
    )
    rows = [{"b_id": i, "b_version": v, "b_seq": s, "b_head": h} for i, v, s, h in moved]
    if rows and conn.execute(statement, rows).rowcount != len(rows):
        raise ConflictError("a relationship was changed by another writer meanwhile; nothing was erased")


def erase_texts(conn: Connection, rel_ids: Collection[int], *, goals_too: bool) -> dict[str, int]:
    """Erase the free text of ``rel_ids`` outside their chains: meetings' notes, survey answers' free
    text, the reasons of rejected proposals and of revoked links, the words of help requests and
    the channels' errors in their messages; with ``goals_too`` the mentee's goals' texts as well.
    How many of each were erased."""
    counts = dict.fromkeys(("meeting_notes", "survey_text", "goals", "reasons", "messages"), 0)
    for part in chunks(sorted(rel_ids)):
        counts["meeting_notes"] += _nulled(conn, meetings, "notes", meetings.c.relationship_id.in_(part))
        answers = survey_responses.c
        counts["survey_text"] += _nulled(
            conn, survey_responses, "free_text", answers.relationship_id.in_(part)
        )
        if goals_too:
            query = update(goals).where(goals.c.relationship_id.in_(part), goals.c.text != ERASED_GOAL)
            counts["goals"] += conn.execute(query.values(text=ERASED_GOAL)).rowcount
        counts["reasons"] += _nulled(
            conn, match_proposals, "reason", match_proposals.c.relationship_id.in_(part)
        )
        counts["reasons"] += _nulled(
            conn, link_revocations, "reason", link_revocations.c.relationship_id.in_(part)
        )
        counts["messages"] += clear_messages(conn, outbox.c.relationship_id.in_(part))
    return counts


def clear_messages(conn: Connection, where: Any) -> int:
    """Take the personal parts out of the outbox rows ``where`` selects, as retention does with settled ones
    (:func:`engine.store.retention.without_personal_params`: a leaver's id, a help request's words; and
    the channel's last error, which may quote an address), but for a row a worker is sending now; no
    message needs them to be sent. How many rows changed."""
    o, dialect = outbox.c, conn.dialect.name
    statement = (
        update(outbox)
        .where(where, o.status != SENDING, personal_params(dialect) | o.last_error.is_not(None))
        .values(params=without_personal_params(dialect), last_error=None)
    )
    return int(conn.execute(statement).rowcount)


def _nulled(conn: Connection, table: Any, column: str, where: Any) -> int:
    """Set ``column`` of the rows ``where`` selects to NULL; how many held something."""
    statement = update(table).where(where, table.c[column].is_not(None)).values({column: None})
    return int(conn.execute(statement).rowcount)


def unsent_to(conn: Connection, mentee_of: Collection[int], mentor_of: Collection[int], note: str) -> int:
    """Skip the messages not yet sent to the person in their relationships (as mentee of ``mentee_of``,
    as mentor of ``mentor_of``): there is no address to send them to any more."""
    skipped = 0
    for role, ids in (("mentee", mentee_of), ("mentor", mentor_of)):
        for part in chunks(sorted(ids)):
            skipped += len(skip_unsent_where(conn, outbox.c.relationship_id.in_(part), role, note))
    return skipped


def pseudonymise(conn: Connection, person_id: int, email: str, now: datetime) -> None:
    """Replace every personal field of participant ``person_id`` by a pseudonym or nothing; the person
    is ``left`` and ``erased_at`` now. Their deliveries' addresses and their training reports' reasons go
    too. The row stays, so relationships, reports and metrics still count them."""
    values: dict[str, Any] = {
        "external_id": None, "name": f"Erased participant {person_id}",
        "email": f"erased-{person_id}@erased.invalid", "department": None, "manager_id": None,
        "level": None, "timezone": None, "status": "left", "erased_at": now, "updated_at": now,
        **{key: [] for key in LIST_FIELDS},
    }  # fmt: skip
    conn.execute(update(participants).where(participants.c.id == person_id).values(values))
    d = outbox_deliveries.c
    conn.execute(update(outbox_deliveries).where(d.address == email).values(address=None))
    reports = training_reports.c
    _nulled(conn, training_reports, "reason", reports.participant_id == person_id)
    _nulled(conn, link_revocations, "reason", link_revocations.c.participant_id == person_id)


def forget_requests(conn: Connection, said: Collection[str]) -> int:
    """Delete the kept answers of API requests that mention any of ``said`` (a name, an address, an id)."""
    wanted = [text for text in said if text]
    doomed = [
        int(row.id)
        for row in conn.execute(select(api_requests.c.id, api_requests.c.body))
        if row.body is not None and any(text in _text(row.body) for text in wanted)
    ]
    for part in chunks(doomed):
        conn.execute(delete(api_requests).where(api_requests.c.id.in_(part)))
    return len(doomed)


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def proposals_naming(conn: Connection, keys: Collection[str]) -> list[tuple[int, Any]]:
    """(id, explanation) of the proposals whose explanation holds one of ``keys`` (a key, a name), whole
    or inside a text."""
    m = match_proposals.c
    wanted = [_text(key)[1:-1] for key in keys if key]  # as the JSON of the explanation writes it
    found = []
    for row in conn.execute(select(m.id, m.explanation)):
        text = _text(row.explanation)
        if any(key in text for key in wanted):
            found.append((int(row.id), row.explanation))
    return found


def clear_breakdowns(conn: Connection, person_id: int) -> int:
    """Drop the details of the score breakdowns of the proposals with ``person_id`` as mentee or mentor
    (they quote skills, goals and wishes); the scores stay. How many proposals changed."""
    m = match_proposals.c
    query = select(m.id, m.breakdown).where((m.mentee_id == person_id) | (m.mentor_id == person_id))
    rows = []
    for row in conn.execute(query):
        breakdown = dict(row.breakdown or {})
        criteria = [{**c, "detail": None} for c in breakdown.get("criteria") or ()]
        if criteria != breakdown.get("criteria", []):
            rows.append({"b_id": row.id, "b_breakdown": {**breakdown, "criteria": criteria}})
    if rows:
        statement = update(match_proposals).where(m.id == bindparam("b_id"))
        conn.execute(statement.values(breakdown=bindparam("b_breakdown")), rows)
    return len(rows)


def set_explanations(conn: Connection, rows: Sequence[tuple[int, Any]]) -> None:
    """Write each (proposal id, explanation)."""
    statement = update(match_proposals).where(match_proposals.c.id == bindparam("b_id"))
    if rows:
        conn.execute(statement.values(explanation=bindparam("b_x")), [{"b_id": i, "b_x": x} for i, x in rows])
