"""The stored facts the tick loads: those the conditions of the triggers it tries read, no others."""

from __future__ import annotations

import pytest

from engine.domain.lifecycle import Lifecycle
from engine.domain.ticking import tick_reads
from engine.policy.model import load_policy, shipped_policies


def _tried(lifecycle: Lifecycle) -> set[str]:
    """The triggers :func:`engine.domain.ticking.decide` may fire: the auto ones, the deadlines' ``fire``."""
    policy = lifecycle.policy
    tried = {edge.trigger for edge in policy.edges if edge.auto}
    return tried | {p.deadline.fire for p in policy.phases.values() if p.deadline and p.deadline.fire}


@pytest.mark.parametrize("name", sorted(shipped_policies()))
def test_the_tick_reads_what_the_conditions_of_its_triggers_read(name: str) -> None:
    lifecycle = Lifecycle(load_policy(shipped_policies()[name]))
    expected = frozenset().union(*(lifecycle.reads(t) for t in _tried(lifecycle)))
    assert tick_reads(lifecycle) == expected
    assert tick_reads(lifecycle) is tick_reads(lifecycle)  # worked out once per lifecycle


def test_the_default_tick_reads_no_goals() -> None:
    # no auto transition of the default policy checks a development goal: the tick skips that query
    lifecycle = Lifecycle(load_policy(shipped_policies()["default"]))
    assert "goals" not in tick_reads(lifecycle)
    assert "training" in tick_reads(lifecycle)  # kickoff waits for a trained mentor
