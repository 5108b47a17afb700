"""Everything the store holds about one participant, read for an access request (GDPR art. 15).

Each function reads the rows of one table that concern the person, by the indexes on the person's id
or their relationships' ids. Rows are returned whole, as the store holds them, except where a column
of the row is about someone else (a proposal's explanation names the other candidates; it is left
out). Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, or_, select

from engine.store.batches import chunks
from engine.store.tables import (
    audit_entries,
    goals,
    link_revocations,
    match_proposals,
    meetings,
    outbox,
    outbox_deliveries,
    participant_entries,
    relationships,
    session_invitations,
    survey_responses,
    training_reports,
)


def _rows(conn: Connection, table: Table, *where: Any, omit: Sequence[str] = ()) -> list[dict[str, Any]]:
    columns = [c for c in table.columns if c.name not in omit]
    query = select(*columns).where(*where).order_by(*table.primary_key)
    return [dict(row) for row in conn.execute(query).mappings()]


def _by_pairs(conn: Connection, table: Table, rel_ids: Sequence[int], *where: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for part in chunks(sorted(rel_ids)):
        found += _rows(conn, table, table.c.relationship_id.in_(part), *where)
    return found


def person_rows(conn: Connection, person_id: int, email: str) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table that concern participant ``person_id`` (whose address is ``email``)."""
    r = relationships.c
    pairs = _rows(conn, relationships, or_(r.mentee_id == person_id, r.mentor_id == person_id))
    mentee_of = [int(p["id"]) for p in pairs if p["mentee_id"] == person_id]
    mentor_of = [int(p["id"]) for p in pairs if p["mentor_id"] == person_id]
    ids = mentee_of + mentor_of
    role = {**{i: "mentee" for i in mentee_of}, **{i: "mentor" for i in mentor_of}}
    answers = [
        a for a in _by_pairs(conn, survey_responses, ids) if a["respondent"] == role[a["relationship_id"]]
    ]
    other = {i: "mentor" if side == "mentee" else "mentee" for i, side in role.items()}
    messages = [  # to them, or to the coordinator about them; not those to the other side of a pair
        m
        for m in _by_pairs(conn, outbox, ids)
        if (m["params"] or {}).get("recipient") != other[m["relationship_id"]]
    ]
    sent = {int(m["id"]) for m in messages}
    d = outbox_deliveries.c
    deliveries = [
        row for row in _rows(conn, outbox_deliveries, d.address == email) if int(row["outbox_id"]) in sent
    ]
    m = match_proposals.c
    proposals = _rows(
        conn, match_proposals, or_(m.mentee_id == person_id, m.mentor_id == person_id), omit=("explanation",)
    )
    v = link_revocations.c
    revoked = _rows(
        conn, link_revocations, or_(v.participant_id == person_id, v.relationship_id.in_(ids or [0]))
    )
    return {
        "history": _rows(conn, participant_entries, participant_entries.c.participant_id == person_id),
        "relationships": pairs,
        "audit_entries": _by_pairs(conn, audit_entries, ids),
        "goals": _by_pairs(conn, goals, mentee_of),
        "meetings": _by_pairs(conn, meetings, ids),
        "survey_responses": answers,
        "messages": messages,
        "deliveries": deliveries,
        "match_proposals": proposals,
        "link_revocations": revoked,
        "training_reports": _rows(conn, training_reports, training_reports.c.participant_id == person_id),
        "session_invitations": _rows(
            conn, session_invitations, session_invitations.c.participant_id == person_id
        ),
    }
