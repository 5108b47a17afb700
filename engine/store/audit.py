"""The audit history: reading the chains, and the snapshots of the policy versions they name.

Entries are written with the change they record (:func:`engine.store.relationships.apply_moves`).
Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, func, select

from engine.domain.relationships import AuditEntry
from engine.policy.vocabulary import RECORD_TRIGGERS
from engine.store.batches import chunks
from engine.store.relationships import ids_of_policy
from engine.store.rendered import DriverQuery
from engine.store.tables import audit_entries, policy_versions

if TYPE_CHECKING:
    from engine.policy.model import Policy


def history(conn: Connection, rel_id: int) -> list[AuditEntry]:
    query = (
        select(audit_entries).where(audit_entries.c.relationship_id == rel_id).order_by(audit_entries.c.id)
    )
    return [AuditEntry.model_construct(**row) for row in conn.execute(query).mappings()]


def chain(conn: Connection, rel_id: int) -> list[dict[str, Any]]:
    """Relationship ``rel_id``'s entries as mappings, in insertion order, as :func:`entries` gives them."""
    query = (
        select(audit_entries).where(audit_entries.c.relationship_id == rel_id).order_by(audit_entries.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def entries(
    conn: Connection,
    since: datetime | None = None,
    *,
    by_relationship: bool = False,
    until: datetime | None = None,
    policy_name: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Every audit entry as a mapping, streamed, in insertion order (or grouped by relationship).

    With ``policy_name``, only the entries of the relationships opened under that policy.
    """
    query = select(audit_entries)
    if policy_name is not None:
        query = query.where(audit_entries.c.relationship_id.in_(ids_of_policy(policy_name)))
    if since is not None:
        query = query.where(audit_entries.c.at >= since)
    if until is not None:
        query = query.where(audit_entries.c.at <= until)
    order = (
        (audit_entries.c.relationship_id, audit_entries.c.id) if by_relationship else (audit_entries.c.id,)
    )
    result = conn.execution_options(yield_per=2000).execute(query.order_by(*order)).mappings()
    for row in result:
        yield dict(row)


def stay_starts(conn: Connection, ids: Sequence[int]) -> dict[int, int]:
    """Per relationship, the seq of the audit entry that began its stay in its current phase.

    That is its last entry that moved it (or created it): entries that record a
    meeting or a survey answer come later in the chain without starting a stay.
    Read through the driver (no query for no ids).
    """
    starts: dict[int, int] = {}
    for part in chunks(sorted(set(ids))):
        starts.update((int(rid), int(seq)) for rid, seq in _STAY_STARTS.rows(conn, part))
    return starts


_STAY_STARTS = DriverQuery(
    select(audit_entries.c.relationship_id, func.max(audit_entries.c.seq))
    .where(  # the record triggers as parameters of their own, so the query's text is compiled once
        audit_entries.c.trigger.not_in(
            [bindparam(f"record_{i}", trigger) for i, trigger in enumerate(sorted(RECORD_TRIGGERS))]
        )
    )
    .group_by(audit_entries.c.relationship_id),
    audit_entries.c.relationship_id,
)
"""(relationship, seq of its last entry that moved it), by relationship."""


def triggers_at(conn: Connection, ids: Sequence[int], at: datetime) -> dict[int, frozenset[str]]:
    """Per relationship of ``ids``, the triggers of its entries made at ``at`` (absent: none)."""
    found: dict[int, set[str]] = {}
    for part in chunks(sorted(set(ids))):
        for rid, trigger in _TRIGGERS_AT.rows(conn, part, at=at):
            found.setdefault(int(rid), set()).add(str(trigger))
    return {rid: frozenset(triggers) for rid, triggers in found.items()}


_TRIGGERS_AT = DriverQuery(
    select(audit_entries.c.relationship_id, audit_entries.c.trigger).where(
        audit_entries.c.at == bindparam("at")
    ),
    audit_entries.c.relationship_id,
)
"""(relationship, trigger) of the entries made at ``at``, by relationship."""


def record_policy_version(conn: Connection, policy: Policy, now: datetime) -> None:
    """Keep a snapshot of each policy version used, so an auditor can read what applied.

    The policy's normalised content is built only for a version not seen before.
    """
    digest = policy.digest
    if not _KNOWN_VERSION.rows(conn, [digest]):
        label, content = str(policy.version), policy.normalised()
        conn.execute(
            policy_versions.insert().values(
                digest=digest, name=policy.policy, label=label, content=content, first_used_at=now
            )
        )


_KNOWN_VERSION = DriverQuery(select(policy_versions.c.digest), policy_versions.c.digest)
"""The digest of a policy version already kept, by digest (read through the driver)."""
