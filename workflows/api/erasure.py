"""``/participants/{ref}/erasure``: erase a person (right to erasure), as `mentorflow participants erase`
does, under a scope of its own (``participants:erase``): a token that imports people cannot erase them.

Refused with 409 while the person has an open relationship, unless ``close`` is given; an unknown person
is 404; erasing someone twice is 409. With an ``Idempotency-Key`` a repeat gets the same answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from engine.domain.lifecycle import Lifecycle
from engine.services.erasure import ErasureRequest, erase_participant
from engine.services.tokens import TokenInfo
from workflows.api.idempotency import IdempotencyKey, once
from workflows.api.models import NO_NUL, Input
from workflows.api.problems import PROBLEMS
from workflows.api.security import config_of, scoped

router = APIRouter(prefix="/participants", tags=["participants"], responses=PROBLEMS)
Eraser = Annotated[TokenInfo, Depends(scoped("participants:erase"))]
Ref = Annotated[str, Path(max_length=320, pattern=NO_NUL, description="An id, external id or email.")]


class ErasureIn(Input):
    reason: str = Field(
        min_length=1, max_length=2000, examples=["request 2026-17"], description="Why; recorded."
    )
    close: bool = Field(default=False, description="Close their open relationships first, with this reason.")


class ErasureOut(BaseModel):
    """What the erasure did."""

    participant_id: int
    closed: list[int] = Field(description="The relationships closed first.")
    relationships: int = Field(description="The relationships whose history records the erasure.")
    entries_redacted: int
    texts_erased: int
    messages_skipped: int


@router.post("/{ref}/erasure", summary="Erase a participant", response_model=ErasureOut)
async def erase(
    request: Request, token: Eraser, ref: Ref, body: ErasureIn, key: IdempotencyKey = None
) -> ErasureOut:
    """Replace every personal field of the participant by a pseudonym, erase the free text of their
    relationships and the addresses their messages went to, revoke their links. Their relationships stay
    counted and every audit chain still verifies; the erasure is an entry in each of their chains."""
    config = config_of(request)

    def run() -> ErasureOut:
        asked = ErasureRequest(ref, body.reason, token.actor, close=body.close)
        done = erase_participant(config.store, Lifecycle(config.policy), config.clock, asked)
        return ErasureOut(
            participant_id=done.participant_id, closed=done.closed, relationships=done.relationships,
            entries_redacted=done.entries, texts_erased=sum(done.texts.values()),
            messages_skipped=done.messages_skipped,
        )  # fmt: skip

    return await once(request, token, key, ErasureOut, run)
