"""``/events``: every change, in order, for a consumer that catches up without webhooks.

``GET /events?after=POSITION`` answers the events after that position (the ``sequence`` of the last
one a consumer has), at most ``limit``, and ``last``, the position to ask after next; an empty page
means the consumer is up to date. The same events, in the same order, are what webhook subscribers
receive (:mod:`engine.services.subscribers`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from engine.services import events
from engine.services.limits import INTEGER_MAX
from engine.services.tokens import TokenInfo
from workflows.api.problems import PROBLEMS
from workflows.api.security import config_of, scoped

router = APIRouter(tags=["events"], responses=PROBLEMS)
Reader = Annotated[TokenInfo, Depends(scoped("events:read"))]


class CloudEvent(BaseModel):
    """One change, as a CloudEvents 1.0 event in its JSON form."""

    specversion: str = Field(examples=["1.0"])
    id: str = Field(
        examples=["audit-1234"], description="Unique and stable: a consumer drops a repeat by it."
    )
    source: str = Field(examples=["/mentorflow/6f1c4e9a-3b0d-4f5e-9a51-2a7c1d9e8b40"])
    type: str = Field(
        examples=["mentorflow.relationship.phase_changed"], description=", ".join(events.EVENT_TYPES)
    )
    subject: str = Field(examples=["relationships/12"])
    time: str = Field(examples=["2027-03-02T09:00:00Z"])
    datacontenttype: str = Field(examples=["application/json"])
    sequence: str = Field(examples=["1234"], description="The event's position in the feed.")
    data: dict[str, Any] = Field(
        description="Ids, phases and kinds of what happened; no free text, no names."
    )


class EventsPage(BaseModel):
    events: list[CloudEvent]
    last: int = Field(description="The position to ask after next (`after`); the same as asked when empty.")


@router.get("/events", summary="Catch up on the events", response_model=EventsPage)
async def read_events(
    request: Request,
    token: Reader,
    after: Annotated[int, Query(ge=0, le=INTEGER_MAX, description="The last position you have.")] = 0,
    limit: Annotated[int, Query(ge=1, le=events.MAX_FEED, description="Events per page.")] = 100,
) -> EventsPage:
    """The events after `after`, in their order: per relationship, as its history has them."""
    config = config_of(request)
    source = getattr(request.app.state, "event_source", None)
    if source is None:
        source = await run_in_threadpool(events.event_source, config.store, config.clock.now())
        request.app.state.event_source = source
    found, last = await run_in_threadpool(events.feed, config.store, source, after, limit)
    return EventsPage(events=[CloudEvent.model_validate(event) for event in found], last=last)
