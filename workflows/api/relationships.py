"""``/relationships`` and ``/status``: the pairs by phase, policy or overdue, one with its audit history,
and where the program stands (the counts ``mentorflow status`` prints). Only reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from engine.services import pages
from engine.services.limits import INTEGER_MAX
from engine.services.queries import status, verify_relationship
from engine.services.tokens import TokenInfo
from workflows.api.models import NO_NUL, Cursor, Limit, Page, after_of, cursor_of
from workflows.api.problems import PROBLEMS
from workflows.api.security import config_of, scoped

router = APIRouter(tags=["relationships"], responses=PROBLEMS)
Reader = Annotated[TokenInfo, Depends(scoped("read"))]
RelId = Annotated[int, Path(ge=1, le=INTEGER_MAX, description="The relationship's id.")]


class RelationshipOut(BaseModel):
    """A relationship with its pair's names."""

    id: int = Field(examples=[12])
    mentee_id: int
    mentee: str = Field(examples=["Zoë Çelik"])
    mentor_id: int | None
    mentor: str | None = Field(examples=["Marieke de Vries"])
    phase: str = Field(examples=["active"])
    phase_entered_at: datetime
    due_at: datetime | None = Field(
        description="When the cadence looks at it next; null in a terminal phase."
    )
    policy: str = Field(examples=["default"])
    version: int
    created_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> RelationshipOut:
        return cls.model_validate({**row, "policy": row["policy_name"]})


class EntryOut(BaseModel):
    """One entry of a relationship's hash-chained audit history."""

    seq: int
    at: datetime
    actor: str = Field(examples=["api:hr-system"])
    trigger: str = Field(examples=["start"])
    from_phase: str | None
    to_phase: str
    reason: str | None
    policy_name: str
    policy_version: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


class RelationshipHistory(RelationshipOut):
    """A relationship, its audit entries oldest first, and whether its chain verifies."""

    history: list[EntryOut]
    verified: bool
    problems: list[str] = Field(description="What `audit verify` finds wrong in its chain (none: verified).")


class Overdue(BaseModel):
    relationship_id: int
    kind: str = Field(examples=["check-in"])
    phase: str
    since: datetime
    due: datetime
    description: str


class Status(BaseModel):
    """Where the program's relationships stand now, as `mentorflow status` says."""

    policy: str
    as_of: datetime
    phases: dict[str, int]
    overdue: list[Overdue]
    other_policies: dict[str, int] = Field(description="Relationships of other programs in the store.")


@router.get("/relationships", summary="List relationships", response_model=Page[RelationshipOut])
async def list_relationships(
    request: Request,
    token: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    phase: Annotated[
        str | None, Query(max_length=100, pattern=NO_NUL, description="Only those in this phase.")
    ] = None,
    policy: Annotated[
        str | None, Query(max_length=100, pattern=NO_NUL, description="Only those of this policy.")
    ] = None,
    overdue: Annotated[
        bool, Query(description="Only those past due in a phase that is not terminal.")
    ] = False,
) -> Page[RelationshipOut]:
    """The relationships by id, a page at a time."""
    config = config_of(request)
    found = await run_in_threadpool(
        pages.relationships, config.store, config.policy, config.clock.now(), after=after_of(cursor),
        limit=limit, phase=phase, policy_name=policy, overdue=overdue,
    )  # fmt: skip
    items = [RelationshipOut.of(row) for row in found.items]
    return Page(items=items, next_cursor=cursor_of(found.next_after))


@router.get(
    "/relationships/{rel_id}",
    summary="Read a relationship and its history",
    response_model=RelationshipHistory,
)
async def read_relationship(request: Request, token: Reader, rel_id: RelId) -> RelationshipHistory:
    """One relationship, its whole audit history and its chain's check (as `history` and `audit verify`)."""
    config = config_of(request)
    row, entries = await run_in_threadpool(pages.relationship, config.store, rel_id)
    problems = [str(p) for p in await run_in_threadpool(verify_relationship, config.store, rel_id)]
    history = [EntryOut.model_validate(entry.model_dump()) for entry in entries]
    return RelationshipHistory(
        **RelationshipOut.of(row).model_dump(), history=history, verified=not problems, problems=problems
    )


@router.get("/status", summary="Where the program stands", response_model=Status)
async def program_status(request: Request, token: Reader) -> Status:
    """The phase counts and what is overdue, of the policy `mentorflow web` serves."""
    config = config_of(request)
    report = await run_in_threadpool(status, config.store, config.policy, config.clock.now())
    overdue = [
        Overdue(relationship_id=rel_id, kind=item.kind, phase=item.phase, since=item.since, due=item.due,
                description=item.describe())
        for rel_id, item in report.overdue
    ]  # fmt: skip
    return Status(
        policy=config.policy.policy, as_of=report.as_of, phases=dict(report.phases), overdue=overdue,
        other_policies=report.other_policies,
    )  # fmt: skip
