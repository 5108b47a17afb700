"""installation: the one row naming this installation, a random UUID made at ``mentorflow init``

Every email Message-ID and calendar UID is derived from it together with the
message's idempotency key, so two installations (or two databases set up
separately) never send different messages with the same id. The upgrade of a
database that holds a program gives it its id at once: messages sent before
kept ids without it, which their receivers have already seen.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

from engine.clock import SystemClock
from engine.store.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "installation",
        sa.Column("singleton", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("singleton = 1", name="ck_installation_singleton"),
        sa.PrimaryKeyConstraint("singleton", name="pk_installation"),
        sa.UniqueConstraint("id", name="uq_installation_id"),
    )
    op.bulk_insert(table, [{"singleton": 1, "id": str(uuid.uuid4()), "created_at": SystemClock().now()}])


def downgrade() -> None:
    op.drop_table("installation")
