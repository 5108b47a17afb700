"""What the API lists and reads, a page at a time: participants (or those a search finds), relationships
(by phase, policy, or overdue), one participant, one relationship with its history. Only reads.

A page is the rows after the last id of the previous one (its ``next_after``, ``None`` on the last
page), so a client walks a large program in pages that each cost one indexed statement, and a row added
meanwhile is neither skipped nor read twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.errors import InputError, NotFoundError, field
from engine.store import console as console_store
from engine.store import pages as page_store
from engine.store import participants as people_store
from engine.store.database import UnitOfWork
from engine.store.reads import participant_row

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.domain.relationships import AuditEntry
    from engine.policy.model import Policy

MAX_PAGE = 500
"""The most rows one page holds."""


@dataclass(frozen=True)
class Page:
    """Rows of a list, and the id to continue after (``None``: this was the last page)."""

    items: list[dict[str, Any]]
    next_after: int | None


def _paged(rows: list[dict[str, Any]], limit: int) -> Page:
    if len(rows) > limit:
        return Page(rows[:limit], int(rows[limit - 1]["id"]))
    return Page(rows, None)


def _checked(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"{field('limit')}: {limit} rows? Ask for 1 to {MAX_PAGE}")
    return limit


def participants(
    store: Engine, *, after: int = 0, limit: int = 100, role: str | None = None, search: str | None = None
) -> Page:
    """A page of participants by id (of ``role``); with ``search``, those whose id, external id or email
    it is, or whose name contains it (as the console's search finds them)."""
    limit = _checked(limit)
    with UnitOfWork(store, write=False) as uow:
        if search is not None and search.strip():
            found = console_store.search_people(uow.conn, search.strip().casefold(), limit + 1, after=after)
            rows = [row for row in found if role is None or row["role"] == role]
        else:
            rows = page_store.participants_page(uow.conn, after, limit, role)
    return _paged(rows, limit)


def participant(store: Engine, ref: str) -> dict[str, Any]:
    """A participant by id, external id or email; NotFoundError if there is none."""
    with UnitOfWork(store, write=False) as uow:
        row = people_store.participant_by_ref(uow.conn, ref)
    if row is None:
        raise NotFoundError(f"no participant {ref!r} (give an id, external id or email)")
    return participant_row(row._mapping)


def relationships(
    store: Engine,
    policy: Policy,
    now: datetime,
    *,
    after: int = 0,
    limit: int = 100,
    phase: str | None = None,
    policy_name: str | None = None,
    overdue: bool = False,
) -> Page:
    """A page of relationships by id: in ``phase``, of the policy named ``policy_name``, and overdue at
    ``now`` (what ``status`` lists: a deadline or a check-in of ``policy`` passed), where asked; a phase
    ``policy`` lacks is refused."""
    limit = _checked(limit)
    if phase is not None and phase not in policy.phases:
        known = ", ".join(policy.phases)
        raise InputError(f"{field('phase')}: {phase!r} is not a phase of {policy.policy} ({known})")
    phases: Sequence[str] | None = None if phase is None else (phase,)
    ids = _overdue_after(store, policy, now, after) if overdue else None
    with UnitOfWork(store, write=False) as uow:
        rows = page_store.relationships_page(
            uow.conn, after, limit, phases=phases, policy=policy_name, ids=ids
        )
    return _paged(rows, limit)


def _overdue_after(store: Engine, policy: Policy, now: datetime, after: int) -> list[int]:
    """The relationships ``status`` finds overdue at ``now`` (a deadline or a check-in passed), by id,
    after ``after``."""
    from engine.services.queries import status

    return sorted(rel_id for rel_id, _ in status(store, policy, now).overdue if rel_id > after)


def relationship(store: Engine, rel_id: int) -> tuple[dict[str, Any], list[AuditEntry]]:
    """Relationship ``rel_id`` with its names, and its audit entries oldest first; NotFoundError if none."""
    from engine.store import audit

    with UnitOfWork(store, write=False) as uow:
        row = page_store.relationship_named(uow.conn, rel_id)
        if row is None:
            raise NotFoundError(f"no relationship {rel_id}")
        entries = audit.history(uow.conn, rel_id)
    return row, entries


def proposals(store: Engine, policy_name: str, *, after: int = 0, limit: int = 100) -> Page:
    """A page of the pending matching proposals of the policy named ``policy_name``, by relationship id
    (``next_after`` is a relationship's id), each as ``match explain`` has it."""
    from engine.store import proposals as proposal_store

    limit = _checked(limit)
    with UnitOfWork(store, write=False) as uow:
        ids = [i for i in proposal_store.pending_scoring(uow.conn, policy_name, -1e9) if i > after][
            : limit + 1
        ]
        found = {i: proposal_store.proposals_of(uow.conn, i) for i in ids[:limit]}
    rows = [row for i in ids[:limit] for row in found[i] if row["status"] == proposal_store.PENDING]
    return Page(rows, ids[limit - 1] if len(ids) > limit else None)
