"""Evaluation: the surveys went out on entering review; this records the answers.

Reviews then close or renew through the cadence's ``auto`` transitions: the
pairs whose answers were recorded are ticked at once, so a pair whose survey
is complete closes in the same run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import resources
from workflows.flows.cadence import BATCH_SIZE, tick_ids

if TYPE_CHECKING:
    from engine.services.tick import TickSummary


@task(name="record-surveys", cache_policy=NO_CACHE)
def record_surveys(
    database: str, policy: str, now: str, responses: list[dict[str, Any]], actor: str = "evaluation"
) -> list[int]:
    """Record the survey responses, all or nothing; returns the relationships that answered."""
    from engine.clock import SimulatedClock
    from engine.services.recording import SurveyResponse
    from engine.services.recording import record_surveys as record

    answers = [
        SurveyResponse(r["relationship"], r["survey"], r["respondent"], r["answers"], r.get("where"))
        for r in responses
    ]
    clock = SimulatedClock(resources.moment(now))
    record(resources.store(database), resources.policy(policy), clock, answers, actor=actor)
    return sorted({r["relationship"] for r in responses})


@flow(name="evaluation", log_prints=False)
def evaluation(
    file: str | None = None,
    database: str | None = None,
    policy: str | None = None,
    now: str | None = None,
) -> TickSummary:
    """Record the survey answers of a file, then let the reviews they complete close."""
    from pathlib import Path

    from engine.files.records import read_survey_answers
    from engine.services.tick import TickSummary

    target = resources.resolve(database, policy, now)
    if file is None:
        return TickSummary()
    responses = [
        {
            "relationship": a.relationship_id,
            "survey": a.survey,
            "respondent": a.respondent,
            "answers": a.answers,
            "where": a.where,
        }
        for a in read_survey_answers(Path(file))
    ]
    answered = record_surveys(target.database, target.policy, target.now, responses)
    return tick_ids(target.database, target.policy, target.now, answered, BATCH_SIZE)
