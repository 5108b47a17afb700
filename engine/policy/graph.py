"""Checks of a policy's phase graph, run when the policy loads.

One initial phase; every phase reachable from it; terminal phases with no
way out and every other phase with one; transitions that name only known
phases and no reserved trigger; deadlines that fire only known triggers from
the phase they sit on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import TYPE_CHECKING

from engine.policy.problems import Loc, shown, unknown_name
from engine.policy.timers import PROGRAM_DURATION, timer_of
from engine.policy.vocabulary import RESERVED_TRIGGERS

if TYPE_CHECKING:
    from engine.policy.model import Policy


def graph_problems(policy: Policy) -> list[tuple[Loc, str]]:
    """Every problem of the graph, each with the location in the file it concerns."""
    problems = _initial_problems(policy) + _reference_problems(policy)
    if problems:
        return problems
    return _reachability_problems(policy) + _deadline_problems(policy) + _loops_at_once(policy)


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
            problems.append(
                (("phases", name), "a phase cannot be both initial and terminal (expected one or the other)")
            )
    if not any(phase.terminal for phase in policy.phases.values()):
        problems.append(
            (("phases",), "no phase is marked `terminal: true` (expected at least one, e.g. closed)")
        )
    return problems


def _reference_problems(policy: Policy) -> list[tuple[Loc, str]]:
    phases = policy.phases
    initial = [phase for phase in phases.values() if phase.initial]
    single_initial = len(initial) == 1 and not initial[0].terminal
    problems: list[tuple[Loc, str]] = []
    for i, t in enumerate(policy.transitions):
        if t.trigger in RESERVED_TRIGGERS:
            problems.append(
                (
                    ("transitions", i, "trigger"),
                    f"{shown(t.trigger)} is reserved for the audit entries of recorded meetings and survey "
                    "answers, erasures and policy versions applied (expected another trigger name)",
                )
            )
        if t.to not in phases:
            problems.append((("transitions", i, "to"), unknown_name("phase", t.to, phases)))
        elif single_initial and phases[t.to].initial:
            problems.append(
                (
                    ("transitions", i, "to"),
                    f"{shown(t.to)} is the initial phase (expected a later phase: no transition leads back)",
                )
            )
        problems += [(("transitions", i, "from"), message) for message in _source_problems(policy, t.sources)]
    problems += _duplicate_edges(policy)
    return problems


def _source_problems(policy: Policy, sources: list[str]) -> list[str]:
    if sources == ["*"]:
        return []
    problems: list[str] = []
    for source in sources:
        if source == "*":
            problems.append('"*" stands for every phase (expected from: "*" on its own, not in a list)')
        elif source not in policy.phases:
            problems.append(unknown_name("phase", source, [*policy.phases, "*"]))
        elif policy.phases[source].terminal:
            problems.append(
                f"{shown(source)} is a terminal phase (expected a phase that is not terminal: "
                "nothing leaves a terminal phase)"
            )
    return problems


def _duplicate_edges(policy: Policy) -> list[tuple[Loc, str]]:
    """A transition that repeats an earlier one between the same phases, with the same conditions.

    The same trigger may lead between two phases twice with different ``requires``
    (the default closes from review with ``survey_complete``, and from ``"*"`` with a
    reason): either set of conditions lets it fire. Repeating the conditions adds nothing.
    """
    seen: dict[tuple[str, ...], int] = {}
    problems: list[tuple[Loc, str]] = []
    reported: set[int] = set()
    for edge in policy.edges:
        requires = json.dumps([call.to_yaml() for call in edge.requires], sort_keys=True)
        key = (edge.trigger, edge.source, edge.dest, requires, str(edge.after))
        first = seen.setdefault(key, edge.index)
        if first != edge.index and edge.index not in reported:
            reported.add(edge.index)
            problems.append(
                (
                    ("transitions", edge.index),
                    f"repeats transitions[{first}] ({edge.trigger}: {edge.source} -> {edge.dest}, "
                    "same requires) (expected each transition once)",
                )
            )
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
                (
                    ("phases", name),
                    f"no transition leads to {shown(name)} from the initial phase "
                    f"{shown(policy.initial_phase)} (expected every phase to be reachable)",
                )
            )
        elif not phase.terminal and not targets[name]:
            problems.append(
                (
                    ("phases", name),
                    f"no transition leaves {shown(name)} "
                    "(expected a transition out of it, or `terminal: true`)",
                )
            )
    return problems


def _deadline_problems(policy: Policy) -> list[tuple[Loc, str]]:
    leaving: dict[str, set[str]] = defaultdict(set)
    for edge in policy.edges:
        leaving[edge.source].add(edge.trigger)
    problems: list[tuple[Loc, str]] = []
    for name, phase in policy.phases.items():
        if phase.terminal and (phase.deadline or phase.cadence):
            problems.append(
                (
                    ("phases", name),
                    "a terminal phase has a deadline or cadence "
                    "(expected neither: nothing is due in a terminal phase)",
                )
            )
        fire = phase.deadline.fire if phase.deadline else None
        if fire is not None and fire not in leaving[name]:
            loc: Loc = ("phases", name, "deadline", "fire")
            problems.append(
                (loc, unknown_name("trigger", fire, sorted(leaving[name]), f" from {shown(name)}"))
            )
    return problems


def _loops_at_once(policy: Policy) -> list[tuple[Loc, str]]:
    """A cycle of ``auto`` transitions the tick could take round and round at one moment.

    An edge the tick may take at once: ``auto``, no ``after:`` (a timer makes the cycle wait), and no
    ``reason`` required (the tick gives none). Every other condition is assumed to hold throughout,
    as the cycle may not flip it. One problem per cycle, at its first transition.
    """
    quick = [
        e for e in policy.edges if e.auto and e.after is None and all(c.name != "reason" for c in e.requires)
    ]
    targets: dict[str, set[str]] = defaultdict(set)
    for edge in quick:
        targets[edge.source].add(edge.dest)
    reach = {phase: _reached(targets, phase) for phase in policy.phases}
    problems: list[tuple[Loc, str]] = []
    seen: set[frozenset[str]] = set()
    for edge in sorted(quick, key=lambda e: e.index):
        ring = frozenset(p for p in policy.phases if p in reach[edge.source] and edge.source in reach[p])
        if edge.source not in ring or ring in seen:
            continue  # the edge is on no cycle, or its cycle is reported already
        seen.add(ring)
        names = ", ".join(dict.fromkeys(e.trigger for e in quick if e.source in ring and e.dest in ring))
        problems.append(
            (
                ("transitions", edge.index),
                f"the auto transitions {names} lead round {', '.join(p for p in policy.phases if p in ring)} "
                "with nothing to wait for: the tick could move a pair round them forever (expected an "
                "`after:` on one of them, or one that is not `auto` or has `requires: [reason]`)",
            )
        )
    return problems


def _reached(targets: dict[str, set[str]], start: str) -> set[str]:
    """The phases reachable from ``start`` by one edge or more."""
    reached: set[str] = set()
    frontier = list(targets[start])
    while frontier:
        phase = frontier.pop()
        if phase not in reached:
            reached.add(phase)
            frontier.extend(targets[phase])
    return reached


def policy_warnings(policy: Policy) -> list[tuple[Loc, str]]:
    """Combinations that load but cannot mean what they say, each with its location (nothing refused)."""
    found: list[tuple[Loc, str]] = []
    for name, phase in policy.phases.items():
        cadence = phase.cadence
        if cadence is not None and cadence.remind_after.approx() < cadence.check_in.approx():
            found.append(
                (
                    ("phases", name, "cadence", "remind_after"),
                    f"{cadence.remind_after} is shorter than check_in (every {cadence.check_in}): the pair "
                    "is reminded before a meeting is due (expected remind_after of at least the check-in)",
                )
            )
    program = policy.program.duration
    for i, t in enumerate(policy.transitions):
        after, _ = timer_of(t.after, program)
        uses_program = PROGRAM_DURATION in (t.after, getattr(t.after, "duration", None))
        if after is not None and not uses_program and after.approx() > program.approx():
            found.append(
                (
                    ("transitions", i, "after"),
                    f"{after} is longer than the program (program.duration: {program}): this timer "
                    "cannot run out inside it (expected at most the program's duration)",
                )
            )
    return found
