"""Group sessions in the store: the sessions planned, who is invited, and who attended.

Every function takes the Connection of the caller's unit of work and never commits
(:mod:`engine.services.sessions` decides what one transaction is). A session is one
``group_sessions`` row per group of one date of a series; an invitation one
``session_invitations`` row per person, ``attended`` NULL until it is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.errors import ConflictError
from engine.store.batches import chunks
from engine.store.tables import group_sessions, participants, relationships, session_invitations

ConflictText = "another `sessions plan` wrote these sessions meanwhile; nothing was written (run it again)"


@dataclass(frozen=True)
class SessionRow:
    """One group of one planned session."""

    id: int
    policy_name: str
    series: str
    group_no: int
    starts_at: datetime
    minutes: int
    place: str | None


@dataclass(frozen=True)
class Invitation:
    """Someone invited to a session, and whether they attended (``None``: not recorded yet)."""

    id: int
    session_id: int
    participant_id: int
    relationship_id: int
    role: str
    invited_at: datetime
    attended: bool | None
    recorded_at: datetime | None
    recorded_by: str | None


@dataclass(frozen=True)
class Attendance:
    """An invitation as the report reads it: the session, its series and start, the role, attended."""

    session_id: int
    series: str
    starts_at: datetime
    role: str
    participant_id: int
    attended: bool | None


@dataclass(frozen=True)
class OpenPair:
    """A pair whose people a series may invite: its id, phase, mentee and mentor (``None``: none yet)."""

    id: int
    phase: str
    mentee_id: int
    mentor_id: int | None


_S, _I = group_sessions.c, session_invitations.c
_SESSION_COLUMNS = (_S.id, _S.policy_name, _S.series, _S.group_no, _S.starts_at, _S.minutes, _S.place)
_INVITATION_COLUMNS = (
    _I.id, _I.session_id, _I.participant_id, _I.relationship_id, _I.role, _I.invited_at, _I.attended,
    _I.recorded_at, _I.recorded_by,
)  # fmt: skip


def open_pairs(conn: Connection, policy_name: str, phases: Sequence[str]) -> list[OpenPair]:
    """The relationships of ``policy_name`` in ``phases`` whose mentee is active (not on leave or gone)."""
    r, p = relationships.c, participants.c
    query = (
        select(r.id, r.phase, r.mentee_id, r.mentor_id)
        .join(participants, p.id == r.mentee_id)
        .where(r.policy_name == policy_name, r.phase.in_(list(phases)), p.status == "active")
        .order_by(r.id)
    )
    return [OpenPair(*row) for row in conn.execute(query)]


def any_in(conn: Connection, policy_name: str, phases: Sequence[str]) -> bool:
    """Whether any relationship of ``policy_name`` is in one of ``phases``."""
    r = relationships.c
    query = select(r.id).where(r.policy_name == policy_name, r.phase.in_(list(phases))).limit(1)
    return conn.execute(query).first() is not None


def active_people(conn: Connection, ids: Iterable[int]) -> set[int]:
    """Those of ``ids`` who are active participants (not on leave, not gone)."""
    found: set[int] = set()
    for part in chunks(sorted(set(ids))):
        query = select(participants.c.id).where(
            participants.c.id.in_(part), participants.c.status == "active"
        )
        found.update(conn.execute(query).scalars())
    return found


def planned_starts(conn: Connection, policy_name: str, series: str) -> list[datetime]:
    """The starts of the sessions of ``series`` planned under ``policy_name``, earliest first."""
    query = (
        select(_S.starts_at)
        .where(_S.policy_name == policy_name, _S.series == series)
        .distinct()
        .order_by(_S.starts_at)
    )
    return list(conn.execute(query).scalars())


def sessions_at(conn: Connection, policy_name: str, series: str, start: datetime) -> list[SessionRow]:
    """The groups of the session of ``series`` that starts at ``start``, by group number."""
    query = (
        select(*_SESSION_COLUMNS)
        .where(_S.policy_name == policy_name, _S.series == series, _S.starts_at == start)
        .order_by(_S.group_no)
    )
    return [SessionRow(*row) for row in conn.execute(query)]


def groups_of(conn: Connection, session_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per participant invited to one of ``session_ids``: (session id, group number)."""
    found: dict[int, tuple[int, int]] = {}
    for part in chunks(sorted(set(session_ids))):
        query = (
            select(_I.participant_id, _I.session_id, _S.group_no)
            .join(group_sessions, _S.id == _I.session_id)
            .where(_I.session_id.in_(part))
        )
        found.update((pid, (sid, group)) for pid, sid, group in conn.execute(query))
    return found


def previous_groups(conn: Connection, policy_name: str, series: str, before: datetime) -> dict[int, int]:
    """The group each person had at the last session of ``series`` before ``before``."""
    latest = (
        select(func.max(_S.starts_at))
        .where(_S.policy_name == policy_name, _S.series == series, _S.starts_at < before)
        .scalar_subquery()
    )
    query = (
        select(_I.participant_id, _S.group_no)
        .join(group_sessions, _S.id == _I.session_id)
        .where(_S.policy_name == policy_name, _S.series == series, _S.starts_at == latest)
    )
    return {pid: group for pid, group in conn.execute(query)}


def insert_session(conn: Connection, row: dict[str, Any]) -> int:
    """Insert one group of a session; ConflictError if another writer planned the same group meanwhile."""
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(group_sessions).returning(_S.id), row).scalar_one()
    except IntegrityError:
        raise ConflictError(ConflictText) from None
    return int(new_id)


