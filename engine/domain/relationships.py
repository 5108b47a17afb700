"""The domain records beyond participants: relationships and their audit entries.

A relationship is the mentee's journey through the program; its mentor is
attached at ``match``. Records read back from our own store are built with
``model_construct`` (already valid); records from operators are validated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

MEETING_KINDS: tuple[str, ...] = ("kickoff", "check-in", "group")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built when first validated


class Relationship(_Record):
    """A mentee's journey through the program, and where it stands."""

    id: int
    mentee_id: int
    mentor_id: int | None
    policy_name: str
    phase: str
    phase_entered_at: datetime
    due_at: datetime | None
    version: int
    audit_seq: int
    audit_head: str
    created_at: datetime
    phase_clock: dict[str, list[Any]] | None = None  # engine.domain.phase_time: earlier stays per phase


class AuditEntry(_Record):
    """One link of a relationship's hash-chained history."""

    id: int
    relationship_id: int
    seq: int
    at: datetime
    actor: str
    trigger: str
    from_phase: str | None
    to_phase: str
    reason: str | None
    policy_name: str
    policy_version: str
    data: dict[str, Any]
    prev_hash: str
    hash: str
    reason_seal: str | None = None  # what the chain hashes in place of the reason (engine.domain.audit)
