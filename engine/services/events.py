"""An event for every change, in CloudEvents 1.0 JSON form: the feed (``GET /api/v1/events``) and what
webhook subscribers receive (:mod:`engine.services.subscribers`).

Every audit entry of a relationship and every entry of a participant's chain is an event, written in
the transaction of its change (:mod:`engine.store.events` numbers them once committed: their
*position*, the ``sequence`` of the event). An event says what happened and to which ids, never free
text (a reason, notes, a help request's words, survey answers) nor a name, unless it is built for a
subscriber configured to receive names (``names``), which adds the participants' names.

Types: ``mentorflow.relationship.created``, ``.phase_changed`` (a move of the lifecycle, with its
trigger), ``.meeting_recorded``, ``.survey_answered``, ``.record_retracted``, ``.mentor_replaced``,
``.help_requested``, ``.data_purged`` (what a policy's retention erased, counted by kind),
``.participant_erased`` (a participant of the pair erased on request, by id), ``.goal_set`` and
``.goal_progressed`` (a development goal by id, its program goal, target and level; never its title),
``.session_invited`` and ``.attendance_recorded`` (a group session by id);
``mentorflow.participant.created`` and ``.changed`` (the names of the fields, and
the cause: an import, a training, leave, ...). ``id`` is unique and stable (``audit-<entry id>`` or
``participant-<entry id>``), ``source`` names this installation, ``subject`` the relationship or
participant.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.audit import iso
from engine.errors import InputError, field
from engine.policy.vocabulary import (
    ERASE,
    GOAL_PROGRESS,
    HELP_REQUESTED,
    PURGE,
    RECORD_ATTENDANCE,
    RECORD_MEETING,
    RECORD_RETRACT,
    RECORD_SURVEY,
    REPLACE_MENTOR,
    SESSION_INVITED,
    SET_GOAL,
)
from engine.store import events as event_store
from engine.store.database import UnitOfWork
from engine.store.events import AUDIT, EventRow

if TYPE_CHECKING:
    from sqlalchemy import Engine

SPEC_VERSION = "1.0"
BATCH = 5000
"""Entries numbered per transaction of :func:`publish`."""
MAX_FEED = 1000
"""The most events one page of the feed holds."""
_RELATIONSHIP_TYPES = {
    "create": "created",
    RECORD_MEETING: "meeting_recorded",
    RECORD_SURVEY: "survey_answered",
    RECORD_RETRACT: "record_retracted",
    REPLACE_MENTOR: "mentor_replaced",
    HELP_REQUESTED: "help_requested",
    PURGE: "data_purged",
    ERASE: "participant_erased",
    SET_GOAL: "goal_set",
    GOAL_PROGRESS: "goal_progressed",
    SESSION_INVITED: "session_invited",
    RECORD_ATTENDANCE: "attendance_recorded",
}
EVENT_TYPES = tuple(
    sorted(
        {f"mentorflow.relationship.{kind}" for kind in (*_RELATIONSHIP_TYPES.values(), "phase_changed")}
        | {"mentorflow.participant.created", "mentorflow.participant.changed"}
    )
)
"""Every type an event may have."""
_SYSTEM_ACTORS = ("mentorflow", "matching", "tick", "system", "retention")
"""Actors that are mentorflow itself, named as they are."""


def event_source(store: Engine, now: datetime) -> str:
    """The ``source`` of this installation's events: ``/mentorflow/<installation id>``."""
    from engine.store.installation import installation_id

    with UnitOfWork(store) as uow:
        found = installation_id(uow.conn, now)
        uow.commit()
    return f"/mentorflow/{found}"


def publish(store: Engine) -> int:
    """Number every committed entry that has no position yet; how many were numbered.

    On PostgreSQL the horizon is read first, in a transaction of its own; when a writer holds on too
    long, nothing is numbered this time (the next call catches up).
    """
    if store.dialect.name == "postgresql":
        with UnitOfWork(store, write=False) as uow:
            upto = event_store.horizon(uow.conn)
            uow.commit()
        if upto is None:
            return 0
    else:
        upto = None
    numbered = 0
    while True:
        with UnitOfWork(store) as uow:
            event_store.lock_publisher(uow.conn)
            limit = upto or event_store.horizon(uow.conn)  # SQLite: no other writer while this one writes
            assert limit is not None
            last, audit, people = event_store.published_up_to(uow.conn)
            found = event_store.unpublished(uow.conn, (audit, people), limit, BATCH)
            ordered = _in_order(found)[:BATCH]
            event_store.number(uow.conn, last + 1, [(kind, entry) for kind, entry, _ in ordered])
            uow.commit()
        numbered += len(ordered)
        if len(ordered) < BATCH:
            return numbered


