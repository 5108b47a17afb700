"""An access request (GDPR art. 15): everything the store holds about one participant, as JSON.

The participant's row whole (every field ``docs/privacy.md`` lists for them), their own history, and
for each of their relationships its row, audit entries, goals, meetings, the survey answers they gave,
the messages to them (or to the coordinator about them) with their deliveries to their address, the
matching proposals that concern them (without the explanation, which names other candidates), the
revocations of their links, their training reports, their invitations to group sessions (and whether
they attended). Nothing about anyone else: the other side of a pair appears by its id only, never by
name or address. Only reads.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from engine.domain.audit import iso
from engine.errors import NotFoundError
from engine.store import participants as people_store
from engine.store import person_data as data_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

FORMAT = "mentorflow.person-data/1"


def person_data(store: Engine, ref: str, now: datetime) -> dict[str, Any]:
    """Everything held about the participant ``ref`` (id, external id or email); NotFoundError if none."""
    with UnitOfWork(store, write=False) as uow:
        row = people_store.participant_by_ref(uow.conn, ref)
        if row is None:
            raise NotFoundError(f"no participant {ref!r} (give an id, external id or email)")
        person = dict(row._mapping)
        held = data_store.person_rows(uow.conn, int(row.id), str(row.email))
    return {"format": FORMAT, "generated_at": iso(now), "participant": person, **held}


def as_json(data: dict[str, Any]) -> str:
    """The data as indented JSON, times in ISO 8601 UTC as the audit export writes them."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=_plain) + "\n"


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()  # a goal's target date
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
