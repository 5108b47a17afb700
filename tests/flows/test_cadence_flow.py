"""The cadence flow: one task per batch of due relationships, and nothing for those not due."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.domain.participants import Participant
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.services.participants import import_participants
from engine.services.queries import verify
from engine.services.recording import record_meeting
from engine.store.tables import meetings
from tests.conftest import START
from tests.flows.conftest import task_run_names
from tests.integration.support import TRAINED_MENTOR, fire, import_examples

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


def test_the_cadence_purges_what_the_policy_s_retention_says_has_expired(
    store: Engine, policy: Policy, tmp_path: Path
) -> None:
    from workflows.flows.cadence import cadence

    retained = tmp_path / "retained.yaml"
    text = Path(shipped_policies()["default"]).read_text(encoding="utf-8").rstrip("\n")
    retained.write_text(text + "\nretention:\n  meeting_notes: 30 days\n", encoding="utf-8")
    lifecycle, clock = Lifecycle(load_policy(retained)), SimulatedClock(START)
    rel = import_examples(store, lifecycle.policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    record_meeting(store, lifecycle.policy, clock, rel, "kickoff", None, actor="coordinator", notes="private")
    now = (clock.now() + timedelta(days=31)).isoformat()

    state = cadence(database=_url(store), policy=str(retained), now=now, return_state=True)

    assert state.result().purged == {"meeting_notes": 1}
    assert "purge-expired" in " ".join(task_run_names(state.state_details.flow_run_id, expected=2))
    with store.connect() as conn:
        assert (
            conn.execute(select(meetings.c.notes).where(meetings.c.relationship_id == rel)).scalar() is None
        )
    assert verify(store).problems == []
