"""The tables of the store, as SQLAlchemy Core metadata (:mod:`engine.store.schema`), with those of
:mod:`engine.store.api_tables` and :mod:`engine.store.web_tables`, named here too.

Times are stored as naive UTC and read back as aware UTC (:class:`UTCDateTime`), the same on SQLite and
PostgreSQL. Lists and structured data are JSON.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from engine.store.api_tables import api_requests as api_requests
from engine.store.api_tables import api_tokens as api_tokens
from engine.store.api_tables import events as events
from engine.store.api_tables import subscriptions as subscriptions
from engine.store.schema import PARTIAL_INDEX_DIALECTS as PARTIAL_INDEX_DIALECTS
from engine.store.schema import PartialIndex as PartialIndex
from engine.store.schema import UTCDateTime as UTCDateTime
from engine.store.schema import metadata as metadata
from engine.store.web_tables import account_events as account_events
from engine.store.web_tables import training_reports as training_reports

LIST_FIELDS = (
    "skills",
    "wants",
    "goals",
    "interests",
    "values",
    "work_style",
    "communication",
    "languages",
    "qualities",  # 0018
)

participants = Table(
    "participants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("external_id", String(100), unique=True),
    Column("role", String(10), nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("department", String(200)),
    Column("manager_id", String(100)),
    Column("level", Integer),
    *(Column(name, JSON, nullable=False) for name in LIST_FIELDS),
    Column("timezone", String(64)),
    Column("capacity", Integer, nullable=False),
    Column("trained", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("status", String(10), nullable=False, server_default="active"),  # active, leave, left
    Column("audit_seq", Integer, nullable=False, server_default="0"),  # head of its participant entries
    Column("audit_head", String(64), nullable=False, server_default=""),
    Column("erased_at", UTCDateTime),  # when the person was erased, a pseudonym in their place (0016)
)

relationships = Table(
    "relationships",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("mentee_id", Integer, ForeignKey("participants.id"), nullable=False, index=True),
    Column("mentor_id", Integer, ForeignKey("participants.id"), index=True),
    Column("policy_name", String(100), nullable=False),
    Column("phase", String(64), nullable=False, index=True),
    Column("phase_entered_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime),
    Column("version", Integer, nullable=False),
    Column("audit_seq", Integer, nullable=False),
    Column("audit_head", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("previous_id", Integer, ForeignKey("relationships.id")),  # the mentee's relationship before it
    # per phase left: [seconds spent there in earlier stays, first entry] (engine.domain.phase_time)
    Column("phase_clock", JSON(none_as_null=True)),
    # a program's pairs by phase: matching's waiting pairs, the report's standings (migration 0008)
    Index("ix_relationships_policy_name_phase", "policy_name", "phase"),
)

# The tick's due query, in the order it reads: a program's pairs whose due_at has passed, longest-waiting
# first. A pair in a terminal phase (due_at NULL) is not in it (migration 0008).
PartialIndex(
    "ix_relationships_policy_name_due_at_id",
    relationships.c.policy_name,
    relationships.c.due_at,
    relationships.c.id,
    where=relationships.c.due_at.is_not(None),
)

meetings = Table(
    "meetings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("relationship_id", Integer, ForeignKey("relationships.id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("held_on", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("notes", Text),
    Column("entry_seq", Integer),  # the audit entry (of its relationship's chain) that recorded it
)

goals = Table(
    "goals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("relationship_id", Integer, ForeignKey("relationships.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("reached_at", UTCDateTime),
    # 0018: the program goal it serves (an id of the policy's program.goals), when it should be reached,
    # who set it, when its status last changed, the audit entry that set it
    Column("program_goal", String(64)),
    Column("target_date", Date),
    Column("set_by", String(200)),
    Column("updated_at", UTCDateTime),
    Column("entry_seq", Integer),
)

# Group sessions (0018): a row per group of one planned session of a policy's ``sessions:`` series, and a
# row per person invited to it (through which relationship, in which role; attended NULL until recorded).
group_sessions = Table(
    "group_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("policy_name", String(100), nullable=False),
    Column("series", String(64), nullable=False),
    Column("group_no", Integer, nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("place", Text),
    Column("planned_at", UTCDateTime, nullable=False),
    Column("planned_by", String(200), nullable=False),
    UniqueConstraint("policy_name", "series", "starts_at", "group_no", name="uq_group_sessions_slot"),
)

session_invitations = Table(
    "session_invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("session_id", Integer, ForeignKey("group_sessions.id"), nullable=False, index=True),
    Column("participant_id", Integer, ForeignKey("participants.id"), nullable=False, index=True),
    Column("relationship_id", Integer, ForeignKey("relationships.id"), nullable=False, index=True),
    Column("role", String(10), nullable=False),
    Column("invited_at", UTCDateTime, nullable=False),
    Column("attended", Boolean),
    Column("recorded_at", UTCDateTime),
    Column("recorded_by", String(200)),
    Column("entry_seq", Integer),
    UniqueConstraint("session_id", "participant_id", name="uq_session_invitations_person"),
)

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("relationship_id", Integer, ForeignKey("relationships.id"), nullable=False, index=True),
    Column("survey", String(64), nullable=False),
    Column("respondent", String(10), nullable=False),
    Column("answered_at", UTCDateTime, nullable=False),
    Column("answers", JSON, nullable=False),  # every answer but free text: what the audit entry holds
    Column("entry_seq", Integer),  # the audit entry (of its relationship's chain) that recorded it
    # the free-text answers, never in the chain: the one column that may change (to NULL: erased)
    Column("free_text", JSON(none_as_null=True)),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("relationship_id", Integer, ForeignKey("relationships.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("trigger", String(64), nullable=False),
    Column("from_phase", String(64)),
    Column("to_phase", String(64), nullable=False),
    Column("reason", Text),
    Column("policy_name", String(100), nullable=False),
    Column("policy_version", String(80), nullable=False),
    Column("data", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # what the chain hashes in place of the reason, and the salt that seals it: erasing a reason sets it
    # and its salt to NULL, the seal stays (engine.domain.audit; migration 0016)
    Column("reason_seal", String(80)),
    Column("reason_salt", String(32)),
    UniqueConstraint("relationship_id", "seq"),
    # the rare entries read by trigger (retractions, recordings), oldest first (migration 0008)
    Index("ix_audit_entries_trigger_relationship_id_at", "trigger", "relationship_id", "at"),
)

# The history of each participant (created, updated, trained, on leave, left, returned): append-only,
# hash-chained per participant. It names the fields changed, never their values, so personal data
# stays erasable from the participants table.
participant_entries = Table(
    "participant_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("participant_id", Integer, ForeignKey("participants.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("cause", String(64), nullable=False),
    Column("fields", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("participant_id", "seq"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("relationship_id", Integer, ForeignKey("relationships.id"), index=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("action", String(64), nullable=False),
    Column("params", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Column("last_error", Text),
    Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
)

# What delivery claims, in the order it claims it: only pending and sending rows have a next attempt
# (a delivered, parked or skipped row has none), so the index holds the rows still to send and no
# others, however many were sent before (migration 0008).
PartialIndex(
    "ix_outbox_next_attempt_at_id",
    outbox.c.next_attempt_at,
    outbox.c.id,
    where=outbox.c.next_attempt_at.is_not(None),
)

# One row per message sent for an outbox row: to which recipient, through which channel, with
# which Message-ID. A retry skips what is recorded here, so nobody gets one message twice.
outbox_deliveries = Table(
    "outbox_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("outbox_id", Integer, ForeignKey("outbox.id"), nullable=False),
    Column("recipient", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("address", String(320)),
    Column("message_id", String(200), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    UniqueConstraint("outbox_id", "recipient", "channel"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("digest", String(80), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("label", String(100), nullable=False),
    Column("content", JSON, nullable=False),
    Column("first_used_at", UTCDateTime, nullable=False),
)

# One row per `policy apply`: a policy's new version made the one in force for its relationships, from
# which version, by whom and why, with the phases it mapped and how many relationships it wrote an entry
# for (migration 0017). The latest row of a policy name says which version is in force.
policy_applications = Table(
    "policy_applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("policy_name", String(100), nullable=False, index=True),
    Column("from_digest", String(80)),
    Column("to_digest", String(80), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
    Column("applied_by", String(200), nullable=False),
    Column("reason", Text),
    Column("mapping", JSON, nullable=False),
    Column("relationships", Integer, nullable=False),
)

# One row per waiting relationship per matching run: the proposed mentor (pending, then approved,
# rejected, or superseded by a later run), or none (unmatched), with the breakdown and explanation
# the coordinator saw.
match_proposals = Table(
    "match_proposals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run", Integer, nullable=False),
    Column("relationship_id", Integer, ForeignKey("relationships.id"), nullable=False, index=True),
    Column("mentee_id", Integer, ForeignKey("participants.id"), nullable=False),
    Column("mentor_id", Integer, ForeignKey("participants.id")),
    Column("score", Float),
    Column("breakdown", JSON, nullable=False),
    Column("explanation", JSON, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("mode", String(10), nullable=False),
    Column("policy_version", String(80), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", UTCDateTime),
    Column("reason", Text),
    UniqueConstraint("run", "relationship_id"),
)

# One row: this installation's id, a random UUID made by `mentorflow init` (migration 0007). Message-IDs
# and calendar UIDs are derived from it and the message's key, so they are unique in the world.
installation = Table(
    "installation",
    metadata,
    Column("singleton", Integer, primary_key=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("singleton = 1", name="ck_installation_singleton"),
)

# Personal links revoked: those of a relationship, or of a person in every relationship, issued at or before
# revoked_at (migration 0009). Links themselves are signed tokens, stored nowhere (engine.delivery.links).
link_revocations = Table(
    "link_revocations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("relationship_id", Integer, ForeignKey("relationships.id"), index=True),
    Column("participant_id", Integer, ForeignKey("participants.id"), index=True),
    Column("revoked_at", UTCDateTime, nullable=False),
    Column("revoked_by", String(200), nullable=False),
    Column("reason", Text),
    CheckConstraint(
        "relationship_id IS NOT NULL OR participant_id IS NOT NULL", name="ck_link_revocations_target"
    ),
)

# The accounts of the coordinator pages (migration 0010): a name, a role (coordinator acts, viewer reads), an
# Argon2 hash of the password; a disabled account signs in no more and its sessions end at once.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
)

# Signed-in sessions of the coordinator pages: the SHA-256 of the cookie's random id (the cookie itself is
# stored nowhere), the account, the form token of the session, and when it stops (migration 0010).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

# Failed sign-ins, by account name and client address: enough of them in a while locks further attempts,
# in the store so every worker agrees (migration 0010).
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(100), nullable=False, index=True),
    Column("address", String(64), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
)
