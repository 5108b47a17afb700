"""What happened to each relationship, as the report counts it: one :class:`PairOutcome` each.

Built from the audit history (the phases a pair went through and when, the
match with the proposal's score and per-criterion breakdown, an early close
and its reason, its goals, its invitations to group sessions and who attended),
the meetings recorded and the survey answers. Everything is
read as it stood at a moment: entries, meetings and answers recorded after
``as_of`` are left out, so a report as of a date (``as_of``) replays what was known
then. :func:`build_outcomes` is pure; :func:`load_outcomes` reads the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.programs import other_policies
from engine.policy.model import Policy
from engine.policy.vocabulary import GOAL_PROGRESS, RECORD_ATTENDANCE, SESSION_INVITED, SET_GOAL
from engine.store import audit, reports
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

MATCH_TRIGGER = "match"
CREATE_TRIGGER = "create"


@dataclass(frozen=True)
class Stay:
    """A stretch of time in one phase; ``left`` is ``None`` while the pair is still there."""

    phase: str
    entered: datetime
    left: datetime | None


@dataclass(frozen=True)
class MatchRecord:
    """The match of a pair: when, and the score and per-criterion scores of the approved proposal."""

    at: datetime
    score: float | None
    criteria: Mapping[str, float | None]


@dataclass(frozen=True)
class EarlyClose:
    """A drop-out: a close that needed a reason, from the phase the pair was in."""

    at: datetime
    from_phase: str
    reason: str


@dataclass(frozen=True)
class HeldMeeting:
    kind: str
    held_on: datetime


@dataclass(frozen=True)
class Answers:
    """One respondent's answers to one survey."""

    survey: str
    respondent: str
    at: datetime
    answers: Mapping[str, Any]


@dataclass
class GoalOutcome:
    """A development goal of the pair's mentee: the program goal it serves, how far they got."""

    program_goal: str | None
    level: str = "not_started"


@dataclass
class SessionInvitation:
    """One role of the pair invited to a group session: which series, when it starts, whether they came
    (``None`` until said; the latest ``record_attendance`` counts)."""

    series: str
    starts_at: datetime
    attended: bool | None = None


@dataclass
class PairOutcome:
    """Everything the report counts about one relationship."""

    id: int
    stays: list[Stay] = field(default_factory=list)
    match: MatchRecord | None = None
    early_close: EarlyClose | None = None
    meetings: list[HeldMeeting] = field(default_factory=list)
    answers: list[Answers] = field(default_factory=list)
    goals: dict[int, GoalOutcome] = field(default_factory=dict)  # by goal id, in the order they were set
    invitations: dict[tuple[int, str], SessionInvitation] = field(default_factory=dict)  # (session, role)

    @property
    def created(self) -> datetime:
        return self.stays[0].entered

    @property
    def phase(self) -> str:
        return self.stays[-1].phase

    def reached(self, phase: str) -> bool:
        return any(stay.phase == phase for stay in self.stays)


def build_outcomes(
    entries: Iterable[Mapping[str, Any]],
    held: Iterable[tuple[int, HeldMeeting]],
    answered: Iterable[tuple[int, Answers]],
    terminal: Collection[str],
) -> dict[int, PairOutcome]:
    """One outcome per relationship, from its audit entries (in chain order), meetings and answers.

    An entry whose ``from_phase`` equals its ``to_phase`` (a meeting or survey
    recorded) is not a phase change. Meetings and answers of relationships
    without entries are ignored.
    """
    pairs: dict[int, PairOutcome] = {}
    for entry in entries:
        pair = pairs.setdefault(entry["relationship_id"], PairOutcome(entry["relationship_id"]))
        _apply(pair, entry, terminal)
    for rel_id, meeting in held:
        if rel_id in pairs:
            pairs[rel_id].meetings.append(meeting)
    for rel_id, answer in answered:
        if rel_id in pairs:
            pairs[rel_id].answers.append(answer)
    return {rid: pair for rid, pair in pairs.items() if pair.stays}


ERASED_REASON = "(erased)"
"""An early close's reason once erased: the close still counts."""


