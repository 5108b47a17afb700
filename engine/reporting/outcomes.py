"""What happened to each relationship, as the report counts it: one :class:`PairOutcome` each.

Built from the audit history (the phases a pair went through and when, the
match with the proposal's score and per-criterion breakdown, an early close
and its reason), the meetings recorded and the survey answers. Everything is
read as it stood at a moment: entries, meetings and answers recorded after
``as_of`` are left out, so a report ``--as-of`` a date replays what was known
then. :func:`build_outcomes` is pure; :func:`load_outcomes` reads the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from engine.domain.programs import other_policies
from engine.policy.model import Policy
from engine.store import repository as repo
from engine.store.database import UnitOfWork, translated_errors
from engine.store.tables import meetings, participants, relationships, survey_responses

MATCH_TRIGGER = "match"


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
class PairOutcome:
    """Everything the report counts about one relationship."""

    id: int
    stays: list[Stay] = field(default_factory=list)
    match: MatchRecord | None = None
    early_close: EarlyClose | None = None
    meetings: list[HeldMeeting] = field(default_factory=list)
    answers: list[Answers] = field(default_factory=list)

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


def _apply(pair: PairOutcome, entry: Mapping[str, Any], terminal: Collection[str]) -> None:
    at, source, dest, data = entry["at"], entry["from_phase"], entry["to_phase"], entry["data"] or {}
    if source == dest and pair.stays:
        return
    if pair.stays:
        last = pair.stays[-1]
        pair.stays[-1] = Stay(last.phase, last.entered, at)
    pair.stays.append(Stay(dest, at, None))
    if entry["trigger"] == MATCH_TRIGGER and pair.match is None:
        pair.match = _match_record(at, data)
    if dest in terminal and "reason" in data.get("requires", ()):
        pair.early_close = EarlyClose(at, source or dest, entry["reason"] or "")


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
    terminal = policy.terminal_phases
    ours = repo.ids_of_policy(policy.policy)
    meeting_query = select(meetings.c.relationship_id, meetings.c.kind, meetings.c.held_on).where(
        meetings.c.relationship_id.in_(ours)
    )
    answer_query = select(
        survey_responses.c.relationship_id,
        survey_responses.c.survey,
        survey_responses.c.respondent,
        survey_responses.c.answered_at,
        survey_responses.c.answers,
    ).where(survey_responses.c.relationship_id.in_(ours))
    if as_of is not None:
        meeting_query = meeting_query.where(meetings.c.recorded_at <= as_of)
        answer_query = answer_query.where(survey_responses.c.answered_at <= as_of)
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        entries = repo.entries(uow.conn, by_relationship=True, until=as_of, policy_name=policy.policy)
        held = [
            (rid, HeldMeeting(kind, on))
            for rid, kind, on in uow.conn.execute(meeting_query.order_by(meetings.c.id))
        ]
        answered = [
            (rid, Answers(survey, who, at, answers or {}))
            for rid, survey, who, at, answers in uow.conn.execute(
                answer_query.order_by(survey_responses.c.id)
            )
        ]
        pairs = build_outcomes(entries, held, answered, terminal)
    return [pair for _, pair in sorted(pairs.items()) if in_scope(pair, terminal, since)]


def load_other_policies(store: Engine, policy: Policy, *, as_of: datetime | None = None) -> dict[str, int]:
    """The relationships of other programs in the store (opened by ``as_of``, if given), by policy name."""
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        counts = repo.relationships_per_policy(uow.conn, created_by=as_of)
    return other_policies(counts, policy.policy)


def load_pair_names(store: Engine, ids: Collection[int]) -> dict[int, tuple[str, str | None]]:
    """(mentee name, mentor name or ``None``) of each relationship in ``ids``."""
    mentee, mentor = participants.alias("mentee"), participants.alias("mentor")
    query = (
        select(relationships.c.id, mentee.c.name, mentor.c.name)
        .join(mentee, mentee.c.id == relationships.c.mentee_id)
        .outerjoin(mentor, mentor.c.id == relationships.c.mentor_id)
    )
    wanted = sorted(ids)
    found: dict[int, tuple[str, str | None]] = {}
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        for part in repo.chunks(wanted):
            for rid, mentee_name, mentor_name in uow.conn.execute(query.where(relationships.c.id.in_(part))):
                found[rid] = (mentee_name, mentor_name)
    return found
