"""What a participant's attendance page shows: the group sessions they were invited to through the pair
their personal link is about, read-only (``mentorflow web``; recording goes through
:func:`engine.services.sessions.record_attendance`).

A session's attendance link counts as issued when the session starts
(:mod:`engine.delivery.session_texts`), so that a session planned weeks ahead can be answered for after
it; a revocation of the pair's or the person's links written after the invitation still withdraws it:
those sessions are left out, and when nothing is left the link is refused as revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from engine.policy.model import Policy
from engine.services.links import OpenedLink
from engine.store import links as link_store
from engine.store import sessions as session_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class SessionItem:
    """One session on the page: when, how long, where, its title, and what was recorded (``None``:
    nothing yet); ``begun``: whether attendance can be said now."""

    session_id: int
    title: str
    starts_at: datetime
    minutes: int
    place: str | None
    attended: bool | None
    begun: bool


def session_items(
    store: Engine, policy: Policy, opened: OpenedLink, now: datetime, language: str
) -> list[SessionItem] | None:
    """The sessions of the person of ``opened`` through its pair, earliest first; ``None`` when every
    invitation was written before a revocation of the pair's or the person's links."""
    rel_id, person = opened.relationship_id, opened.participant_id
    with UnitOfWork(store, write=False) as uow:
        found = session_store.invitations_through(uow.conn, rel_id, person)
        by_rel, by_person = link_store.latest_revocations(uow.conn, [rel_id], [person])
    revoked = max((at for at in (by_rel.get(rel_id), by_person.get(person)) if at is not None), default=None)
    kept = [(row, inv) for row, inv in found if revoked is None or inv.invited_at > revoked]
    if found and not kept:
        return None
    series = policy.sessions or {}
    return [
        SessionItem(
            row.id,
            series[row.series].title_in(language) if row.series in series else row.series,
            row.starts_at,
            row.minutes,
            row.place,
            inv.attended,
            row.starts_at <= now,
        )
        for row, inv in kept
    ]
