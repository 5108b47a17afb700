"""What the coordinator pages read: pending proposals, a participant search, one relationship's file.

Only reads, through the same services and store reads the commands use: ``match explain`` for a
proposal's explanation, ``history`` for a pair's entries, ``audit verify`` for its chain, ``outbox list``
for its messages (the links they carried), ``link revoke``'s rows for whether its links still open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.services import delivery, listing, queries
from engine.store import links as link_store
from engine.store import participants as people_store
from engine.store import proposals as proposal_store
from engine.store.database import UnitOfWork
from engine.store.proposals import PENDING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.domain.relationships import AuditEntry, Relationship

MAX_SHOWN = 200
"""The most rows a page lists (pending proposals, search results, messages)."""


def pending_proposals(store: Engine, policy_name: str) -> list[dict[str, Any]]:
    """The pending proposals of ``policy_name``'s program, by relationship, as ``match explain`` has them."""
    with UnitOfWork(store, write=False) as uow:
        rel_ids = proposal_store.pending_scoring(uow.conn, policy_name, -1e9)[:MAX_SHOWN]
        found = [proposal_store.proposals_of(uow.conn, rel_id) for rel_id in rel_ids]
    return [row for rows in found for row in rows if row["status"] == PENDING][:MAX_SHOWN]


def search(store: Engine, text: str) -> list[dict[str, Any]]:
    """The participants whose id, external id or email is ``text``, or whose name contains it, each with
    the relationships they are in (``relationships``: id, phase, the other side's name)."""
    wanted = text.strip().casefold()
    if not wanted:
        return []
    people = [p for p in listing.participants(store) if _matches(p, wanted)][:MAX_SHOWN]
    names = {person["name"] for person in people}
    pairs = [pair for pair in listing.relationships(store) if names & {pair["mentee"], pair["mentor"]}]
    with UnitOfWork(store, write=False) as uow:  # the names led here; the ids decide
        sides = {pair["id"]: link_store.pair_people(uow.conn, pair["id"]) for pair in pairs}
    for person in people:
        person["relationships"] = [pair for pair in pairs if _in_pair(person["id"], sides.get(pair["id"]))]
    return people


def _in_pair(person_id: int, side: link_store.PairPeople | None) -> bool:
    return side is not None and person_id in (side.mentee_id, side.mentor_id)


def _matches(person: dict[str, Any], wanted: str) -> bool:
    exact = {str(person["id"]), str(person.get("external_id") or "").casefold(),
             str(person.get("email") or "").casefold()}  # fmt: skip
    return wanted in exact or wanted in str(person.get("name") or "").casefold()


@dataclass
class RelationshipFile:
    """One relationship as its page shows it: the pair, its entries, its chain's check, its messages."""

    relationship: Relationship
    mentee: str
    mentor: str | None
    entries: list[AuditEntry]
    problems: list[str]
    messages: list[dict[str, Any]] = field(default_factory=list)
    revoked_at: datetime | None = None


def relationship_file(store: Engine, rel_id: int) -> RelationshipFile:
    """Relationship ``rel_id`` with its history (NotFoundError if there is none), the problems ``audit
    verify`` finds in its chain, its outbox messages and when its links were last revoked."""
    rel, entries = queries.history(store, rel_id)
    problems = [str(p) for p in queries.verify_relationship(store, rel_id)]
    messages = delivery.list_rows(store, limit=MAX_SHOWN, relationship=rel_id)
    with UnitOfWork(store, write=False) as uow:
        found = people_store.participants_by_id(uow.conn, [p for p in (rel.mentee_id, rel.mentor_id) if p])
        people = {pid: str(row.name) for pid, row in found.items()}
        revoked = [link_store.latest_revocation(uow.conn, rel_id, person) for person in
                   (rel.mentee_id, rel.mentor_id) if person is not None]  # fmt: skip
    latest = max((at for at in revoked if at is not None), default=None)
    mentor = people.get(rel.mentor_id) if rel.mentor_id else None
    file = RelationshipFile(rel, people.get(rel.mentee_id, ""), mentor, entries, problems)
    file.messages, file.revoked_at = messages[:MAX_SHOWN], latest
    return file
