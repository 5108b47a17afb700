"""A group session's invitation (``sessions plan``): what its message says of the session, its personal
link, and its calendar file.

The outbox row of an invitation holds the session as it was planned (``params["session"]``: id,
series, title and Dutch title, start, minutes, place), so the message is written from the row alone,
in the reader's language, the time in the program's zone. Its ``.ics`` has one event for the one
person invited, organised by the coordinator; the UID comes from the installation and the row's key
(``session:ID:participant:ID``), so a message sent again updates the event in their calendar. The
personal link to say whether they attended (purpose ``session``) counts as issued when the session
starts: it opens from then for the policy's link lifetime, so a session planned weeks ahead can
still be answered for after it took place (:mod:`engine.services.session_pages` refuses it where the
person's or pair's links were revoked after the invitation was written).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from engine.delivery.channels import Attachment, ProgramInfo, key_digest, scoped_key
from engine.delivery.invitations import Kickoff, Person, invitation

if TYPE_CHECKING:
    from engine.delivery.messages import Contact, OutboxRow

PURPOSE = "session"


def session_context(row: OutboxRow, timezone: str, language: str) -> dict[str, Any] | None:
    """The session an invitation is about, as its template shows it; ``None`` for any other row."""
    planned = row.params.get("session")
    if not isinstance(planned, Mapping):
        return None
    start = datetime.fromisoformat(str(planned["starts_at"])).astimezone(ZoneInfo(timezone))
    minutes = int(planned["minutes"])
    title = planned.get("title_nl") if language == "nl" and planned.get("title_nl") else planned["title"]
    place = planned.get("place_nl") if language == "nl" and planned.get("place_nl") else planned.get("place")
    return {
        "id": planned["id"], "series": planned["series"], "title": title, "start": start,
        "end": start + timedelta(minutes=minutes), "minutes": minutes, "place": place,
    }  # fmt: skip


def issued_at(row: OutboxRow, purpose: str) -> datetime:
    """When a personal link of ``row`` for ``purpose`` counts as issued: a session's attendance link when
    the session starts, every other link when the row was written."""
    planned = row.params.get("session")
    if purpose == PURPOSE and isinstance(planned, Mapping):
        return datetime.fromisoformat(str(planned["starts_at"]))
    return row.created_at


def attachment(
    row: OutboxRow, contact: Contact, program: ProgramInfo, context: Mapping[str, Any], installation: str
) -> Attachment:
    """The ``.ics`` of an invitation to a session, for the one person it invites."""
    from engine.delivery.messages import render

    session = context["session"]
    uid = f"{key_digest(scoped_key(installation, row.key))}@mentorflow"
    event = render("_session_summary", str(context["language"]), context)
    ics = invitation(
        Kickoff(uid, session["start"], session["end"]),
        summary=event.subject,
        description=event.body.strip(),
        organizer=Person(program.coordinator_name, program.coordinator_email),
        attendees=[Person(contact.name, contact.email or None)],
        stamp=row.created_at,
        location=session["place"],
    )
    return Attachment("session.ics", ics, "calendar", (("method", "REQUEST"),))
