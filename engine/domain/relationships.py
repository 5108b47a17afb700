"""The domain records beyond participants: relationships, meetings, goals, audit entries.

A relationship is the mentee's journey through the program; its mentor is
attached at ``match``. Records read back from our own store are built with
``model_construct`` (already valid); records from operators are validated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MeetingKind = Literal["kickoff", "check-in", "group"]
MEETING_KINDS: tuple[str, ...] = ("kickoff", "check-in", "group")
Respondent = Literal["mentor", "mentee"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class Meeting(_Record):
    """A meeting of a pair: the kickoff (kennismakingsbijeenkomst), a check-in, a group session."""

    relationship_id: int
    kind: MeetingKind
    held_on: datetime
    notes: str | None = Field(default=None, max_length=2000)


class Goal(_Record):
    """A development goal of the mentee, tracked to the end of the relationship."""

    relationship_id: int
    text: str = Field(min_length=1, max_length=500)
    status: Literal["open", "reached", "dropped"] = "open"


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
