"""Development goals, from the systems that hold them (a talent or performance system): the goals a mentee
works on, set with the program goal they serve and a target date, and how far the mentee got.

Each is the service of ``mentorflow goals set|progress``: the same checks (a known program goal, a target
date still to come, an open pair of this program, no goal twice), an audit entry per goal set and per
level changed, with the token as actor. A batch is all or nothing; a wrong item is named by its pointer.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from engine.policy.surveys import GOAL_LEVELS
from engine.services.goals import MAX_TITLE, GoalLevel, NewGoal, goal_rows_of, record_levels, set_goals
from engine.services.tokens import TokenInfo
from workflows.api.idempotency import IdempotencyKey, once
from workflows.api.models import Id, Input
from workflows.api.problems import PROBLEMS
from workflows.api.security import config_of, scoped

router = APIRouter(tags=["goals"], responses=PROBLEMS)
Writer = Annotated[TokenInfo, Depends(scoped("records:write"))]
Reader = Annotated[TokenInfo, Depends(scoped("read"))]
MAX_GOALS_PER_REQUEST = 5000


class Goal(Input):
    relationship_id: Id
    title: str = Field(min_length=1, max_length=MAX_TITLE, examples=["Present at the all-hands"])
    program_goal: str | None = Field(
        default=None, max_length=64, description="The id of the policy's program goal it serves."
    )
    target: date | None = Field(default=None, description="When the mentee means to reach it.")


class Goals(Input):
    goals: list[Goal] = Field(min_length=1, max_length=MAX_GOALS_PER_REQUEST)


class GoalsSet(BaseModel):
    ids: list[int] = Field(description="The new goals' ids, in the order of the request.")


class Level(Input):
    relationship_id: Id
    goal_id: Id
    level: str = Field(examples=["partly"], description=", ".join(GOAL_LEVELS))


class Levels(Input):
    levels: list[Level] = Field(min_length=1, max_length=MAX_GOALS_PER_REQUEST)


class LevelsRecorded(BaseModel):
    changed: int = Field(
        description="How many goals changed level (one given its own level changes nothing)."
    )


class GoalOut(BaseModel):
    id: int
    relationship_id: int
    title: str
    program_goal: str | None
    target: date | None
    level: str
    set_by: str | None


@router.post("/goals", summary="Set development goals", response_model=GoalsSet)
async def set_development_goals(
    request: Request, token: Writer, batch: Goals, key: IdempotencyKey = None
) -> Any:
    """Goals for the mentees of open pairs (as `mentorflow goals set`), all or nothing."""
    config = config_of(request)

    def run() -> GoalsSet:
        new = [
            NewGoal(g.relationship_id, g.title, g.program_goal, g.target, where=f"/goals/{i}")
            for i, g in enumerate(batch.goals)
        ]
        return GoalsSet(ids=set_goals(config.store, config.policy, config.clock, new, actor=token.actor))

    return await once(request, token, key, GoalsSet, run)


@router.post(
    "/goal-levels", summary="Record how far mentees got with their goals", response_model=LevelsRecorded
)
async def record_goal_levels(
    request: Request, token: Writer, batch: Levels, key: IdempotencyKey = None
) -> Any:
    """Levels of goals (as `mentorflow goals progress`), all or nothing."""
    config = config_of(request)

    def run() -> LevelsRecorded:
        levels = [
            GoalLevel(g.relationship_id, g.goal_id, g.level, where=f"/levels/{i}")
            for i, g in enumerate(batch.levels)
        ]
        changed = record_levels(config.store, config.policy, config.clock, levels, actor=token.actor)
        return LevelsRecorded(changed=changed)

    return await once(request, token, key, LevelsRecorded, run)


@router.get(
    "/relationships/{rel_id}/goals",
    summary="A relationship's development goals",
    response_model=list[GoalOut],
)
async def read_goals(request: Request, token: Reader, rel_id: Id) -> list[GoalOut]:
    """The mentee's goals in the pair, in the order they were set, with how far each got."""
    config = config_of(request)
    rows = await run_in_threadpool(goal_rows_of, config.store, config.policy, rel_id)
    return [
        GoalOut(id=g.id, relationship_id=g.relationship_id, title=g.title, program_goal=g.program_goal,
                target=g.target_date, level=g.status, set_by=g.set_by)
        for g in rows
    ]  # fmt: skip
