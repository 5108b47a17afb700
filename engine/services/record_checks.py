"""``audit verify``'s cross-check of the records: every meeting and survey answer row against the chained
entry that recorded it.

Each row names the seq of its entry (``entry_seq``). A row whose entry says
something else (the kind, the day, the survey, the respondent, an answer), a
row no entry recorded, and an entry whose row is gone are each named. Free
text is never in the chain, so it is not compared: it may be erased.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.domain.audit import Problem
from engine.policy.vocabulary import RECORD_MEETING, RECORD_SURVEY
from engine.store import records

if TYPE_CHECKING:
    from sqlalchemy import Connection

_WHAT = {RECORD_MEETING: "meeting", RECORD_SURVEY: "survey answer"}


def check_records(conn: Connection) -> list[Problem]:
    """What differs between the meeting and answer rows and the entries that recorded them."""
    entries = records.recording_entries(conn)
    rows: list[tuple[str, int, int, int | None, dict[str, Any]]] = [
        (RECORD_MEETING, row_id, rid, seq, records.meeting_fact(kind, held_on))
        for row_id, rid, kind, held_on, seq in records.all_meetings(conn)
    ]
    rows += [
        (RECORD_SURVEY, row_id, rid, seq, records.answer_fact(survey, who, answers))
        for row_id, rid, survey, who, answers, seq in records.all_answers(conn)
    ]
    problems: list[Problem] = []
    claimed: set[tuple[int, int]] = set()
    for trigger, row_id, rid, seq, fact in rows:
        what = f"{_WHAT[trigger]} row {row_id}"
        entry = entries.get((rid, seq)) if seq is not None else None
        if seq is None or entry is None or entry[0] != trigger or (rid, seq) in claimed:
            problems.append(Problem(rid, seq, f"{what} has no entry that recorded it"))
            continue
        claimed.add((rid, seq))
        if entry[1] != fact:
            problems.append(
                Problem(rid, seq, f"{what} differs from the entry that recorded it: {_diff(entry[1], fact)}")
            )
    for (rid, seq), (trigger, _) in sorted(entries.items()):
        if (rid, seq) not in claimed:
            problems.append(Problem(rid, seq, f"recorded a {_WHAT[trigger]} whose row is gone"))
    return sorted(problems, key=lambda p: (p.relationship_id, p.seq or 0))


def _diff(recorded: dict[str, Any], stored: dict[str, Any]) -> str:
    """``held_on: the entry says X, the row Y`` for each field that differs."""
    said: dict[str, Any] = next(iter(recorded.values()), {})
    row: dict[str, Any] = next(iter(stored.values()))
    parts = []
    for name in sorted(set(said) | set(row)):
        if said.get(name) != row.get(name):
            parts.append(f"{name}: the entry says {said.get(name)!r}, the row {row.get(name)!r}")
    return "; ".join(parts) or "its data differs"
