"""One simulated day against a real store: load the snapshot, decide, record through the services.

Everything recorded here goes through the same services an operator's
commands and the participants' pages use (``match approve``, ``record
training``, ``record meeting``, ``record survey``, ``advance ... close
--reason``), so the audit history and the outbox of a simulated program are
those of a real one. What a participant does (a meeting or kickoff they
confirm, a survey they answer, the training a mentor confirms) they record
through their personal link (:mod:`engine.simulation.personal`), with the
actor ``participant:{external id} via link`` that the page would record; the
coordinator's decisions (approve, reject, renew, close, rematch) carry the
actor ``coordinator``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import advance as services
from engine.services import journeys, recording
from engine.services import matching as match_service
from engine.services.recording import HeldMeeting, SurveyResponse
from engine.simulation.attendance import attend_sessions
from engine.simulation.behaviour import PairState, Proposal, Roles, Today, World, decide
from engine.simulation.goals import GoalWork, plan_goals, record_goals
from engine.simulation.personal import Visit, actors
from engine.simulation.traits import confirms_meeting, survey_answers
from engine.store import goals as goal_store
from engine.store import simulation as snapshot
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

COORDINATOR = "coordinator"
PAIR = "pair"  # a batch's actor: each item carries its participant's own (see record_participants)


@dataclass
class DaySummary:
    """What the simulated people did: counts, added up over the days with :meth:`merged`."""

    approved: int = 0
    rejected: int = 0
    trained: int = 0
    kickoffs: int = 0
    check_ins: int = 0
    answers: int = 0
    renewed: int = 0
    closed_early: Counter[str] = field(default_factory=Counter)
    rematched: int = 0
    waiting: int = 0  # mentees without a mentor at the end of the day: a state, not a count of events
    goals_set: int = 0  # by mentees through their link (engine.simulation.goals)
    goal_steps: int = 0
    attendance: int = 0  # group sessions someone said they attended or missed (engine.simulation.attendance)

    def merged(self, other: DaySummary) -> DaySummary:
        return DaySummary(
            self.approved + other.approved,
            self.rejected + other.rejected,
            self.trained + other.trained,
            self.kickoffs + other.kickoffs,
            self.check_ins + other.check_ins,
            self.answers + other.answers,
            self.renewed + other.renewed,
            self.closed_early + other.closed_early,
            self.rematched + other.rematched,
            other.waiting,
            self.goals_set + other.goals_set,
            self.goal_steps + other.goal_steps,
            self.attendance + other.attendance,
        )


def day_moment(start: datetime, day: int, timezone: str) -> datetime:
    """The moment of day ``day`` of a simulated program: ``start``'s wall-clock time in ``timezone``.

    Stepping by calendar days, not 24 hours, keeps the cadence at 07:00 through daylight saving time.
    """
    local = start.astimezone(ZoneInfo(timezone))
    return datetime.combine(local.date() + timedelta(days=day), local.time(), ZoneInfo(timezone))


def simulate_day(
    store: Engine, lifecycle: Lifecycle, seed: int, now: datetime, keys: tuple[str, ...]
) -> DaySummary:
    """Decide what the program's people do at ``now`` and record it; returns what was recorded.

    ``keys``: the program's link keys (``[web] secret_keys``), which the participants' personal links
    are signed and opened with.
    """
    roles = Roles.of(lifecycle.policy)
    world = load_world(store, lifecycle, now)
    summary = record(store, lifecycle, roles, seed, world, decide(world, roles, seed), keys)
    waiting = sum(1 for pair in world.pairs if pair.mentor_id is None)
    summary.waiting = waiting - summary.approved + summary.rematched
    return summary


def load_world(store: Engine, lifecycle: Lifecycle, now: datetime) -> World:
    """The open pairs with their meetings and survey answers, the untrained mentors, the pending proposals.

    Four queries joined on the open relationships, in one read transaction: a
    day's snapshot costs the same few statements however many pairs there are.
    """
    terminal = sorted(lifecycle.policy.terminal_phases)
    with UnitOfWork(store, write=False) as uow:
        rows = snapshot.open_pairs(uow.conn, terminal)
        answered = snapshot.answered_in_stay(uow.conn, terminal)
        untrained = snapshot.untrained_mentors(uow.conn)
        pending = snapshot.pending_proposals(uow.conn)
    pairs = tuple(
        PairState(rid, mentee, mentor, phase, entered, opened, held, bool(kicks), last,
                  frozenset(answered.get(rid, ())))
        for rid, mentee, mentor, phase, entered, opened, held, kicks, last in rows
    )  # fmt: skip
    proposals = tuple(Proposal(int(r), int(m), at) for r, m, at in pending if m is not None)
    return World(now, pairs, untrained, proposals)


def record(
    store: Engine,
    lifecycle: Lifecycle,
    roles: Roles,
    seed: int,
    world: World,
    today: Today,
    keys: tuple[str, ...],
) -> DaySummary:
    """Record today's decisions through the services, in the order people act."""
    clock, policy = SimulatedClock(world.now), lifecycle.policy
    summary = DaySummary()
    if today.approve:
        done = match_service.approve(store, lifecycle, clock, today.approve, actor=COORDINATOR)
        summary.approved = len(done.done)
    if today.reject:
        reason = "the coordinator knows the pair would not work well together"
        summary.rejected = len(match_service.reject(store, clock, today.reject, reason, actor=COORDINATOR))
    summary.goals_set, summary.goal_steps = record_participants(
        store, policy, roles, seed, world, today, keys
    )
    summary.attendance = attend_sessions(store, policy, seed, world, keys)
    summary.trained = len(today.trained)
    summary.kickoffs = sum(kind == "kickoff" for _, kind in today.meetings)
    summary.check_ins = len(today.meetings) - summary.kickoffs
    summary.answers = len(today.answers)
    for trigger, ids in today.renew.items():
        moved = services.advance_many(store, lifecycle, clock, ids, trigger, actor=COORDINATOR).moved
        summary.renewed += len(moved)
    closed: list[int] = []
    for reason, ids in today.close.items():
        if roles.close is not None:
            moved = services.advance_many(
                store, lifecycle, clock, ids, roles.close, actor=COORDINATOR, reason=reason
            ).moved
            summary.closed_early[reason] += len(moved)
            closed += moved
    back = [today.rematch[rel_id] for rel_id in closed if rel_id in today.rematch]
    if back:
        reason = "matched again after an early close"
        opened = journeys.open_again_many(store, policy, clock, back, actor=COORDINATOR, reason=reason)
        summary.rematched = len(opened)
    return summary


