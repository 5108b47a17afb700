"""``/participants``: list, search and read them; add or update many at once, as the CSV import does.

An upsert is the import's own service (``participants import``): the same validation, the same matching
by external id or email, the same refusals (an email another participant has, a reporting line that
loops, a role change of someone in a relationship), leavers closing or pausing their pairs as the policy
says, and all or nothing: one bad participant among a thousand is a 422 that names it by its pointer
(``/participants/417/email``) and writes nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from engine.files.participant_items import checked_items
from engine.services import pages
from engine.services.participants import import_participants
from engine.services.tokens import TokenInfo
from workflows.api.idempotency import IdempotencyKey, once
from workflows.api.models import (
    NO_NUL,
    Change,
    Cursor,
    ImportResult,
    Limit,
    Page,
    ParticipantBatch,
    ParticipantOut,
    PersonResult,
    after_of,
    cursor_of,
)
from workflows.api.problems import PROBLEMS
from workflows.api.security import config_of, scoped

router = APIRouter(prefix="/participants", tags=["participants"], responses=PROBLEMS)
Reader = Annotated[TokenInfo, Depends(scoped("read"))]
Writer = Annotated[TokenInfo, Depends(scoped("participants:write"))]
Ref = Annotated[str, Path(max_length=320, pattern=NO_NUL, description="An id, external id or email.")]


@router.get("", summary="List or search participants", response_model=Page[ParticipantOut])
async def list_participants(
    request: Request,
    token: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    role: Annotated[Literal["mentor", "mentee"] | None, Query(description="Only mentors or mentees.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=NO_NUL,
            description="An id, external id or email, or part of a name (any case).",
        ),
    ] = None,
) -> Page[ParticipantOut]:
    """The participants by id, a page at a time; with `q`, those it names."""
    config = config_of(request)
    found = await run_in_threadpool(
        pages.participants, config.store, after=after_of(cursor), limit=limit, role=role, search=q
    )
    return Page(
        items=[ParticipantOut.of(row) for row in found.items], next_cursor=cursor_of(found.next_after)
    )


@router.get("/{ref}", summary="Read a participant", response_model=ParticipantOut)
async def read_participant(request: Request, token: Reader, ref: Ref) -> ParticipantOut:
    """A participant by id, external id or email."""
    row = await run_in_threadpool(pages.participant, config_of(request).store, ref)
    return ParticipantOut.of(row)


@router.post("", summary="Add or update participants", response_model=ImportResult)
async def upsert_participants(
    request: Request, token: Writer, batch: ParticipantBatch, key: IdempotencyKey = None
) -> ImportResult:
    """Add or update up to 10,000 participants in one transaction, as `mentorflow participants import`
    does with a CSV file: new mentees get a relationship, a `status` of `leave` or `left` pauses or
    closes their pairs as the policy says. All or nothing."""
    config = config_of(request)

    def run() -> ImportResult:
        read = checked_items(batch.participants)
        done = import_participants(
            config.store, config.policy, config.clock, read.people, actor=token.actor,
            columns=read.columns, rows=read.rows, dry_run=batch.dry_run,
        )  # fmt: skip
        people = [
            PersonResult(
                key=p.key,
                name=p.name,
                action=p.action,
                relationships=list(p.relationships),
                changes=[Change(field=name, old=old, new=new) for name, old, new in p.changes],
            )
            for p in done.people
        ]
        return ImportResult(
            created=done.created, updated=done.updated, unchanged=done.unchanged,
            relationships_opened=done.relationships_opened, dry_run=done.dry_run, people=people,
        )  # fmt: skip

    return await once(request, token, key, ImportResult, run)