def insert_invitations(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert invitations; ConflictError if someone of them was invited to their session meanwhile."""
    if not rows:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(session_invitations), rows)
    except IntegrityError:
        raise ConflictError(ConflictText) from None


_SESSION = select(*_SESSION_COLUMNS).where(_S.id == bindparam("session_id"))
_INVITATION = select(*_INVITATION_COLUMNS).where(
    _I.session_id == bindparam("session_id"), _I.participant_id == bindparam("participant_id")
)
_SET_ATTENDANCE = (
    update(session_invitations)
    .where(_I.id == bindparam("invitation_id"))
    .values({name: bindparam(name, type_=_I[name].type)
             for name in ("attended", "recorded_at", "recorded_by", "entry_seq")})
)  # fmt: skip
"""Built once: recording a day's attendance runs the same three statements for each person."""


def session(conn: Connection, session_id: int) -> SessionRow | None:
    """One group of a session by id."""
    row = conn.execute(_SESSION, {"session_id": session_id}).first()
    return None if row is None else SessionRow(*row)


def invitation(
    conn: Connection, session_id: int, participant_id: int, *, lock: bool = False
) -> Invitation | None:
    """The invitation of ``participant_id`` to ``session_id``; ``lock`` holds it (PostgreSQL)."""
    query = _INVITATION.with_for_update() if lock and conn.dialect.name == "postgresql" else _INVITATION
    row = conn.execute(query, {"session_id": session_id, "participant_id": participant_id}).first()
    return None if row is None else Invitation(*row)


def set_attendance(
    conn: Connection, invitation_id: int, attended: bool, now: datetime, by: str, entry_seq: int
) -> None:
    """Record whether the invited person attended (or correct what was recorded)."""
    values = {"attended": attended, "recorded_at": now, "recorded_by": by, "entry_seq": entry_seq}
    conn.execute(_SET_ATTENDANCE, {"invitation_id": invitation_id, **values})


def invitations_through(
    conn: Connection, relationship_id: int, participant_id: int
) -> list[tuple[SessionRow, Invitation]]:
    """The sessions ``participant_id`` was invited to through ``relationship_id``, earliest first."""
    query = (
        select(*_SESSION_COLUMNS, *_INVITATION_COLUMNS)
        .join(session_invitations, _I.session_id == _S.id)
        .where(_I.relationship_id == relationship_id, _I.participant_id == participant_id)
        .order_by(_S.starts_at, _S.id)
    )
    width = len(_SESSION_COLUMNS)
    return [(SessionRow(*row[:width]), Invitation(*row[width:])) for row in conn.execute(query)]


def session_overview(conn: Connection, policy_name: str, since: datetime | None) -> list[dict[str, Any]]:
    """Every group of the sessions of ``policy_name`` (from ``since`` on), with how many were invited,
    how many attended and how many were recorded absent."""
    attended = func.sum(case((_I.attended.is_(True), 1), else_=0))
    absent = func.sum(case((_I.attended.is_(False), 1), else_=0))
    query = (
        select(*_SESSION_COLUMNS, func.count(_I.id), attended, absent)
        .outerjoin(session_invitations, _I.session_id == _S.id)
        .where(_S.policy_name == policy_name)
        .group_by(*_SESSION_COLUMNS)
        .order_by(_S.starts_at, _S.series, _S.group_no)
    )
    if since is not None:
        query = query.where(_S.starts_at >= since)
    names = (
        "id",
        "policy",
        "series",
        "group",
        "starts_at",
        "minutes",
        "place",
        "invited",
        "attended",
        "absent",
    )
    return [
        {**dict(zip(names, row, strict=True)), "attended": int(row[8] or 0), "absent": int(row[9] or 0)}
        for row in conn.execute(query)
    ]


def attendance_by_relationship(conn: Connection, rel_ids: Iterable[int]) -> dict[int, list[Attendance]]:
    """Per relationship of ``rel_ids``: the invitations through it, earliest session first, and whether
    each person attended (``None``: not recorded). A relationship without invitations is absent."""
    found: dict[int, list[Attendance]] = {}
    for part in chunks(sorted(set(rel_ids))):
        query = (
            select(
                _I.relationship_id, _S.id, _S.series, _S.starts_at, _I.role, _I.participant_id, _I.attended
            )
            .join(group_sessions, _S.id == _I.session_id)
            .where(and_(_I.relationship_id.in_(part)))
            .order_by(_I.relationship_id, _S.starts_at, _S.id, _I.role)
        )
        for rel_id, *rest in conn.execute(query):
            found.setdefault(rel_id, []).append(Attendance(*rest))
    return found


def unrecorded(
    conn: Connection, policy_name: str, since: datetime, until: datetime
) -> list[tuple[Attendance, int]]:
    """The invitations to the sessions of ``policy_name`` that began from ``since`` until ``until`` whose
    attendance is not recorded yet, each with its relationship, earliest session first."""
    values = {"policy_name": policy_name, "since": since, "until": until}
    return [(Attendance(*row[:6]), int(row[6])) for row in conn.execute(_UNRECORDED, values)]


_UNRECORDED = (
    select(_I.session_id, _S.series, _S.starts_at, _I.role, _I.participant_id, _I.attended,
           _I.relationship_id)
    .join(group_sessions, _S.id == _I.session_id)
    .where(_S.policy_name == bindparam("policy_name"), _S.starts_at >= bindparam("since"),
           _S.starts_at <= bindparam("until"), _I.attended.is_(None))
    .order_by(_S.starts_at, _S.id, _I.id)
)  # fmt: skip
"""Built once: a simulated day reads it every day."""
