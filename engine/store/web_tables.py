"""The tables of ``mentorflow web``'s later features, on the store's :data:`~engine.store.schema.metadata`
(:mod:`engine.store.tables` imports and names them): the trainings reported through links, the account
events of the coordinator pages.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text

from engine.store.schema import UTCDateTime, metadata

# Trainings mentors reported through their links, for a coordinator to decide (links.confirm_training; 0011).
training_reports = Table(
    "training_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("participant_id", Integer, ForeignKey("participants.id"), nullable=False, index=True),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("reported_by", String(200), nullable=False),
    Column("decided_at", UTCDateTime),  # NULL while the report is open: at most one open per mentor
    Column("decided_by", String(200)),
    Column("decision", String(10)),  # confirmed or declined, written with decided_at and decided_by
    Column("reason", Text),
)

# What happened to the console's accounts, for auditors (0012; engine.services.users.EVENT_KINDS): who did
# it, from which client address; never a password or a token. Append-only: triggers refuse UPDATE, DELETE.
account_events = Table(
    "account_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("account", String(100), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("address", String(64)),
    Column("detail", String(200)),
)
