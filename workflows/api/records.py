"""What happened, from the systems that know it: trainings completed (a learning system), meetings held
(a calendar) and survey answers (a survey tool).

Each is the service of ``mentorflow record training|meeting|survey``: the same checks (a meeting in the
future, of a pair not yet begun, a kickoff twice, an answer out of range, a survey not sent), the same
audit entry in the same transaction, with the token as actor. A batch is all or nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from engine.clock import held_at
from engine.domain.relationships import MEETING_KINDS
from engine.services.recording import HeldMeeting, SurveyResponse, record_meetings, record_surveys
from engine.services.tokens import TokenInfo
from engine.services.training import record_and_close
from workflows.api.idempotency import IdempotencyKey, once
from workflows.api.models import Id, Input
from workflows.api.problems import PROBLEMS
from workflows.api.security import config_of, scoped
from workflows.web.config import WebConfig

router = APIRouter(tags=["records"], responses=PROBLEMS)
Writer = Annotated[TokenInfo, Depends(scoped("records:write"))]
MAX_RECORDS = 5000


class Training(Input):
    mentor: str = Field(min_length=1, max_length=320, description="The mentor's id, external id or email.")


class TrainingRecorded(BaseModel):
    mentor: str
    relationships_due: list[int] = Field(description="The mentor's pairs, which the next tick reconsiders.")
    report_confirmed: int | None = Field(
        default=None, description="The training report the mentor made through their link, now confirmed."
    )


class Meeting(Input):
    relationship_id: Id
    kind: str = Field(default="check-in", examples=list(MEETING_KINDS), description=", ".join(MEETING_KINDS))
    held_on: date | None = Field(
        default=None, description="The day, in the program's time zone; today if left out."
    )
    notes: str | None = Field(default=None, max_length=2000)
    again: bool = Field(default=False, description="A second meeting of the same kind on the same day.")


class Meetings(Input):
    meetings: list[Meeting] = Field(min_length=1, max_length=MAX_RECORDS)


class SurveyAnswer(Input):
    relationship_id: Id
    survey: str = Field(min_length=1, max_length=100, examples=["final"])
    respondent: str = Field(examples=["mentee"], description="mentee or mentor")
    answers: dict[str, Any] = Field(examples=[{"satisfaction": 4, "recommend": 9}])


class SurveyAnswers(Input):
    answers: list[SurveyAnswer] = Field(min_length=1, max_length=MAX_RECORDS)


class Recorded(BaseModel):
    recorded: int


@router.post("/trainings", summary="Record a completed mentor training", response_model=TrainingRecorded)
async def record_training(
    request: Request, token: Writer, training: Training, key: IdempotencyKey = None
) -> Any:
    """The mentor finished the mentor training (as `mentorflow record training`): their pairs waiting
    for it move on at the next tick, and a report they made through their link is confirmed."""
    config = config_of(request)

    def run() -> TrainingRecorded:
        due, closed = record_and_close(config.store, config.clock, training.mentor, token.actor)
        return TrainingRecorded(mentor=training.mentor, relationships_due=due, report_confirmed=closed)

    return await once(request, token, key, TrainingRecorded, run)


@router.post("/meetings", summary="Record meetings held", response_model=Recorded)
async def record_meetings_held(
    request: Request, token: Writer, batch: Meetings, key: IdempotencyKey = None
) -> Any:
    """Meetings held (as `mentorflow record meeting`), all or nothing."""
    config = config_of(request)

    def run() -> Recorded:
        held = [
            HeldMeeting(m.relationship_id, m.kind, _moment(config, m.held_on), m.notes, m.again)
            for m in batch.meetings
        ]
        return Recorded(
            recorded=record_meetings(config.store, config.policy, config.clock, held, actor=token.actor)
        )

    return await once(request, token, key, Recorded, run)


def _moment(config: WebConfig, day: date | None) -> datetime | None:
    """A day as the pages take it (:func:`engine.clock.held_at`); ``None`` for none given: now."""
    return None if day is None else held_at(day, config.clock.now(), ZoneInfo(config.policy.program.timezone))


@router.post("/survey-answers", summary="Record survey answers", response_model=Recorded)
async def record_survey_answers(
    request: Request, token: Writer, batch: SurveyAnswers, key: IdempotencyKey = None
) -> Any:
    """Answers to the policy's surveys (as `mentorflow record survey`), each checked against its
    survey's questions, all or nothing; a wrong answer is named by its pointer (`/answers/3/...`)."""
    config = config_of(request)

    def run() -> Recorded:
        responses = [
            SurveyResponse(a.relationship_id, a.survey, a.respondent, a.answers, where=f"/answers/{i}")
            for i, a in enumerate(batch.answers)
        ]
        count = record_surveys(config.store, config.policy, config.clock, responses, actor=token.actor)
        return Recorded(recorded=count)

    return await once(request, token, key, Recorded, run)