def _in_order(found: list[tuple[str, int, datetime]]) -> list[tuple[str, int, datetime]]:
    """The entries of both kinds merged by time, each kind kept in its id order (its chains' order)."""
    audit = [entry for entry in found if entry[0] == AUDIT]
    people = [entry for entry in found if entry[0] != AUDIT]
    return list(heapq.merge(audit, people, key=lambda entry: (entry[2], entry[0] != AUDIT)))


def feed(
    store: Engine,
    source: str,
    after: int = 0,
    limit: int = 100,
    *,
    names: bool = False,
    numbered: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """The events after position ``after`` (at most ``limit``), as CloudEvents, and the position of the
    last one (``after`` when there is none). Numbers what was committed first, unless the caller did
    just now (``numbered``)."""
    if not 1 <= limit <= MAX_FEED:
        raise InputError(f"{field('limit')}: {limit} events? Ask for 1 to {MAX_FEED}")
    if after < 0:
        raise InputError(f"{field('after')}: {after} is not a position (0 or more)")
    if not numbered:
        publish(store)
    with UnitOfWork(store, write=False) as uow:
        rows = event_store.feed(uow.conn, after, limit)
        named = event_store.names(uow.conn, _people(rows)) if names else {}
    found = [cloud_event(row, source, named if names else None) for row in rows]
    return found, rows[-1].position if rows else after


def _people(rows: list[EventRow]) -> list[int]:
    ids: set[int] = set()
    for row in rows:
        ids.update(i for i in (row.mentee_id, _mentor_of(row)) if isinstance(i, int))
        if row.source != AUDIT:
            ids.add(row.subject_id)
    return sorted(ids)


def cloud_event(row: EventRow, source: str, names: dict[int, str] | None = None) -> dict[str, Any]:
    """One event in CloudEvents 1.0 structured JSON form; with ``names``, the participants' names too."""
    if row.source == AUDIT:
        kind = _RELATIONSHIP_TYPES.get(row.kind, "phase_changed")
        subject, data = f"relationships/{row.subject_id}", _relationship_data(row)
        if names is not None:
            data["mentee_name"] = names.get(row.mentee_id or 0)
            if isinstance(data.get("mentor_id"), int):
                data["mentor_name"] = names.get(data["mentor_id"])
        event_type = f"mentorflow.relationship.{kind}"
    else:
        event_type = f"mentorflow.participant.{'created' if row.seq == 1 else 'changed'}"
        subject = f"participants/{row.subject_id}"
        data = {"participant_id": row.subject_id, "seq": row.seq, "cause": row.kind,
                "fields": list(row.data or []), "actor": _actor_kind(row.actor)}  # fmt: skip
        if names is not None:
            data["name"] = names.get(row.subject_id)
    return {
        "specversion": SPEC_VERSION, "id": f"{row.source}-{row.entry_id}", "source": source,
        "type": event_type, "subject": subject, "time": iso(row.at), "datacontenttype": "application/json",
        "sequence": str(row.position), "data": data,
    }  # fmt: skip


def _relationship_data(row: EventRow) -> dict[str, Any]:
    """What a relationship's event says: ids, phases and the facts' kinds, never free text."""
    data: dict[str, Any] = {
        "relationship_id": row.subject_id, "seq": row.seq, "trigger": row.kind,
        "from_phase": row.from_phase, "to_phase": row.to_phase, "policy": row.policy_name,
        "mentee_id": row.mentee_id, "actor": _actor_kind(row.actor),
    }  # fmt: skip
    recorded = row.data if isinstance(row.data, dict) else {}
    if _mentor_of(row) is not None:
        data["mentor_id"] = _mentor_of(row)
    meeting, survey = recorded.get("meeting"), recorded.get("survey")
    if isinstance(meeting, dict):
        data["meeting"] = {"kind": meeting.get("kind"), "held_on": meeting.get("held_on")}
    if isinstance(survey, dict):
        data["survey"] = {"name": survey.get("name"), "respondent": survey.get("respondent")}
    for key in (
        "old_mentor_id",
        "retracts",
        "purged",
        "participant_id",
        "goal",
        "goals",
        "session",
        "attendance",
    ):
        if key in recorded:
            data[key] = recorded[key]
    return data


def _mentor_of(row: EventRow) -> int | None:
    """The mentor an entry names (a match, a replacement): the pair's mentor from then on."""
    found = row.data.get("mentor_id") if row.source == AUDIT and isinstance(row.data, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def _actor_kind(actor: str) -> str:
    """Who acted, without their name: ``api:<token>`` and ``participant:<external id> via link`` keep
    their ids; a person (``coordinator:sam``, a login name) is only ``coordinator`` or ``operator``."""
    if actor.startswith(("api:", "participant:")) or actor in _SYSTEM_ACTORS:
        return actor
    return "coordinator" if actor.startswith("coordinator") else "operator"
