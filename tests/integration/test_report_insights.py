"""Insights on a program built so that one matching criterion predicts satisfaction: it is named first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy, load_policy_text, shipped_policies
from engine.reporting.build import program_insights
from engine.reporting.insight_text import insights_text
from engine.reporting.insights import weights_yaml
from engine.services.matching import approve, propose
from engine.services.participants import import_participants
from engine.services.recording import HeldMeeting, SurveyResponse, record_meetings, record_surveys
from engine.services.tick import run_tick
from engine.simulation import generate_program
from engine.store.tables import participants, relationships
from tests.conftest import START
from tests.design_policy import matching_replaced
from tests.integration.report_support import exported

PREDICTOR = "compatibility"


def _matched_program(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    """Mentees matched by the engine's proposals (trained mentors), kicked off and active; their pairs."""
    program = generate_program(11, mentees=30, mentors=30, days=30)
    people = [
        p.model_copy(update={"trained": True}) if p.role == "mentor" else p for p in program.participants
    ]
    import_participants(store, policy, clock, people, actor="hr")
    run = propose(store, lifecycle, clock, actor="matching")
    pending = [row["relationship_id"] for row in run.rows if row["status"] == "pending"]
    assert len(approve(store, lifecycle, clock, pending, actor="coordinator").done) == len(pending) >= 15
    run_tick(store, lifecycle, clock.now())  # trained mentors: straight on to kickoff
    clock.set(clock.now() + timedelta(days=3))
    record_meetings(store, policy, clock, [HeldMeeting(r, "kickoff") for r in pending], actor="pair")
    run_tick(store, lifecycle, clock.now())  # kickoff held: active
    return pending


def _breakdowns(store: Engine) -> dict[int, dict[str, Any]]:
    """Each matched pair's per-criterion scores, as its match audit entry records them."""
    return {
        r["relationship_id"]: r["data"]["proposal"]["breakdown"]
        for r in exported(store)
        if r["trigger"] == "match"
    }


def _goal_counts(store: Engine, rel_ids: list[int]) -> dict[int, int]:
    query = (
        select(relationships.c.id, participants.c.goals)
        .join(participants, participants.c.id == relationships.c.mentee_id)
        .where(relationships.c.id.in_(rel_ids))
    )
    with store.connect() as conn:
        return {rid: len(goals or []) for rid, goals in conn.execute(query)}


def test_insights_name_the_criterion_that_predicted_satisfaction_first(
    store: Engine, policy: Policy, lifecycle: Lifecycle
) -> None:
    clock = SimulatedClock(START)
    pairs = _matched_program(store, policy, lifecycle, clock)
    clock.set(clock.now() + timedelta(days=200))
    run_tick(store, lifecycle, clock.now())  # six months on: review, and the final survey is sent
    breakdowns, goals = _breakdowns(store), _goal_counts(store, pairs)
    responses = []
    for rel_id in pairs:
        satisfaction = 1 + round(4 * breakdowns[rel_id][PREDICTOR]["score"])
        for respondent in ("mentee", "mentor"):
            answers = {"satisfaction": satisfaction, "recommend": 2 * satisfaction, "met_regularly": True,
                       "goals": ["reached"] * goals[rel_id]}  # fmt: skip
            responses.append(SurveyResponse(rel_id, "final", respondent, answers))
    record_surveys(store, policy, clock, responses, actor="pair")

    found, names = program_insights(store, policy, clock.now())

    first = found.criteria[0]
    assert first.criterion == PREDICTOR and first.judged and first.n == len(pairs)
    assert first.rho is not None and first.rho > 0.9
    assert all((s.rho or 0) < first.rho for s in found.criteria[1:])
    text = insights_text(found, names, ZoneInfo(policy.program.timezone))
    assert text.splitlines()[3].startswith("  Compatibility predicted good relationships best")
    assert found.weights is not None
    assert max(found.weights, key=lambda c: found.weights[c] if found.weights else 0) == PREDICTOR
    default = Path(shipped_policies()["default"]).read_text(encoding="utf-8")
    snippet_in = matching_replaced(default, weights_yaml(found.weights))  # replaces the matching block
    reweighted = load_policy_text(snippet_in, "reweighted.yaml")
    assert reweighted.matching.weights.of(PREDICTOR) == found.weights[PREDICTOR]
