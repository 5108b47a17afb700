"""What the people of a simulated program do on one day: a pure decision over a snapshot.

Given where every open pair stands (:class:`World`), the seed and ``now``,
:func:`decide` says what happens today: which proposals the coordinator
approves, which mentors finish their training, which meetings are held,
which surveys are answered, which pairs renew, and which end early and why.
It reads no clock and no database; :mod:`engine.simulation.day` loads the
snapshot and records the decisions through the engine's services.

The phases are found by what the policy asks of them (the phase whose exit
requires ``mentor_trained`` waits for training, the one that requires
``kickoff_held`` waits for the kickoff, a phase with a cadence holds
check-ins, one whose exit requires ``survey_complete`` waits for surveys), so
a policy that renames phases still runs.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from engine.policy.model import Policy
from engine.simulation.traits import (
    check_in_interval,
    mentor_traits,
    pair_traits,
    rejects_proposal,
)

COORDINATOR_REVIEWS_AFTER = timedelta(days=2)
GIVE_UP_ON_TRAINING = 45  # days in the training phase before the coordinator closes and rematches
GIVE_UP_ON_KICKOFF = 40
GIVE_UP_ON_SURVEY = 35
RENEWS_WITHIN = 300  # days since the pair opened: a pair renews once, not forever

NO_TRAINING = "mentor did not complete the mentor training"
NO_KICKOFF = "the kickoff meeting never took place"
STOPPED_MEETING = "the pair stopped meeting"
NO_SURVEY = "closed without a complete final survey"


@dataclass(frozen=True)
class Roles:
    """Which phase of the policy plays which part, and the triggers the coordinator uses."""

    training: frozenset[str]
    kickoff: frozenset[str]
    meeting: frozenset[str]
    survey: dict[str, str]  # phase -> the survey sent on entering it
    renew: dict[str, str]  # survey phase -> the trigger that renews the pair
    close: str | None  # the trigger that ends a pair early (with a reason)

    @classmethod
    def of(cls, policy: Policy) -> Roles:
        waits: dict[str, set[str]] = defaultdict(set)
        renew: dict[str, str] = {}
        close = None
        for edge in policy.edges:
            names = {call.name for call in edge.requires}
            for name in names & {"mentor_trained", "kickoff_held", "survey_complete"}:
                waits[name].add(edge.source)
            if "survey_complete" in names and not edge.auto and policy.phases[edge.dest].cadence:
                renew[edge.source] = edge.trigger
            if "reason" in names and policy.phases[edge.dest].terminal:
                close = close or edge.trigger
        surveys = {
            name: str(getattr(call.param, "survey", "final"))
            for name, phase in policy.phases.items()
            for call in phase.on_enter
            if call.name == "send_survey" and name in waits["survey_complete"]
        }
        return cls(
            training=frozenset(waits["mentor_trained"]),
            kickoff=frozenset(waits["kickoff_held"]),
            meeting=frozenset(n for n, p in policy.phases.items() if p.cadence is not None),
            survey=surveys,
            renew=renew,
            close=close,
        )


@dataclass(frozen=True)
class PairState:
    """Where one open relationship stands."""

    id: int
    mentee_id: int
    mentor_id: int | None
    phase: str
    entered: datetime
    opened: datetime
    meetings_held: int = 0
    kickoff_held: bool = False
    last_meeting: datetime | None = None
    answered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Proposal:
    """A pending matching proposal, waiting for the coordinator."""

    relationship_id: int
    mentor_id: int
    proposed_at: datetime


@dataclass(frozen=True)
class World:
    """A snapshot of the program, as today's behaviour needs it."""

    now: datetime
    pairs: tuple[PairState, ...]
    untrained: dict[int, str]  # mentor id -> key, for mentors without the training
    proposals: tuple[Proposal, ...] = ()


@dataclass
class Today:
    """What happens today, to be recorded through the services."""

    approve: list[int] = field(default_factory=list)
    reject: list[int] = field(default_factory=list)
    trained: list[str] = field(default_factory=list)
    meetings: list[tuple[int, str]] = field(default_factory=list)
    answers: list[tuple[int, str, str]] = field(default_factory=list)  # (relationship, survey, respondent)
    renew: dict[str, list[int]] = field(default_factory=dict)  # trigger -> relationships
    close: dict[str, list[int]] = field(default_factory=dict)  # reason -> relationships
    rematch: dict[int, int] = field(default_factory=dict)  # closed relationship -> mentee back to intake