def record_participants(
    store: Engine, policy: Policy, roles: Roles, seed: int, world: World, today: Today, keys: tuple[str, ...]
) -> tuple[int, int]:
    """What the participants record today, each through their personal link: the trainings mentors
    confirm, the meetings and kickoffs one of the pair confirms (the mentee or the mentor, by the seed),
    the survey answers, the goals the mentees who met set or got further with. The day's links are
    opened in one batch (the goals decided first: nothing recorded before them changes a goal), then
    recorded in the services' batch calls, each item with its participant's actor, in the order people
    act. Returns (goals set, goal levels changed)."""
    clock, pairs = SimulatedClock(world.now), {pair.id: pair for pair in world.pairs}
    trainings = _training_visits(roles, world, today)
    meetings = [_meeting_visit(seed, pairs[rel_id], kind) for rel_id, kind in today.meetings]
    answers = [
        Visit(rel_id, respondent, _person(pairs[rel_id], respondent), "survey", survey)
        for rel_id, survey, respondent in today.answers
    ]
    work = plan_goals(store, policy, seed, world, today.meetings) if today.meetings else GoalWork()
    said = actors(store, policy, keys, world.now, [*trainings, *meetings, *answers, *work.visits])
    trained_by, met_by, answered_by, goals_by = _split(said, len(trainings), len(meetings), len(answers))
    for mentor, by in zip(today.trained, trained_by, strict=True):
        recording.record_training(store, clock, mentor, actor=by)
    if today.meetings:
        held = [
            HeldMeeting(rel, kind, actor=by) for (rel, kind), by in zip(today.meetings, met_by, strict=True)
        ]
        recording.record_meetings(store, policy, clock, held, actor=PAIR)
    worked = record_goals(store, policy, world, work, goals_by)
    if today.answers:
        responses = _responses(store, policy, seed, today, answered_by)
        recording.record_surveys(store, policy, clock, responses, actor=PAIR)
    return worked


def _split(said: Sequence[str], *lengths: int) -> list[Sequence[str]]:
    """``said`` cut into parts of ``lengths`` one after the other, and the rest."""
    parts, start = [], 0
    for length in lengths:
        parts.append(said[start : start + length])
        start += length
    return [*parts, said[start:]]


def _training_visits(roles: Roles, world: World, today: Today) -> list[Visit]:
    """Each mentor who finished today opens the training link of the pair that waits longest for them."""
    by_key = {key: mentor_id for mentor_id, key in world.untrained.items()}
    visits = []
    for key in today.trained:
        mentor_id = by_key[key]
        waiting = min(
            (p for p in world.pairs if p.mentor_id == mentor_id and p.phase in roles.training),
            key=lambda p: (p.entered, p.id),
        )
        visits.append(Visit(waiting.id, "mentor", mentor_id, "training"))
    return visits


def _meeting_visit(seed: int, pair: PairState, kind: str) -> Visit:
    """Who of the pair confirms the meeting (a pair without a mentor yet has only its mentee)."""
    role = "mentee" if pair.mentor_id is None else confirms_meeting(seed, pair.id, kind, pair.meetings_held)
    purpose = "kickoff" if kind == "kickoff" else "meeting"
    return Visit(pair.id, role, _person(pair, role), purpose)


def _person(pair: PairState, role: str) -> int:
    person = pair.mentee_id if role == "mentee" else pair.mentor_id
    if person is None:
        raise RuntimeError(
            f"relationship {pair.id} has no {role} to record through a link (a simulation bug)"
        )
    return person


def _responses(
    store: Engine, policy: Policy, seed: int, today: Today, said: Sequence[str]
) -> list[SurveyResponse]:
    """Today's survey answers, each valid for its survey's questions and the mentee's goals, each recorded
    by its respondent's actor (``said``, in the order of ``today.answers``)."""
    with UnitOfWork(store, write=False) as uow:
        goals = goal_store.mentee_goals(uow.conn, [rel_id for rel_id, _, _ in today.answers])
    surveys = policy.survey_definitions
    return [
        SurveyResponse(
            rel_id,
            survey,
            respondent,
            survey_answers(
                seed, rel_id, respondent, survey, surveys[survey].questions, len(goals.get(rel_id, []))
            ),
            actor=actor,
        )
        for (rel_id, survey, respondent), actor in zip(today.answers, said, strict=True)
    ]
