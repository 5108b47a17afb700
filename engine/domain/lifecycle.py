"""The lifecycle of a relationship, built with `transitions` from a policy.

One ``Machine`` is built per policy (``model=None``), as the transitions FAQ
recommends, with a single reusable cursor model: firing a trigger sets the
cursor to the relationship's phase and asks the machine to move it. No
machine is built per relationship, so advancing thousands stays cheap. This
is the only module that imports ``transitions``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from transitions import EventData, Machine

from engine.errors import RefusedError
from engine.policy.model import Edge, Policy
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


@dataclass(frozen=True)
class _Way:
    """What the machine has for one trigger from one phase: its state, event and transitions, in order."""

    phase: str
    trigger: str
    state: Any
    event: Any
    transitions: list[Any]


@dataclass
class _Cursor:
    """The one model the machine moves; it stands in for whichever relationship is fired."""

    state: str = ""
    taken: Move | None = None
    refusals: list[str] = field(default_factory=list)


def unmet(edge: Edge, facts: Facts) -> list[str]:
    """Why ``edge`` may not be taken now: its unmet ``requires`` and ``after`` (empty if it may)."""
    reasons = []
    for call in edge.requires:
        check = call.term.check
        assert check is not None, f"condition {call.name} has no check"
        why = check(facts, call.param)
        if why is not None:
            reasons.append(why)
    if edge.after is not None and edge.after.after(facts.phase_entered_at) > facts.now:
        due = edge.after.after(facts.phase_entered_at)
        reasons.append(
            f"the pair has been in {edge.source!r} less than {edge.after} (until {due:%Y-%m-%d %H:%M})"
        )
    return reasons


class Lifecycle:
    """The phases and transitions of one policy, and the decision whether a trigger may fire.

    Not thread-safe: use one per thread.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._edges: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        self._cursor = _Cursor(state=policy.initial_phase)
        self._machine = Machine(
            model=None,
            states=list(policy.phases),
            initial=policy.initial_phase,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for edge in policy.edges:
            self._edges[(edge.trigger, edge.source)].append(edge)
            self._machine.add_transition(
                edge.trigger, edge.source, edge.dest, conditions=[partial(self._allows, Move(edge))]
            )
        self._machine.add_model(self._cursor, initial=policy.initial_phase)

    @property
    def phases(self) -> list[str]:
        return list(self.policy.phases)

    def triggers_from(self, phase: str) -> list[str]:
        """The triggers that lead out of ``phase``, in policy order."""
        return list(dict.fromkeys(t for (t, source) in self._edges if source == phase))

    def auto_edges_from(self, phase: str) -> list[Edge]:
        """The ``auto: true`` edges leaving ``phase``, in policy order."""
        return [e for (_, s), edges in self._edges.items() if s == phase for e in edges if e.auto]

    def reads(self, trigger: str) -> frozenset[str]:
        """The stored facts the conditions of ``trigger``'s transitions read (see ``FACT_SOURCES``)."""
        return frozenset().union(
            *(call.term.reads for (t, _), edges in self._edges.items() if t == trigger
              for edge in edges for call in edge.requires)
        )  # fmt: skip

    def fire(self, phase: str, trigger: str, facts: Facts) -> Move:
        """Move a relationship in ``phase`` by ``trigger``, or raise RefusedError saying why."""
        return self.firing(trigger)(phase, facts)

    def firing(self, trigger: str) -> Callable[[str, Facts], Move]:
        """:meth:`fire` for one trigger on many relationships: ``fire(phase, facts)``.

        What depends only on the phase (is the trigger allowed from it, which
        transitions may take it) is looked up once per phase; the machine still
        tries those transitions in order and moves the cursor for each relationship.
        """
        ways: dict[str, _Way | str] = {}

        def fire(phase: str, facts: Facts) -> Move:
            way = ways.get(phase)
            if way is None:
                way = ways[phase] = self._way(phase, trigger)
            if isinstance(way, str):
                raise RefusedError(way)
            return self._try(way, facts)

        return fire

    def _way(self, phase: str, trigger: str) -> _Way | str:
        """The machine's way for ``trigger`` out of ``phase``, or why there is none."""
        try:
            self._check_known(phase, trigger)
        except RefusedError as exc:
            return exc.message
        event = self._machine.events[trigger]
        return _Way(phase, trigger, self._machine.get_state(phase), event, event.transitions[phase])

    def _try(self, way: _Way, facts: Facts) -> Move:
        """What ``Event.trigger`` does for the cursor (this machine has no event callbacks to run)."""
        cursor = self._cursor
        cursor.state, cursor.taken, cursor.refusals = way.phase, None, []
        event = EventData(way.state, way.event, self._machine, cursor, (), {"facts": facts})
        for transition in way.transitions:
            event.transition = transition
            if transition.execute(event):
                event.result = True
                break
        if not event.result or cursor.taken is None:
            raise RefusedError(self._refusal(way.phase, way.trigger, cursor.refusals))
        return cursor.taken

    def try_fire(self, phase: str, trigger: str, facts: Facts) -> Move | None:
        """Like :meth:`fire`, but ``None`` instead of an error when the trigger may not fire."""
        try:
            return self.fire(phase, trigger, facts)
        except RefusedError:
            return None

    def _allows(self, move: Move, event: EventData) -> bool:
        reasons = unmet(move.edge, event.kwargs["facts"])
        if reasons:
            self._cursor.refusals.append(" and ".join(reasons))
            return False
        self._cursor.taken = move
        return True

    def _check_known(self, phase: str, trigger: str) -> None:
        if phase not in self.policy.phases:
            raise RefusedError(
                f"the relationship is in phase {phase!r}, which policy "
                f"{self.policy.policy!r} does not have (phases: {', '.join(self.policy.phases)})"
            )
        if trigger not in self._machine.events:
            known = ", ".join(sorted(self._machine.events))
            raise RefusedError(f"unknown trigger {trigger!r} (expected one of: {known})")
        if (trigger, phase) not in self._edges:
            allowed = ", ".join(self.triggers_from(phase)) or "none: the phase is terminal"
            raise RefusedError(
                f"{trigger!r} is not allowed from phase {phase!r} (allowed from {phase!r}: {allowed})"
            )

    def _refusal(self, phase: str, trigger: str, reasons: list[str]) -> str:
        why = "; or ".join(dict.fromkeys(reasons)) or "its conditions do not hold"
        return f"{trigger!r} from phase {phase!r} refused: {why}"
