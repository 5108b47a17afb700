"""Checks of a policy's phase graph, run when the policy loads.

One initial phase; every phase reachable from it; terminal phases with no
way out and every other phase with one; transitions that name only known
phases; deadlines that fire only known triggers from the phase they sit on.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.policy import Policy

Loc = tuple[str | int, ...]


def graph_problems(policy: Policy) -> list[tuple[Loc, str]]:
    """Every problem of the graph, each with the location in the file it concerns."""
    problems = _initial_problems(policy) + _reference_problems(policy)
    if problems:
        return problems
    return _reachability_problems(policy) + _deadline_problems(policy)


def _initial_problems(policy: Policy) -> list[tuple[Loc, str]]:
    initial = [name for name, phase in policy.phases.items() if phase.initial]
    if not initial:
        return [(("phases",), "no phase is marked `initial: true` (expected exactly one)")]
    if len(initial) > 1:
        return [
            (
                ("phases", name, "initial"),
                f"more than one initial phase: {', '.join(initial)} (expected exactly one)",
            )
            for name in initial[1:]
        ]
    problems: list[tuple[Loc, str]] = []
    for name, phase in policy.phases.items():
        if phase.initial and phase.terminal:
            problems.append((("phases", name), "a phase cannot be both initial and terminal"))
    if not any(phase.terminal for phase in policy.phases.values()):
        problems.append(
            (("phases",), "no phase is marked `terminal: true` (expected at least one, e.g. closed)")
        )
    return problems


def _reference_problems(policy: Policy) -> list[tuple[Loc, str]]:
    known = set(policy.phases)
    expected = f"expected one of: {', '.join(policy.phases)}"
    problems: list[tuple[Loc, str]] = []
    for i, t in enumerate(policy.transitions):
        if t.to not in known:
            problems.append((("transitions", i, "to"), f"unknown phase {t.to!r} ({expected})"))
        elif policy.phases[t.to].initial:
            problems.append(
                (("transitions", i, "to"), f"no transition may lead back to the initial phase {t.to!r}")
            )
        for source in t.sources:
            if source == "*" and len(t.sources) == 1:
                continue
            if source not in known:
                problems.append((("transitions", i, "from"), f'unknown phase {source!r} ({expected} or "*")'))
            elif policy.phases[source].terminal:
                problems.append(
                    (("transitions", i, "from"), f"{source!r} is terminal: no transition may leave it")
                )
    problems += _duplicate_edges(policy)
    return problems


def _duplicate_edges(policy: Policy) -> list[tuple[Loc, str]]:
    seen: dict[tuple[str, str, str], int] = {}
    problems: list[tuple[Loc, str]] = []
    for i, t in enumerate(policy.transitions):
        for source in t.sources:
            key = (t.trigger, source, t.to)
            if key in seen:
                problems.append(
                    (
                        ("transitions", i),
                        f"repeats transitions[{seen[key]}] ({t.trigger}: {source} -> {t.to})",
                    )
                )
            seen.setdefault(key, i)
    return problems


def _reachability_problems(policy: Policy) -> list[tuple[Loc, str]]:
    targets: dict[str, set[str]] = defaultdict(set)
    for edge in policy.edges:
        targets[edge.source].add(edge.dest)
    reached = {policy.initial_phase}
    frontier = [policy.initial_phase]
    while frontier:
        for dest in targets[frontier.pop()] - reached:
            reached.add(dest)
            frontier.append(dest)
    problems: list[tuple[Loc, str]] = []
    for name, phase in policy.phases.items():
        if name not in reached:
            problems.append(
                (("phases", name), f"phase {name!r} cannot be reached from {policy.initial_phase!r}")
            )
        elif not phase.terminal and not targets[name]:
            problems.append(
                (("phases", name), f"phase {name!r} has no way out (add a transition or mark it terminal)")
            )
    return problems


def _deadline_problems(policy: Policy) -> list[tuple[Loc, str]]:
    leaving: dict[str, set[str]] = defaultdict(set)
    for edge in policy.edges:
        leaving[edge.source].add(edge.trigger)
    problems: list[tuple[Loc, str]] = []
    for name, phase in policy.phases.items():
        if phase.terminal and (phase.deadline or phase.cadence):
            problems.append((("phases", name), "a terminal phase has no deadline or cadence"))
        fire = phase.deadline.fire if phase.deadline else None
        if fire is not None and fire not in leaving[name]:
            allowed = ", ".join(sorted(leaving[name])) or "none"
            problems.append(
                (
                    ("phases", name, "deadline", "fire"),
                    f"unknown trigger {fire!r} from {name!r} (expected one of: {allowed})",
                )
            )
    return problems