def _apply(pair: PairOutcome, entry: Mapping[str, Any], terminal: Collection[str]) -> None:
    at, source, dest, data = entry["at"], entry["from_phase"], entry["to_phase"], entry["data"] or {}
    if entry["trigger"] in (SET_GOAL, GOAL_PROGRESS):
        _goal(pair, entry["trigger"], data.get("goal") or {})
    for goal in data.get("goals", ()) if entry["trigger"] == CREATE_TRIGGER else ():
        _goal(pair, SET_GOAL, goal)  # the goals of the participants file, set with the relationship
    if entry["trigger"] in (SESSION_INVITED, RECORD_ATTENDANCE):
        _session(pair, data)
    if source == dest and pair.stays:
        return
    if pair.stays:
        last = pair.stays[-1]
        pair.stays[-1] = Stay(last.phase, last.entered, at)
    pair.stays.append(Stay(dest, at, None))
    if entry["trigger"] == MATCH_TRIGGER and pair.match is None:
        pair.match = _match_record(at, data)
    if dest in terminal and "reason" in data.get("requires", ()):
        erased = entry["reason"] is None and entry.get("reason_seal") is not None
        pair.early_close = EarlyClose(at, source or dest, ERASED_REASON if erased else entry["reason"] or "")


def _goal(pair: PairOutcome, trigger: str, goal: Mapping[str, Any]) -> None:
    """A goal set (``set_goal``), or how far the mentee got with one (``goal_progress``)."""
    if trigger == SET_GOAL:
        pair.goals[goal["id"]] = GoalOutcome(goal.get("program_goal"))
    elif goal.get("id") in pair.goals:
        pair.goals[goal["id"]].level = goal["level"]


def _session(pair: PairOutcome, data: Mapping[str, Any]) -> None:
    """The roles of the pair invited to a session (``session_invited``), or whether one came."""
    if (session := data.get("session")) is not None:
        starts_at, series = datetime.fromisoformat(session["starts_at"]), session["series"]
        for role in session.get("invited", ()):
            pair.invitations.setdefault((session["id"], role), SessionInvitation(series, starts_at))
    elif (said := data.get("attendance")) is not None:
        invitation = pair.invitations.get((said["session"], said["respondent"]))
        if invitation is not None:
            invitation.attended = bool(said["attended"])


def _match_record(at: datetime, data: Mapping[str, Any]) -> MatchRecord:
    proposal = data.get("proposal") or {}
    breakdown = proposal.get("breakdown") or {}
    criteria = {name: _number(item.get("score")) for name, item in breakdown.items()}
    return MatchRecord(at, _number(proposal.get("score")), criteria)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def in_scope(pair: PairOutcome, terminal: Collection[str], since: datetime | None) -> bool:
    """Whether the pair was open at some time since ``since`` (every pair without ``since``)."""
    if since is None:
        return True
    ended = next((stay.entered for stay in pair.stays if stay.phase in terminal), None)
    return ended is None or ended >= since


def load_outcomes(
    store: Engine, policy: Policy, *, as_of: datetime | None = None, since: datetime | None = None
) -> list[PairOutcome]:
    """The outcome of every relationship of the policy as known at ``as_of`` (everything without), open
    since ``since``; another program's relationships are its own policy's to report."""
    terminal, name = policy.terminal_phases, policy.policy
    with UnitOfWork(store, write=False) as uow:
        entries = audit.entries(uow.conn, by_relationship=True, until=as_of, policy_name=name)
        meetings = reports.meetings_held(uow.conn, name, as_of=as_of)
        held = [(rid, HeldMeeting(kind, on)) for rid, kind, on in meetings]
        answered = [
            (rid, Answers(survey, who, at, answers or {}))
            for rid, survey, who, at, answers in reports.answers_given(uow.conn, name, as_of=as_of)
        ]
        pairs = build_outcomes(entries, held, answered, terminal)
    return [pair for _, pair in sorted(pairs.items()) if in_scope(pair, terminal, since)]


def load_other_policies(store: Engine, policy: Policy, *, as_of: datetime | None = None) -> dict[str, int]:
    """The relationships of other programs in the store (opened by ``as_of``, if given), by policy name."""
    with UnitOfWork(store, write=False) as uow:
        counts = rel_store.relationships_per_policy(uow.conn, created_by=as_of)
    return other_policies(counts, policy.policy)


def load_pair_names(store: Engine, ids: Collection[int]) -> dict[int, tuple[str, str | None]]:
    """(mentee name, mentor name or ``None``) of each relationship in ``ids``."""
    with UnitOfWork(store, write=False) as uow:
        return reports.pair_names(uow.conn, ids)
