"""The program goals' figures recomputed from the audit export alone, apart from the engine's code.

Follows the definitions in the README: a development goal is set by a ``set_goal``
entry, or by the ``create`` entry of its relationship for the goals of the
participants file (either names the program goal it serves) and stands at the
level of its latest ``goal_progress`` entry, ``not_started`` without one; per
program goal of the policy (then any other id the entries name, then the goals
serving none): the pairs with a goal serving it, the goals, how many at each
level, the share reached.
"""

from __future__ import annotations

from typing import Any

from engine.policy.model import Policy

GOAL_TRIGGERS = ("set_goal", "goal_progress")
LEVELS = ("reached", "partly", "started", "not_started")


def note_goal(goals: dict[int, list[Any]], record: dict[str, Any]) -> None:
    """Note a ``create`` record's goals, a ``set_goal`` or a ``goal_progress`` record in ``goals``
    (goal id -> [program goal, level])."""
    if record["trigger"] == "create":
        for goal in record["data"].get("goals", []):
            goals[goal["id"]] = [goal["program_goal"], "not_started"]
        return
    goal = record["data"]["goal"]
    if record["trigger"] == "set_goal":
        goals[goal["id"]] = [goal["program_goal"], "not_started"]
    elif goal["id"] in goals:
        goals[goal["id"]][1] = goal["level"]


def program_goal_rows(per_pair: dict[int, dict[int, list[Any]]], policy: Policy) -> list[dict[str, Any]]:
    """The ``program_goals`` figure, from each pair's goals as :func:`note_goal` noted them."""
    names: dict[Any, str] = {g.id: g.title for g in policy.program.goal_list}
    served = [(rel, pg, level) for rel, goals in sorted(per_pair.items()) for pg, level in goals.values()]
    for _, pg, _ in served:
        if pg is not None and pg not in names:
            names[pg] = pg
    if any(pg is None for _, pg, _ in served):
        names[None] = "(none)"
    rows = []
    for pg, title in names.items():
        mine = [(rel, level) for rel, p, level in served if p == pg]
        rels = sorted({rel for rel, _ in mine})
        counts = {
            level: {"value": sum(1 for _, at in mine if at == level),
                    "relationships": sorted({rel for rel, at in mine if at == level})}
            for level in LEVELS
        }  # fmt: skip
        share = counts["reached"]["value"] / len(mine) if mine else None
        rows.append({
            "id": pg, "title": title,
            "mentees": {"value": len(rels), "relationships": rels},
            "goals": {"value": len(mine), "relationships": rels},
            "levels": counts,
            "share_reached": {"value": None if share is None else round(share, 4), "relationships": rels},
        })  # fmt: skip
    return rows
