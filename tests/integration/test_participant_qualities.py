"""Personal qualities through the store: imported, re-imported, matched on, handed over, erased."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.files.participants import read_participants_text
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.services import matching, queries
from engine.services import participants as services
from engine.services.erasure import ErasureRequest, erase_participant
from engine.services.participant_history import participant_history
from engine.services.person_data import as_json, person_data
from engine.store.tables import participants

from .support import import_examples

JEROEN = "E1001,mentor,Jeroen van den Bergh,jeroen.vandenbergh@example.com"


def stored(store: Engine, key: str) -> dict[str, Any]:
    with store.connect() as conn:
        query = select(participants).where(participants.c.external_id == key)
        return dict(conn.execute(query).mappings().one())


def reimport(store: Engine, policy: Policy, clock: SimulatedClock, text: str) -> services.ImportSummary:
    read = read_participants_text(text, "people.csv")
    return services.import_participants(
        store, policy, clock, read.people, actor="hr", columns=read.columns, rows=read.rows
    )


def test_a_file_without_the_column_leaves_the_qualities_and_one_with_it_changes_them(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    assert stored(store, "E1001")["qualities"] == ["patience", "honesty", "communication"]

    same = reimport(store, policy, clock, f"external_id,role,name,email\n{JEROEN}\n")
    assert (same.updated, same.unchanged) == (0, 1)
    assert stored(store, "E1001")["qualities"] == ["patience", "honesty", "communication"]

    unchanged = reimport(
        store,
        policy,
        clock,
        f"external_id,role,name,email,qualities\n{JEROEN},patience;honesty;communication\n",
    )
    changed = reimport(
        store, policy, clock, f"external_id,role,name,email,qualities\n{JEROEN},Patience;humour\n"
    )
    assert (unchanged.updated, unchanged.unchanged) == (0, 1)
    assert (changed.updated, changed.unchanged) == (1, 0)
    assert stored(store, "E1001")["qualities"] == ["Patience", "humour"]
    _, entries = participant_history(store, "E1001")
    assert [(e["cause"], e["fields"]) for e in entries][-1] == ("import", ["qualities"])

    cleared = reimport(store, policy, clock, f"external_id,role,name,email,qualities\n{JEROEN},\n")
    assert cleared.updated == 1 and stored(store, "E1001")["qualities"] == []
    assert queries.verify(store).problems == []


def test_the_proposals_of_a_policy_that_weighs_them_explain_the_qualities(
    store: Engine, clock: SimulatedClock
) -> None:
    buddy = load_policy(shipped_policies()["onboarding-buddy"])
    import_examples(store, buddy, clock)

    outcome = matching.propose(store, Lifecycle(buddy), clock, actor="coordinator")

    proposed = [row for row in outcome.rows if row["mentor_id"] is not None]
    assert proposed
    for row in proposed:
        qualities = {c["criterion"]: c for c in row["breakdown"]["criteria"]}["qualities"]
        assert (qualities["label"], qualities["weight"]) == ("personal qualities", 2.0)
        assert qualities["detail"].startswith("qualities ")


def test_the_default_policy_s_proposals_say_nothing_of_qualities_unless_it_weighs_them(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)

    outcome = matching.propose(store, Lifecycle(policy), clock, actor="coordinator")

    named = {c["criterion"] for row in outcome.rows if row["breakdown"] for c in row["breakdown"]["criteria"]}
    assert ("qualities" in named) == (policy.matching.weights.qualities is not None)


def test_an_access_request_shows_them_and_an_erasure_empties_them(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)

    held = json.loads(as_json(person_data(store, "E1001", clock.now())))
    assert held["participant"]["qualities"] == ["patience", "honesty", "communication"]

    erase_participant(store, Lifecycle(policy), clock, ErasureRequest("E1001", "request 7", "dpo"))
    with store.connect() as conn:
        row = conn.execute(
            select(participants.c.qualities).where(participants.c.erased_at.is_not(None))
        ).one()
    assert row.qualities == []
