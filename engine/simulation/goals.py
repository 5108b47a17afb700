"""How the simulated mentees work on their development goals.

At their kickoff some mentees add a goal of their own, serving one of the
program's goals, with a target date; after a check-in a mentee now and then
says through their link that they got a step further with one of their goals
(``not_started``, ``started``, ``partly``, ``reached``). Both go through
:mod:`engine.services.goals`, with the actor of the mentee's link: :func:`plan_goals`
decides them and :func:`record_goals` records them, once the day's links are open.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from engine.clock import SimulatedClock
from engine.policy.model import Policy
from engine.services.goals import GoalLevel, NewGoal, record_levels, set_goals
from engine.simulation.behaviour import PairState, World
from engine.simulation.personal import Visit
from engine.store import goals as goal_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

OWN_GOALS = (
    "Lead a meeting with stakeholders from another department",
    "Give a presentation to my whole department",
    "Ask for and act on feedback every month",
    "Get to know five colleagues outside my team",
    "Draw up a plan for my next career step",
)
NEXT = {"not_started": "started", "started": "partly", "partly": "reached"}
ADDS_OWN = 0.6  # of the mentees at their kickoff
STEPS = 0.35  # the chance a mentee moves one goal on after a check-in


def _rng(seed: int, *identity: object) -> random.Random:
    return random.Random("/".join(map(str, (seed, "goals", *identity))))


@dataclass(frozen=True)
class GoalWork:
    """What the mentees who met today do with their goals: the goals they set (pair, title, program goal
    served) and the steps they made (pair, goal id, its next level), each recorded through a visit to
    their link (:attr:`visits`, in that order)."""

    new: list[tuple[PairState, str, str | None]] = field(default_factory=list)
    steps: list[tuple[PairState, int, str]] = field(default_factory=list)

    @property
    def visits(self) -> list[Visit]:
        return [Visit(p.id, "mentee", p.mentee_id, "meeting") for p, *_ in (*self.new, *self.steps)]


def plan_goals(
    store: Engine, policy: Policy, seed: int, world: World, meetings: Sequence[tuple[int, str]]
) -> GoalWork:
    """Today's goals set and steps made by the mentees of the pairs that met today (``meetings``:
    (relationship, kind) each), decided on their goals as stored. Only reads: the day's other records
    (trainings, meetings) change no goal, so its links open in one batch with theirs."""
    pairs = {pair.id: pair for pair in world.pairs}
    met = [(pairs[rel_id], kind) for rel_id, kind in meetings if pairs[rel_id].mentor_id is not None]
    with UnitOfWork(store, write=False) as uow:
        goals = goal_store.goal_rows(uow.conn, [pair.id for pair, _ in met])
    work = GoalWork()
    program_goals = [goal.id for goal in policy.program.goal_list]
    for pair, kind in met:
        rng = _rng(seed, pair.id, kind, pair.meetings_held)
        if kind == "kickoff" and rng.random() < ADDS_OWN:
            served = rng.choice(program_goals) if program_goals else None
            work.new.append((pair, rng.choice(OWN_GOALS), served))
        elif kind != "kickoff" and rng.random() < STEPS:
            open_goals = [g for g in goals.get(pair.id, []) if g.status in NEXT]
            if open_goals:
                goal = rng.choice(open_goals)
                work.steps.append((pair, goal.id, NEXT[goal.status]))
    return work


def record_goals(
    store: Engine, policy: Policy, world: World, work: GoalWork, said: Sequence[str]
) -> tuple[int, int]:
    """Record ``work`` through the goals service, each item with the actor its link opened for (``said``,
    in the order of :attr:`GoalWork.visits`); returns (goals set, levels changed)."""
    by = iter(said)
    clock = SimulatedClock(world.now)
    target = (world.now + timedelta(days=150)).date()
    to_set = [NewGoal(p.id, title, served, target, actor=next(by)) for p, title, served in work.new]
    to_step = [GoalLevel(p.id, goal_id, level, actor=next(by)) for p, goal_id, level in work.steps]
    made = len(set_goals(store, policy, clock, to_set, actor="pair")) if to_set else 0
    moved = record_levels(store, policy, clock, to_step, actor="pair") if to_step else 0
    return made, moved
