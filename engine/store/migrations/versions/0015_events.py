"""events, event_subscriptions: the event feed's order, and each webhook subscriber's delivery

Every audit entry and participant entry is an event; ``events`` gives each committed one a
``position`` (the feed's order, the events' ``sequence``), by ``source`` (``audit`` or
``participant``) and ``entry_id``, unique together. ``event_subscriptions`` holds, per subscriber
named in the settings, the position delivered up to, the failed attempts at the next event, when
to try it again, the last error, and when the subscriber was parked after too many failures.

Revision ID: 0015
Revises: 0014
Create Date: 2027-01-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_events")),
        sa.UniqueConstraint("source", "entry_id", name=op.f("uq_events_source_entry_id")),
    )
    op.create_table(
        "event_subscriptions",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("parked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_event_subscriptions")),
    )


def downgrade() -> None:
    op.drop_table("event_subscriptions")
    op.drop_table("events")
