"""Group sessions (intervisie, workshops): planning them, listing them, recording who attended.

``plan_sessions`` plans, for each series of the policy's ``sessions:``, the dates from
now up to ``until`` (or the next one): one ``group_sessions`` row per group, one
``session_invitations`` row per invited person, per relationship and session one
``session_invited`` entry in its audit chain, and per person an invitation in the outbox
(action ``schedule_group_session``, with the date, place and an .ics), in one transaction.
A date already planned is topped up: people who became eligible since join a group with room
(or a new one), the others are left as they are, so running it again changes nothing.
A dry run does all of it and rolls it back.

``record_attendance`` records whether one invited person attended a session that has begun,
once (``correct`` replaces what was recorded, with a new entry); its entry ``record_attendance``
goes in the chain of the relationship the person was invited through.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.domain.audit import iso
from engine.domain.effects import outbox_row
from engine.domain.programs import other_program
from engine.domain.sessions import Invitee, assign_groups, invitees, series_dates
from engine.errors import InputError, NotFoundError, RefusedError
from engine.errors import field as named
from engine.policy.model import Policy
from engine.policy.sessions import SessionSeries
from engine.policy.vocabulary import RECORD_ATTENDANCE, SESSION_INVITED
from engine.services.fact_writing import write_facts
from engine.store import participants as people_store
from engine.store import relationships as rel_store
from engine.store import sessions as session_store
from engine.store.database import UnitOfWork
from engine.store.sessions import Invitation, SessionRow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.clock import Clock

ACTION = "schedule_group_session"
"""The outbox action of an invitation: the same texts as the policy's action, with a date and place."""
FURTHEST = timedelta(days=366)
"""How far ahead one run plans."""


@dataclass(frozen=True)
class PlannedGroup:
    """One group of one session as a plan left it: ``new`` if the plan created it, ``added`` the people
    it invited to it now (participant id, role), ``invited`` everyone invited to it."""

    series: str
    starts_at: datetime
    group_no: int
    session_id: int
    place: str | None
    new: bool
    added: tuple[tuple[int, str], ...]
    invited: int


@dataclass(frozen=True)
class SessionPlan:
    """What ``sessions plan`` planned (or, ``dry_run``, would plan)."""

    groups: tuple[PlannedGroup, ...]
    dry_run: bool
    series: tuple[str, ...] = field(default_factory=tuple)

    @property
    def new_sessions(self) -> int:
        return sum(1 for g in self.groups if g.new)

    @property
    def new_invitations(self) -> int:
        return sum(len(g.added) for g in self.groups)


def plan_sessions(
    store: Engine,
    policy: Policy,
    clock: Clock,
    *,
    actor: str,
    until: datetime | None = None,
    dry_run: bool = False,
) -> SessionPlan:
    """Plan the sessions of every series of ``policy`` after now, up to ``until`` (the next one without)."""
    now = clock.now()
    if not policy.sessions:
        raise RefusedError(
            f"policy {policy.policy!r} has no `sessions:` block: nothing to plan (see docs/sessions.md)"
        )
    if until is not None and not now < until <= now + FURTHEST:
        raise InputError(
            f"{named('until')}: {until:%Y-%m-%d} is not within the coming year (expected a later date)"
        )
    groups: list[PlannedGroup] = []
    with UnitOfWork(store) as uow:
        for name, series in policy.sessions.items():
            groups += _plan_series(uow, policy, name, series, now, until, actor)
        if not dry_run:
            uow.commit()
    return SessionPlan(tuple(groups), dry_run, tuple(policy.sessions))


def plan_due(store: Engine, policy: Policy, now: datetime, moved: Iterable[str] = ()) -> bool:
    """Whether the cadence has sessions to plan at ``now``: a series' next date is not planned yet, or
    pairs moved (by the triggers ``moved``) into a phase a series invites from, who may be newcomers to
    it; never while no pair is in its phases. So a run with nothing to do costs two small queries per
    series, and no planning."""
    if not policy.sessions:
        return False
    triggers = set(moved)
    entered = {edge.dest for edge in policy.edges if edge.trigger in triggers}
    if any(entered & set(series.phases) for series in policy.sessions.values()):
        return True
    with UnitOfWork(store, write=False) as uow:
        for name, series in policy.sessions.items():
            if not session_store.any_in(uow.conn, policy.policy, series.phases):
                continue  # nobody to invite: nothing to plan
            planned = session_store.planned_starts(uow.conn, policy.policy, name)
            upcoming = series_dates(series, policy.program.timezone, now, None, planned)
            if upcoming and upcoming[0] not in planned:
                return True
    return False


