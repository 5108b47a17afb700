"""The lifecycle of a relationship, built from a policy: which trigger may move a pair, and where.

The policy's transitions become a plain edge table, built once: for each
trigger and source phase, the transitions in policy order. Firing a trigger
tries them in that order and takes the first whose conditions hold. The
`transitions` library builds the policy's machine once (``model=None``, through
its public API) and names the triggers; nothing changes after the lifecycle is
built, so one lifecycle can be shared between threads, and no machine is built
per relationship, so advancing thousands stays cheap. This is the only module
that imports ``transitions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from transitions import Machine

from engine.errors import RefusedError
from engine.policy.model import Edge, Policy
from engine.policy.timers import FIRST_ENTRY, TIME_IN_PHASE, runs_out
from engine.policy.vocabulary import Facts


@dataclass(frozen=True)
class Move:
    """The outcome of a trigger that was allowed: the edge it took."""

    edge: Edge

    @property
    def source(self) -> str:
        return self.edge.source

    @property
    def dest(self) -> str:
        return self.edge.dest

    @property
    def trigger(self) -> str:
        return self.edge.trigger


def unmet(edge: Edge, facts: Facts) -> list[str]:
    """Why ``edge`` may not be taken now: its unmet ``requires`` and ``after`` (empty if it may)."""
    reasons = []
    for call in edge.requires:
        check = call.term.check
        assert check is not None, f"condition {call.name} has no check"
        why = check(facts, call.param)
        if why is not None:
            reasons.append(why)
    if edge.after is not None:
        entered, before, first = facts.phase_entered_at, facts.phase_time_before, facts.phase_first_entered_at
        due = runs_out(edge.after, edge.since, entered, before, first)
        if due > facts.now:
            reasons.append(f"{_waiting(edge, facts)} (until {due:%Y-%m-%d %H:%M})")
    return reasons


def _waiting(edge: Edge, facts: Facts) -> str:
    if edge.since == TIME_IN_PHASE and facts.phase_time_before:
        return f"the pair has spent less than {edge.after} in {edge.source!r} (over all its stays)"
    if edge.since == FIRST_ENTRY and facts.phase_first_entered_at is not None:
        return f"less than {edge.after} has passed since the pair first entered {edge.source!r}"
    return f"the pair has been in {edge.source!r} less than {edge.after}"


class Lifecycle:
    """The phases and transitions of one policy, and the decision whether a trigger may fire.

    Safe to share between threads: everything is built in ``__init__`` and never
    changed after, and a decision reads only that and the facts it is given.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        ways: dict[tuple[str, str], list[Move]] = {}
        for edge in policy.edges:
            ways.setdefault((edge.trigger, edge.source), []).append(Move(edge))
        self._ways: Mapping[tuple[str, str], tuple[Move, ...]] = MappingProxyType(
            {key: tuple(moves) for key, moves in ways.items()}
        )
        machine = Machine(
            model=None,
            states=list(policy.phases),
            transitions=[[e.trigger, e.source, e.dest] for e in policy.edges],
            initial=policy.initial_phase,
            auto_transitions=False,
        )
        self._triggers = frozenset(machine.get_triggers(*policy.phases))

    @property
    def phases(self) -> list[str]:
        return list(self.policy.phases)

    def triggers_from(self, phase: str) -> list[str]:
        """The triggers that lead out of ``phase``, in policy order."""
        return list(dict.fromkeys(t for (t, source) in self._ways if source == phase))

    def auto_edges_from(self, phase: str) -> list[Edge]:
        """The ``auto: true`` edges leaving ``phase``, in policy order."""
        return [m.edge for (_, s), moves in self._ways.items() if s == phase for m in moves if m.edge.auto]

    def reads(self, trigger: str) -> frozenset[str]:
        """The stored facts the conditions of ``trigger``'s transitions read (see ``FACT_SOURCES``)."""
        return frozenset().union(
            *(call.term.reads for (t, _), moves in self._ways.items() if t == trigger
              for move in moves for call in move.edge.requires)
        )  # fmt: skip

    def fire(self, phase: str, trigger: str, facts: Facts) -> Move:
        """Move a relationship in ``phase`` by ``trigger``, or raise RefusedError saying why."""
        return self.firing(trigger)(phase, facts)

    def firing(self, trigger: str) -> Callable[[str, Facts], Move]:
        """:meth:`fire` for one trigger on many relationships: ``fire(phase, facts)``.

        What depends only on the phase (is the trigger allowed from it, which
        transitions may take it) is looked up once per phase; the transitions are
        then tried in policy order, the first allowed taken, once per phase and
        :class:`Facts` object (relationships alike may share one: the conditions are
        pure, and the memo keeps the facts, so no other object can take their id).
        """
        ways: dict[str, tuple[Move, ...] | str] = {}
        decided: dict[tuple[str, int], tuple[Facts, Move | str]] = {}

        def fire(phase: str, facts: Facts) -> Move:
            kept = decided.get((phase, id(facts)))
            if kept is None or kept[0] is not facts:
                way = ways.get(phase)
                if way is None:
                    way = ways[phase] = self._way(phase, trigger)
                kept = decided[(phase, id(facts))] = (facts, self._decision(phase, trigger, way, facts))
            if isinstance(kept[1], str):
                raise RefusedError(kept[1])
            return kept[1]

        return fire

    def _decision(self, phase: str, trigger: str, way: tuple[Move, ...] | str, facts: Facts) -> Move | str:
        """The move ``trigger`` makes out of ``phase`` given ``facts``, or why it may not."""
        if isinstance(way, str):
            return way
        try:
            return self._take(phase, trigger, way, facts)
        except RefusedError as exc:
            return exc.message

    def _way(self, phase: str, trigger: str) -> tuple[Move, ...] | str:
        """The moves ``trigger`` may make out of ``phase``, in policy order, or why there are none."""
        try:
            self._check_known(phase, trigger)
        except RefusedError as exc:
            return exc.message
        return self._ways[(trigger, phase)]

    def _take(self, phase: str, trigger: str, moves: tuple[Move, ...], facts: Facts) -> Move:
        """The first of ``moves`` whose conditions hold, or a refusal naming what each one misses."""
        refusals = []
        for move in moves:
            reasons = unmet(move.edge, facts)
            if not reasons:
                return move
            refusals.append(" and ".join(reasons))
        raise RefusedError(self._refusal(phase, trigger, refusals))

    def try_fire(self, phase: str, trigger: str, facts: Facts) -> Move | None:
        """Like :meth:`fire`, but ``None`` instead of an error when the trigger may not fire."""
        try:
            return self.fire(phase, trigger, facts)
        except RefusedError:
            return None

    def _check_known(self, phase: str, trigger: str) -> None:
        if phase not in self.policy.phases:
            raise RefusedError(
                f"the relationship is in phase {phase!r}, which policy "
                f"{self.policy.policy!r} does not have (phases: {', '.join(self.policy.phases)})"
            )
        if trigger not in self._triggers:
            known = ", ".join(sorted(self._triggers))
            raise RefusedError(f"unknown trigger {trigger!r} (expected one of: {known})")
        if (trigger, phase) not in self._ways:
            allowed = ", ".join(self.triggers_from(phase)) or "none: the phase is terminal"
            raise RefusedError(
                f"{trigger!r} is not allowed from phase {phase!r} (allowed from {phase!r}: {allowed})"
            )

    def _refusal(self, phase: str, trigger: str, reasons: list[str]) -> str:
        why = "; or ".join(dict.fromkeys(reasons)) or "its conditions do not hold"
        return f"{trigger!r} from phase {phase!r} refused: {why}"
