"""``/proposals``: the matching proposals waiting for a decision, each with its score by criterion and
its explanation, and the decisions: approve (the pair is matched, as ``match approve``) or reject with a
reason (as ``match reject``: the pair is never proposed again)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from engine.domain.lifecycle import Lifecycle
from engine.errors import RefusedError
from engine.services import pages
from engine.services.limits import INTEGER_MAX
from engine.services.matching import approve, reject
from engine.services.tokens import TokenInfo
from workflows.api.idempotency import IdempotencyKey, once
from workflows.api.models import Cursor, Input, Limit, Page, after_of, cursor_of
from workflows.api.problems import PROBLEMS
from workflows.api.security import config_of, scoped

router = APIRouter(prefix="/proposals", tags=["matching"], responses=PROBLEMS)
Reader = Annotated[TokenInfo, Depends(scoped("read"))]
Decider = Annotated[TokenInfo, Depends(scoped("matching:write"))]
RelId = Annotated[int, Path(ge=1, le=INTEGER_MAX, description="The relationship the proposal is for.")]


class ProposalOut(BaseModel):
    """A pending proposal: the mentor proposed for a relationship's mentee, and why."""

    relationship_id: int
    run: int = Field(description="The `match propose` run that made it.")
    mentee_id: int
    mentee: str
    mentee_key: str
    mentor_id: int | None
    mentor: str | None
    mentor_key: str | None
    score: float | None
    breakdown: dict[str, Any] = Field(description="The score of each criterion.")
    explanation: Any = Field(description="Why, criterion by criterion, as `match explain` says.")
    created_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> ProposalOut:
        return cls.model_validate({**row, "mentee": row["mentee_name"], "mentor": row["mentor_name"]})


class Rejection(Input):
    reason: str = Field(min_length=1, max_length=2000, examples=["they work in the same team"])


class Decided(BaseModel):
    relationship_id: int
    decision: str = Field(examples=["approved"])


@router.get("", summary="Pending matching proposals", response_model=Page[ProposalOut])
async def list_proposals(
    request: Request, token: Reader, cursor: Cursor = None, limit: Limit = 100
) -> Page[ProposalOut]:
    """The proposals waiting for a decision, by relationship, a page at a time."""
    config = config_of(request)
    found = await run_in_threadpool(
        pages.proposals, config.store, config.policy.policy, after=after_of(cursor), limit=limit
    )
    return Page(items=[ProposalOut.of(row) for row in found.items], next_cursor=cursor_of(found.next_after))


@router.post("/{rel_id}/approve", summary="Approve a proposal", response_model=Decided)
async def approve_proposal(
    request: Request, token: Decider, rel_id: RelId, key: IdempotencyKey = None
) -> Any:
    """The pair is matched as proposed (the same checks as `match approve`: a mentor still free and
    trained where the policy asks it)."""
    config = config_of(request)

    def run() -> Decided:
        done = approve(config.store, Lifecycle(config.policy), config.clock, [rel_id], actor=token.actor)
        if rel_id in done.refused:
            raise RefusedError(done.refused[rel_id])
        return Decided(relationship_id=rel_id, decision="approved")

    return await once(request, token, key, Decided, run)


@router.post("/{rel_id}/reject", summary="Reject a proposal", response_model=Decided)
async def reject_proposal(
    request: Request, token: Decider, rel_id: RelId, rejection: Rejection, key: IdempotencyKey = None
) -> Any:
    """The pair is never proposed again; the reason is kept with the proposal."""
    config = config_of(request)

    def run() -> Decided:
        reject(config.store, config.clock, [rel_id], rejection.reason, actor=token.actor)
        return Decided(relationship_id=rel_id, decision="rejected")

    return await once(request, token, key, Decided, run)
