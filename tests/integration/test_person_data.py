"""An access request: everything held about one participant, and nothing about anyone else."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.errors import NotFoundError
from engine.policy.model import Policy
from engine.services.goals import NewGoal, set_goals
from engine.services.matching import propose
from engine.services.person_data import FORMAT, as_json, person_data
from engine.services.recording import record_meeting
from engine.store.tables import participants

from .support import answer_final, import_examples, to_review


def test_an_export_holds_all_of_a_person_and_none_of_the_others(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    propose(store, lifecycle, clock, actor="matching")
    to_review(store, policy, lifecycle, clock, rels[9])  # Priya Raman's pair, with Marieke de Vries
    record_meeting(store, policy, clock, rels[9], "check-in", None, actor="coordinator", notes="went well")
    answer_final(store, policy, clock, rels[9], "mentee")
    answer_final(store, policy, clock, rels[9], "mentor")
    target = (clock.now() + timedelta(days=30)).date()
    (goal,) = set_goals(
        store, policy, clock, [NewGoal(rels[9], "Write a blog post", "network", target)], actor="c"
    )
    with store.connect() as conn:
        people = [dict(r) for r in conn.execute(select(participants)).mappings()]
    priya = next(p for p in people if p["name"] == "Priya Raman")
    data = person_data(store, priya["email"], clock.now())
    text = as_json(data)
    assert data["format"] == FORMAT and set(data["participant"]) == set(participants.c.keys())
    assert data["participant"]["goals"] == priya["goals"] and priya["email"] in text
    assert [r["id"] for r in data["relationships"]] == [rels[9]]
    assert [e["seq"] for e in data["audit_entries"]] == list(range(1, len(data["audit_entries"]) + 1))
    assert {a["respondent"] for a in data["survey_responses"]} == {"mentee"}  # her answers, not his
    assert [m["notes"] for m in data["meetings"] if m["notes"]] == ["went well"]
    mine = next(g for g in json.loads(text)["goals"] if g["id"] == goal)  # her goals, the target a day
    assert (mine["text"], mine["target_date"]) == ("Write a blog post", target.isoformat())
    assert data["session_invitations"] == []  # the peer sessions are for mentors
    assert data["messages"] and all(m["params"].get("recipient") != "mentor" for m in data["messages"])
    assert data["match_proposals"] and all("explanation" not in p for p in data["match_proposals"])
    for other in people:
        if other["id"] != priya["id"]:
            assert other["name"] not in text and other["email"] not in text, other["name"]
    assert json.loads(text)["participant"]["id"] == priya["id"]


def test_an_unknown_person_is_refused(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    import_examples(store, policy, clock)
    with pytest.raises(NotFoundError, match="no participant 'nobody'"):
        person_data(store, "nobody", clock.now())