def decide(world: World, roles: Roles, seed: int) -> Today:
    """Everything the program's people do at ``world.now``."""
    today = Today()
    if world.now.weekday() < 5:  # the coordinator works on weekdays
        _review_proposals(world, seed, today)
    _finish_training(world, roles, seed, today)
    for pair in sorted(world.pairs, key=lambda p: p.id):
        traits = pair_traits(seed, pair.id)
        days_in = (world.now - pair.entered).days
        if _leaves_today(world.now, pair, traits.exit_after) and roles.close:
            _close(today, pair, traits.exit_reason, rematch=traits.rematch_after_exit)
            continue
        if pair.phase in roles.training and pair.mentor_id in world.untrained:
            if days_in >= GIVE_UP_ON_TRAINING and roles.close:
                _close(today, pair, NO_TRAINING, rematch=True)
        elif pair.phase in roles.kickoff and not pair.kickoff_held:
            if traits.kickoff_after is not None and days_in >= traits.kickoff_after:
                today.meetings.append((pair.id, "kickoff"))
            elif days_in >= GIVE_UP_ON_KICKOFF and roles.close:
                _close(today, pair, NO_KICKOFF, rematch=True)
        elif pair.phase in roles.meeting:
            _meet(world.now, pair, roles, seed, today)
        elif pair.phase in roles.survey:
            _answer(world.now, pair, roles, seed, today)
    return today


def _leaves_today(now: datetime, pair: PairState, exit_after: int | None) -> bool:
    """A matched pair whose early end has come (a pair still waiting for a mentor has no one to leave)."""
    if pair.mentor_id is None or exit_after is None:
        return False
    return now >= pair.opened + timedelta(days=exit_after)


def _review_proposals(world: World, seed: int, today: Today) -> None:
    for proposal in sorted(world.proposals, key=lambda p: p.relationship_id):
        if world.now - proposal.proposed_at >= COORDINATOR_REVIEWS_AFTER:
            turned_down = rejects_proposal(seed, proposal.relationship_id, proposal.mentor_id)
            (today.reject if turned_down else today.approve).append(proposal.relationship_id)


def _finish_training(world: World, roles: Roles, seed: int, today: Today) -> None:
    """Untrained mentors finish a number of days after their first pair started waiting for them."""
    waiting_since: dict[int, datetime] = {}
    for pair in world.pairs:
        if pair.phase in roles.training and pair.mentor_id in world.untrained:
            waiting_since[pair.mentor_id] = min(pair.entered, waiting_since.get(pair.mentor_id, pair.entered))
    for mentor_id, since in sorted(waiting_since.items()):
        key = world.untrained[mentor_id]
        after = mentor_traits(seed, key).training_after
        if after is not None and world.now >= since + timedelta(days=after):
            today.trained.append(key)


def _meet(now: datetime, pair: PairState, roles: Roles, seed: int, today: Today) -> None:
    """A check-in when the pair's interval has passed; a fading pair falls silent for a while."""
    traits = pair_traits(seed, pair.id)
    days_in = (now - pair.entered).days
    if traits.style == "fading" and days_in >= traits.fades_after:
        if days_in < traits.fades_after + traits.silent_for:
            return
        if not traits.resumes and roles.close:
            _close(today, pair, STOPPED_MEETING, rematch=False)
            return
    quiet_since = max(pair.last_meeting or pair.entered, pair.entered)
    interval = check_in_interval(seed, pair.id, traits.style, pair.meetings_held)
    if now - quiet_since >= timedelta(days=interval):
        today.meetings.append((pair.id, "check-in"))


def _answer(now: datetime, pair: PairState, roles: Roles, seed: int, today: Today) -> None:
    """Survey answers as they come in; a renewal once both answered, or a close when they never do."""
    traits = pair_traits(seed, pair.id)
    survey = roles.survey[pair.phase]
    days_in = (now - pair.entered).days
    answered = set(pair.answered)
    delays = {"mentee": traits.mentee_answers_after, "mentor": traits.mentor_answers_after}
    for respondent, after in delays.items():
        if respondent not in answered and after is not None and days_in >= after:
            today.answers.append((pair.id, survey, respondent))
            answered.add(respondent)
    complete = answered >= {"mentee", "mentor"}
    renew = roles.renew.get(pair.phase)
    if complete and traits.renews and renew and (now - pair.opened).days < RENEWS_WITHIN:
        if len(answered) > len(pair.answered):  # renews the day the survey completes
            today.renew.setdefault(renew, []).append(pair.id)
    elif not complete and days_in >= GIVE_UP_ON_SURVEY and roles.close:
        _close(today, pair, NO_SURVEY, rematch=False)


def _close(today: Today, pair: PairState, reason: str, *, rematch: bool) -> None:
    today.close.setdefault(reason, []).append(pair.id)
    if rematch:
        today.rematch[pair.id] = pair.mentee_id
