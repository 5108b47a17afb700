"""The program goals' figures: per program goal, the mentees who worked on it and how far they got.

Read from the pairs' chains (:class:`engine.reporting.outcomes.GoalOutcome`): a
development goal is set by a ``set_goal`` entry, or by its relationship's
``create`` entry for the goals of the participants file; it serves the program
goal that entry names, and stands at the level of its
latest ``goal_progress`` entry (``not_started`` without one). Per program goal
of the policy, in its order, then any id only the history names, then the goals
that serve none:

- ``mentees``: the pairs whose mentee has at least one goal serving it;
- ``goals``: those goals; per level, how many stand there;
- ``share_reached``: reached over goals (``null`` without goals).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.policy.model import Policy
from engine.policy.surveys import GOAL_LEVELS
from engine.reporting.outcomes import PairOutcome
from engine.reporting.stats import Figure, figure

NO_PROGRAM_GOAL = "(none)"


def program_goals(pairs: Sequence[PairOutcome], policy: Policy) -> list[dict[str, Any]]:
    """A row per program goal (and one for goals serving none, when there are any)."""
    titles: dict[str | None, str] = {goal.id: goal.title for goal in policy.program.goal_list}
    for pair in pairs:
        for goal in pair.goals.values():
            served = goal.program_goal
            if served not in titles:
                titles[served] = NO_PROGRAM_GOAL if served is None else served
    if None in titles:  # the goals serving no program goal come last
        titles[None] = titles.pop(None)
    return [_row(pairs, served, title) for served, title in titles.items()]


def _row(pairs: Sequence[PairOutcome], served: str | None, title: str) -> dict[str, Any]:
    goals = [(p.id, g.level) for p in pairs for g in p.goals.values() if g.program_goal == served]
    rels = [rel for rel, _ in goals]
    levels: dict[str, Figure] = {
        level: figure(sum(1 for _, at in goals if at == level), (r for r, at in goals if at == level))
        for level in GOAL_LEVELS
    }
    reached = levels["reached"]["value"] / len(goals) if goals else None
    return {
        "id": served,
        "title": title,
        "mentees": figure(len(set(rels)), rels),
        "goals": figure(len(goals), rels),
        "levels": levels,
        "share_reached": figure(reached, rels),
    }
