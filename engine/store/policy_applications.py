"""The policy applications: which version of each policy is in force, and the history of how it came to be.

Every function takes the Connection of the caller's unit of work and never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, select

from engine.store.tables import policy_applications, policy_versions


class Application(NamedTuple):
    """One ``policy apply``: the version made in force for a policy's relationships, and how."""

    id: int
    policy_name: str
    from_digest: str | None
    to_digest: str
    applied_at: datetime
    applied_by: str
    reason: str | None
    mapping: dict[str, str]
    relationships: int


def record_application(conn: Connection, application: Application) -> int:
    """Insert ``application`` (its id left to the store); its new id."""
    values = application._asdict()
    del values["id"]
    inserted = conn.execute(policy_applications.insert().values(**values).returning(policy_applications.c.id))
    return int(inserted.scalar_one())


def applications(conn: Connection, policy_name: str | None = None) -> list[Application]:
    """The applications (of ``policy_name`` alone, if given), oldest first."""
    query = select(*(policy_applications.c[name] for name in Application._fields))
    if policy_name is not None:
        query = query.where(policy_applications.c.policy_name == policy_name)
    rows = conn.execute(query.order_by(policy_applications.c.id))
    return [Application._make(row) for row in rows]


def version_in_force(conn: Connection, policy_name: str) -> str | None:
    """The digest of the version of ``policy_name`` in force: the one its latest application made so, else
    the one its relationships were last written under (the latest first used), else ``None``."""
    applied = conn.execute(
        select(policy_applications.c.to_digest)
        .where(policy_applications.c.policy_name == policy_name)
        .order_by(policy_applications.c.id.desc())
        .limit(1)
    ).scalar()
    if applied is not None:
        return str(applied)
    used = conn.execute(
        select(policy_versions.c.digest)
        .where(policy_versions.c.name == policy_name)
        .order_by(policy_versions.c.first_used_at.desc())
        .limit(1)
    ).scalar()
    return None if used is None else str(used)


def version_content(conn: Connection, digest: str) -> dict[str, Any] | None:
    """The normalised content of the policy version ``digest``, as first used (``None``: never used)."""
    content = conn.execute(
        select(policy_versions.c.content).where(policy_versions.c.digest == digest)
    ).scalar()
    return content if isinstance(content, dict) else None
