"""The mentees' development goals: read in bulk, written, their progress changed.

A goal belongs to a relationship (its mentee's goals in that pair), in the order
it was set (its id). Every function takes the Connection of the caller's unit of
work and never commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from engine.policy.vocabulary import GOAL_PROGRESS
from engine.store.batches import chunks
from engine.store.rendered import DriverQuery, DriverStatement
from engine.store.tables import audit_entries, goals, participants, relationships


def goal_fact(goal_id: int, program_goal: str | None, target: date | None) -> dict[str, Any]:
    """What the ``set_goal`` entry of a goal holds: no title, which is the mentee's own words."""
    return {"goal": {"id": goal_id, "program_goal": program_goal, "target": target and target.isoformat()}}


def level_fact(
    goal_id: int, level: str, was: str, *, survey: str | None = None, answer: int | None = None,
    retracted: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """What a ``goal_progress`` entry holds: the goal, its level and the level it had. One the mentee's
    answer to a survey gave names the ``survey`` and the seq of the ``answer``'s entry; one that puts
    a goal back because that answer was retracted names the ``retracted`` entry."""
    goal: dict[str, Any] = {"id": goal_id, "level": level, "was": was}
    if survey is not None:
        goal.update(survey=survey, answer=answer)
    if retracted is not None:
        goal["retracted"] = retracted
    return {"goal": goal}


def answer_reverts(conn: Connection, rel_id: int, answer: int) -> list[tuple[int, str, str]]:
    """(goal id, level now, level before) of each goal of the relationship whose level is still the one
    the survey answer of entry ``answer`` gave it (no later change): what retracting it puts back."""
    query = (
        select(audit_entries.c.data)
        .where(audit_entries.c.relationship_id == rel_id, audit_entries.c.trigger == GOAL_PROGRESS)
        .order_by(audit_entries.c.seq)
    )
    latest: dict[int, dict[str, Any]] = {}
    for (data,) in conn.execute(query):
        goal = (data or {}).get("goal") or {}
        latest[goal["id"]] = goal
    return [(gid, goal["level"], goal["was"]) for gid, goal in latest.items() if goal.get("answer") == answer]


@dataclass(frozen=True)
class GoalRow:
    """One development goal as stored."""

    id: int
    relationship_id: int
    title: str
    program_goal: str | None
    target_date: date | None
    status: str
    set_by: str | None
    created_at: datetime
    updated_at: datetime | None
    reached_at: datetime | None


_g = goals.c
_GOAL_ROWS = DriverQuery(
    select(_g.id, _g.relationship_id, _g.text, _g.program_goal, _g.target_date, _g.status, _g.set_by,
           _g.created_at, _g.updated_at, _g.reached_at).order_by(_g.relationship_id, _g.id),
    _g.relationship_id,
)  # fmt: skip
"""The columns of a :class:`GoalRow`, in its order: built once, read through the driver."""


def goal_rows(conn: Connection, rel_ids: Sequence[int]) -> dict[int, list[GoalRow]]:
    """Per relationship of ``rel_ids`` that has any, its development goals in the order they were set."""
    found: dict[int, list[GoalRow]] = {}
    for part in chunks(sorted(set(rel_ids))):
        for row in _GOAL_ROWS.rows(conn, part):
            found.setdefault(int(row[1]), []).append(GoalRow(*row))
    return found


def goal_counts(conn: Connection, rel_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per relationship of ``rel_ids`` that has goal records: (how many, how many reached)."""
    g = goals.c
    reached = func.sum((g.status == "reached").cast(goals.c.id.type))
    found: dict[int, tuple[int, int]] = {}
    for part in chunks(sorted(set(rel_ids))):
        query = select(g.relationship_id, func.count(), reached).where(g.relationship_id.in_(part))
        for rel_id, count, done in conn.execute(query.group_by(g.relationship_id)):
            found[int(rel_id)] = (int(count), int(done or 0))
    return found


def goal_facts(conn: Connection, rel_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per relationship: (development goals set, how many reached), counting its goal records, or for one
    without any the goals of the mentee's profile (none of them reached)."""
    found = goal_counts(conn, rel_ids)
    rest = [r for r in rel_ids if r not in found]
    found.update((rel_id, (len(titles), 0)) for rel_id, titles in _profile_goals(conn, rest).items())
    return found


def mentee_goals(conn: Connection, rel_ids: Sequence[int]) -> dict[int, list[str]]:
    """Per relationship, the titles of its mentee's development goals, in order: its goal records, or for a
    relationship without any (one begun before goals were records) the goals of the mentee's profile."""
    titles = {rel_id: [row.title for row in rows] for rel_id, rows in goal_rows(conn, rel_ids).items()}
    titles.update(_profile_goals(conn, [r for r in rel_ids if r not in titles]))
    return titles


def _profile_goals(conn: Connection, rel_ids: Sequence[int]) -> dict[int, list[str]]:
    """Per relationship of ``rel_ids``, the goals of its mentee's profile (the participants file's)."""
    found: dict[int, list[str]] = {}
    for part in chunks(sorted(set(rel_ids))):
        query = (
            select(relationships.c.id, participants.c.goals)
            .join(participants, participants.c.id == relationships.c.mentee_id)
            .where(relationships.c.id.in_(part))
        )
        found.update((int(rid), list(goals or [])) for rid, goals in conn.execute(query))
    return found


def profile_goals_of(conn: Connection, participant_ids: Sequence[int]) -> dict[int, list[str]]:
    """Per participant of ``participant_ids``, the goals their profile names (the participants file's)."""
    found: dict[int, list[str]] = {}
    for part in chunks(sorted(set(participant_ids))):
        query = select(participants.c.id, participants.c.goals).where(participants.c.id.in_(part))
        found.update((int(pid), list(goals or [])) for pid, goals in conn.execute(query))
    return found


def open_relationships_of_mentees(
    conn: Connection, mentee_ids: Sequence[int], policy_name: str, terminal: Sequence[str]
) -> dict[int, int]:
    """The open relationships of ``policy_name`` whose mentee is one of ``mentee_ids``: id -> mentee id."""
    r = relationships.c
    found: dict[int, int] = {}
    for part in chunks(sorted(set(mentee_ids))):
        query = select(r.id, r.mentee_id).where(
            r.mentee_id.in_(part), r.policy_name == policy_name, r.phase.not_in(list(terminal))
        )
        found.update((int(rel_id), int(mentee)) for rel_id, mentee in conn.execute(query))
    return found


def insert_goals(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert goal rows (``relationship_id``, ``text``, ``program_goal``, ``target_date``, ``status``,
    ``set_by``, ``created_at``); returns their ids in order."""
    if not rows:
        return []
    keys = [(row["relationship_id"], row["text"]) for row in rows]
    if len(set(keys)) == len(keys):  # one statement per page of rows; ids matched back by pair and title
        statement = insert(goals).returning(goals.c.id, goals.c.relationship_id, goals.c.text)
        ids = {(int(rel), text): int(gid) for gid, rel, text in conn.execute(statement, list(rows))}
        return [ids[key] for key in keys]
    statement = insert(goals).returning(goals.c.id, sort_by_parameter_order=True)
    return [int(gid) for gid in conn.execute(statement, list(rows)).scalars()]


GOAL_COLUMNS = (
    "relationship_id", "text", "program_goal", "target_date", "status", "set_by", "created_at", "entry_seq",
)  # fmt: skip
_NEW_GOALS = DriverStatement(goals.insert(), GOAL_COLUMNS)


def insert_first_goals(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert the first goals of relationships that have none yet (new ones: an import's), in one driver
    call, each title once per relationship; their ids in order, read back by relationship and title."""
    _NEW_GOALS.execute(conn, [tuple(row[name] for name in GOAL_COLUMNS) for row in rows])
    g = goals.c
    ids: dict[tuple[int, str], int] = {}
    for part in chunks(sorted({int(row["relationship_id"]) for row in rows})):
        query = select(g.id, g.relationship_id, g.text).where(g.relationship_id.in_(part))
        ids.update(((int(rel), str(text)), int(gid)) for gid, rel, text in conn.execute(query))
    return [ids[(int(row["relationship_id"]), str(row["text"]))] for row in rows]


def set_entry_seqs(conn: Connection, seqs: Sequence[tuple[int, int]]) -> None:
    """Note, per (goal id, seq), the audit entry that set the goal."""
    if seqs:
        query = update(goals).where(goals.c.id == bindparam("gid")).values(entry_seq=bindparam("seq"))
        conn.execute(query, [{"gid": gid, "seq": seq} for gid, seq in seqs])


def set_levels(conn: Connection, levels: Sequence[tuple[int, str]], now: datetime) -> None:
    """Give each goal of (goal id, level) its new level; one reached now is reached ``now``."""
    if not levels:
        return
    reached = [{"gid": gid, "status": level, "now": now} for gid, level in levels if level == "reached"]
    other = [{"gid": gid, "status": level, "now": now} for gid, level in levels if level != "reached"]
    if reached:
        conn.execute(_REACHED, reached)
    if other:
        conn.execute(_LEVEL, other)


_NOW = bindparam("now", type_=goals.c.updated_at.type)
_SET_LEVEL = update(goals).where(goals.c.id == bindparam("gid"))
_REACHED = _SET_LEVEL.values(status=bindparam("status"), updated_at=_NOW, reached_at=_NOW)
_LEVEL = _SET_LEVEL.values(status=bindparam("status"), updated_at=_NOW, reached_at=None)
"""Built once: a goal's level changes with one of these two statements."""