def _plan_series(
    uow: UnitOfWork, policy: Policy, name: str, series: SessionSeries, now: datetime,
    until: datetime | None, actor: str,
) -> list[PlannedGroup]:  # fmt: skip
    conn = uow.conn
    planned = session_store.planned_starts(conn, policy.policy, name)
    dates = series_dates(series, policy.program.timezone, now, until, planned)
    pairs = [
        (p.id, p.mentee_id, p.mentor_id) for p in session_store.open_pairs(conn, policy.policy, series.phases)
    ]
    people = {person for pair in pairs for person in pair[1:] if person is not None}
    invited = invitees(series, pairs, session_store.active_people(conn, people))
    found: list[PlannedGroup] = []
    for start in dates:
        found += _plan_date(uow, policy, name, series, start, invited, now, actor)
    return found


def _plan_date(
    uow: UnitOfWork, policy: Policy, name: str, series: SessionSeries, start: datetime,
    people: list[Invitee], now: datetime, actor: str,
) -> list[PlannedGroup]:  # fmt: skip
    conn = uow.conn
    existing = {row.group_no: row for row in session_store.sessions_at(conn, policy.policy, name, start)}
    fixed = {
        pid: group
        for pid, (_, group) in session_store.groups_of(conn, [r.id for r in existing.values()]).items()
    }
    previous = session_store.previous_groups(conn, policy.policy, name, start)
    groups = assign_groups(people, series.group_size, fixed=fixed, previous=previous)
    newcomers = [p for p in people if p.participant_id not in fixed]
    ids = {number: row.id for number, row in existing.items()}
    for number in sorted({groups[p.participant_id] for p in newcomers} - set(ids)):
        ids[number] = session_store.insert_session(conn, {
            "policy_name": policy.policy, "series": name, "group_no": number, "starts_at": start,
            "minutes": series.minutes, "place": series.place, "planned_at": now, "planned_by": actor,
        })  # fmt: skip
    _invite(
        uow, policy, name, series, start, [(p, ids[groups[p.participant_id]]) for p in newcomers], now, actor
    )
    counts: dict[int, int] = defaultdict(int)
    for number in groups.values():
        counts[number] += 1
    added: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for person in newcomers:
        added[groups[person.participant_id]].append((person.participant_id, person.role))
    return [
        PlannedGroup(name, start, number, ids[number], series.place, number not in existing,
                     tuple(added[number]), counts[number])
        for number in sorted(ids)
        if added[number]
    ]  # fmt: skip


def _invite(
    uow: UnitOfWork, policy: Policy, name: str, series: SessionSeries, start: datetime,
    invited: list[tuple[Invitee, int]], now: datetime, actor: str,
) -> None:  # fmt: skip
    """The invitation rows, per relationship and session one audit entry, per person an outbox row."""
    if not invited:
        return
    session_store.insert_invitations(uow.conn, [
        {"session_id": sid, "participant_id": p.participant_id, "relationship_id": p.relationship_id,
         "role": p.role, "invited_at": now}
        for p, sid in invited
    ])  # fmt: skip
    roles: dict[tuple[int, int], list[str]] = defaultdict(list)
    for person, sid in invited:
        roles[(person.relationship_id, sid)].append(person.role)
    facts = [
        (rel_id, {"session": {"id": sid, "series": name, "starts_at": iso(start), "invited": sorted(found)}})
        for (rel_id, sid), found in sorted(roles.items())
    ]
    rels = rel_store.relationship_rows(uow.conn, sorted({rel_id for rel_id, _ in facts}), lock=True)
    write_facts(uow, policy, now, rels, SESSION_INVITED, actor, facts)
    rows = [
        outbox_row(p.relationship_id, f"session:{sid}:participant:{p.participant_id}", ACTION,
                   invitation_params(series, name, sid, start, p.role), now)
        for p, sid in invited
    ]  # fmt: skip
    rel_store.append(uow.conn, [], rows)


def invitation_params(
    series: SessionSeries, name: str, session_id: int, start: datetime, role: str
) -> dict[str, Any]:
    """What the outbox row of an invitation says: to whom, and the session as its message shows it."""
    return {
        "recipient": role,
        "session": {
            "id": session_id, "series": name, "title": series.title, "title_nl": series.title_nl,
            "starts_at": iso(start), "minutes": series.minutes, "place": series.place,
            "place_nl": series.place_nl,
        },
    }  # fmt: skip


