"""outbox deliveries: each message sent, per recipient and channel

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.store.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("sent_at", engine.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_outbox_deliveries_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_deliveries")),
        sa.UniqueConstraint(
            "outbox_id", "recipient", "channel", name=op.f("uq_outbox_deliveries_outbox_id_recipient_channel")
        ),
    )


def downgrade() -> None:
    op.drop_table("outbox_deliveries")
