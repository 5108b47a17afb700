"""What the coordinator pages read: pending proposals, a participant search, the names of the pairs
shown, one relationship's file.

Only reads, through the same services and store reads the commands use: ``match explain`` for a
proposal's explanation, ``history`` for a pair's entries, ``audit verify`` for its chain, ``outbox list``
for its messages, ``link revoke``'s rows for whether its links still open; the links the messages
carried and their states are worked out by :mod:`engine.services.link_states`. The search and the pairs'
names read only what they show (:mod:`engine.store.console`), never every participant or pair.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.delivery.links import LINK_LIFETIME
from engine.delivery.messages import OutboxRow
from engine.policy.durations import Duration
from engine.services import delivery, link_states, queries
from engine.services.link_states import LinkState
from engine.store import console as console_store
from engine.store import links as link_store
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
    """The participants (up to :data:`MAX_SHOWN`, by id) whose id, external id or email is ``text``, or
    whose name contains it, casefolded, each with the relationships they are in (``relationships``: id,
    phase, mentee, mentor and ``other``, the other side's name): two statements, however many match."""
    wanted = text.strip().casefold()
    if not wanted:
        return []
    with UnitOfWork(store, write=False) as uow:
        people = console_store.search_people(uow.conn, wanted, MAX_SHOWN)
        pairs = console_store.pairs_of_people(uow.conn, [int(person["id"]) for person in people])
    for person in people:
        pid = person["id"]
        person["relationships"] = [
            {"id": pair.id, "phase": pair.phase, "mentee": pair.mentee, "mentor": pair.mentor,
             "other": pair.mentor if pair.mentee_id == pid else pair.mentee}
            for pair in pairs
            if pid in (pair.mentee_id, pair.mentor_id)
        ]  # fmt: skip
    return people


def pair_names(store: Engine, rel_ids: Iterable[int]) -> dict[int, dict[str, str | None]]:
    """The ``mentee`` and ``mentor`` names (``None``: no mentor yet) of each relationship of ``rel_ids``
    that exists, read by their ids only."""
    with UnitOfWork(store, write=False) as uow:
        found = console_store.pair_names(uow.conn, rel_ids)
    return {rel_id: {"mentee": mentee, "mentor": mentor} for rel_id, (mentee, mentor) in found.items()}


@dataclass
class RelationshipFile:
    """One relationship as its page shows it: the pair, its entries, its chain's check, its messages,
    and the personal links they carried, each in its state (:mod:`engine.services.link_states`)."""

    relationship: Relationship
    mentee: str
    mentor: str | None
    entries: list[AuditEntry]
    problems: list[str]
    messages: list[dict[str, Any]] = field(default_factory=list)
    revoked_at: datetime | None = None
    links: list[LinkState] = field(default_factory=list)
    lifetime: str = ""


def relationship_file(
    store: Engine,
    rel_id: int,
    now: datetime,
    *,
    terminal: Collection[str] = (),
    lifetime: Duration | timedelta = LINK_LIFETIME,
) -> RelationshipFile:
    """Relationship ``rel_id`` with its history (NotFoundError if there is none), the problems ``audit
    verify`` finds in its chain, its outbox messages, when its links were last revoked, and the links
    its newest messages carried in their state at ``now`` (``terminal``: the policy's terminal phases;
    ``lifetime``: how long a link opens, the policy's ``links.expire_after``)."""
    rel, entries = queries.history(store, rel_id)
    problems = [str(p) for p in queries.verify_relationship(store, rel_id)]
    messages = delivery.list_rows(store, limit=MAX_SHOWN, relationship=rel_id)
    stays, changes = link_states.stays_and_changes(entries)
    everyone = {rel.mentee_id, *(p for p in (rel.mentor_id, *(c.old for c in changes)) if p is not None)}
    with UnitOfWork(store, write=False) as uow:
        people = console_store.trained_people(uow.conn, sorted(everyone))
        of_pair, of_people = link_store.latest_revocations(uow.conn, [rel_id], everyone)
        sent = console_store.sent_rows(uow.conn, rel_id, MAX_SHOWN)
        records = console_store.pair_records(uow.conn, rel_id)
    facts = link_states.PairFacts(
        rel.mentee_id, rel.mentor_id, rel.phase in terminal, people, stays, changes,
        records.meetings, records.answers, of_pair.get(rel_id), of_people,
    )  # fmt: skip
    shown = link_states.link_states([_message(rel_id, row) for row in sent], facts, now, lifetime)
    mentor = people[rel.mentor_id][0] if rel.mentor_id in people else None
    file = RelationshipFile(rel, people.get(rel.mentee_id, ("", False))[0], mentor, entries, problems)
    file.messages, file.links, file.lifetime = messages[:MAX_SHOWN], shown, str(_duration(lifetime))
    now_in_pair = [of_people.get(person) for person in (rel.mentee_id, rel.mentor_id) if person is not None]
    file.revoked_at = max((at for at in (of_pair.get(rel_id), *now_in_pair) if at is not None), default=None)
    return file


def _message(rel_id: int, row: console_store.SentRow) -> link_states.Message:
    outbox_row = OutboxRow(row.id, rel_id, row.key, row.action, row.params, row.created_at)
    return link_states.Message(outbox_row, row.status, row.reached)


def _duration(lifetime: Duration | timedelta) -> Duration:
    return lifetime if isinstance(lifetime, Duration) else Duration(seconds=int(lifetime.total_seconds()))