def list_sessions(store: Engine, policy: Policy, *, since: datetime | None = None) -> list[dict[str, Any]]:
    """Every group of the sessions planned under ``policy`` (from ``since`` on), with its counts."""
    with UnitOfWork(store, write=False) as uow:
        return session_store.session_overview(uow.conn, policy.policy, since)


@dataclass(frozen=True)
class AttendanceRecorded:
    """Attendance recorded: of whom, at which session, through which relationship, and whether corrected."""

    session_id: int
    participant_id: int
    relationship_id: int
    role: str
    attended: bool
    corrected: bool


def record_attendance(
    store: Engine, policy: Policy, clock: Clock, session_id: int, person: str, attended: bool,
    *, actor: str, correct: bool = False,
) -> AttendanceRecorded:  # fmt: skip
    """Record whether ``person`` (an id, external id or email) attended session ``session_id``.

    Refused for a session of another program or that has not begun, a person not invited to it, and
    attendance already recorded (unless ``correct``, and then only to the other answer).
    """
    said = AttendanceSaid(session_id, person, attended, actor)
    return record_attendances(store, policy, clock, [said], correct=correct)[0]


@dataclass(frozen=True)
class AttendanceSaid:
    """Whether ``person`` (an id, external id or email) attended session ``session_id``, said by ``actor``."""

    session_id: int
    person: str
    attended: bool
    actor: str


def record_attendances(
    store: Engine, policy: Policy, clock: Clock, said: Sequence[AttendanceSaid], *, correct: bool = False
) -> list[AttendanceRecorded]:
    """:func:`record_attendance` of each of ``said``, in order, in one transaction: all or nothing (the
    first refusal raises and nothing is recorded). Each is checked against what those before it wrote,
    as if recorded one after the other (a simulated day's people say theirs at once)."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        done = [_record_one(uow, policy, now, item, correct=correct) for item in said]
        uow.commit()
    return done


def _record_one(
    uow: UnitOfWork, policy: Policy, now: datetime, said: AttendanceSaid, *, correct: bool
) -> AttendanceRecorded:
    """Check and write one attendance in the caller's transaction: its entry and its invitation."""
    session_id, person, attended = said.session_id, said.person, said.attended
    row = session_store.session(uow.conn, session_id)
    if row is None:
        raise NotFoundError(f"no session {session_id} (see `mentorflow sessions list`)")
    found = people_store.participant_by_ref(uow.conn, person)
    if found is None:
        raise NotFoundError(f"no participant {person!r} (give an id, external id or email)")
    invitation = session_store.invitation(uow.conn, session_id, int(found.id), lock=True)
    _check_attendance(policy, row, invitation, person, attended, now, correct=correct)
    assert invitation is not None
    corrected = invitation.attended is not None
    data: dict[str, Any] = {"session": session_id, "respondent": invitation.role, "attended": attended}
    if corrected:
        data["corrected"] = True
    rels = rel_store.relationship_rows(uow.conn, [invitation.relationship_id], lock=True)
    fact = [(invitation.relationship_id, {"attendance": data})]
    (seq,) = write_facts(uow, policy, now, rels, RECORD_ATTENDANCE, said.actor, fact)
    session_store.set_attendance(uow.conn, invitation.id, attended, now, said.actor, seq)
    return AttendanceRecorded(
        session_id,
        invitation.participant_id,
        invitation.relationship_id,
        invitation.role,
        attended,
        corrected,
    )


def _check_attendance(
    policy: Policy, row: SessionRow, invitation: Invitation | None, person: str, attended: bool,
    now: datetime, *, correct: bool,
) -> None:  # fmt: skip
    if (elsewhere := other_program(row.id, row.policy_name, policy)) is not None:
        raise RefusedError(elsewhere.replace(f"relationship {row.id}", f"session {row.id}", 1))
    if invitation is None:
        raise RefusedError(f"{person!r} was not invited to session {row.id} (see `mentorflow sessions list`)")
    if row.starts_at > now:
        raise RefusedError(
            f"session {row.id} starts at {iso(row.starts_at)}: record attendance once it has begun"
        )
    said = "attended" if attended else "absent"
    if invitation.attended is not None and not correct:
        before = "attended" if invitation.attended else "absent"
        raise RefusedError(
            f"the attendance of {person!r} at session {row.id} is already recorded ({before}, by "
            f"{invitation.recorded_by}); to change it, record it again with {named('correct')}"
        )
    if correct and invitation.attended is attended:
        raise RefusedError(
            f"{person!r} is already recorded as {said} at session {row.id}: nothing to correct"
        )
