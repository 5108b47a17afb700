"""The cadence flow: one task per batch of due relationships, and nothing for those not due."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.participants import Participant
from engine.policy.model import Policy, shipped_policies
from engine.services.participants import import_participants
from tests.conftest import START
from tests.flows.conftest import task_run_names

pytestmark = pytest.mark.flows


def _mentees(prefix: str, count: int) -> list[Participant]:
    return [
        Participant(
            external_id=f"{prefix}{i}",
            role="mentee",
            name=f"Mentee {prefix}{i}",
            email=f"{prefix}{i}@example.com",
        )
        for i in range(count)
    ]


def _url(store: Engine) -> str:
    return store.url.render_as_string(hide_password=False)


def test_one_task_per_batch_of_due_relationships(store: Engine, policy: Policy) -> None:
    from workflows.flows.cadence import cadence

    clock = SimulatedClock(START)
    import_participants(store, policy, clock, _mentees("a", 25), actor="test")  # due after 21 days
    clock.advance(timedelta(days=10))
    import_participants(store, policy, clock, _mentees("b", 15), actor="test")  # due 10 days later
    now = (START + timedelta(days=22)).isoformat()
    path = str(shipped_policies()["default"])

    state = cadence(database=_url(store), policy=path, now=now, batch_size=10, return_state=True)

    summary = state.result()
    assert summary.examined == 25  # the 15 not yet due are not even read
    assert summary.escalations == 25  # still unmatched after 21 days: the coordinator hears of each
    names = task_run_names(state.state_details.flow_run_id, expected=3)
    assert names == ["tick batch 1 of 3 (10)", "tick batch 2 of 3 (10)", "tick batch 3 of 3 (5)"]

    again = cadence(database=_url(store), policy=path, now=now, batch_size=10, return_state=True)
    assert again.result().examined == 0
    assert task_run_names(again.state_details.flow_run_id, expected=0, timeout=2) == []
