"""api_requests: the idempotency keys of the REST API's POSTs, and the answers kept for their repeats

``api_requests`` holds one row per (token, key): the name of the token that sent
the ``Idempotency-Key``, the key, a SHA-256 of the method, path and body it came
with, and when; once the request is answered, its HTTP status and JSON body, so
that a repeat gets the same answer and writes nothing. Rows older than a day are
dropped as new keys arrive (the index on ``created_at`` serves that).

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_requests")),
        sa.UniqueConstraint("token", "key", name=op.f("uq_api_requests_token_key")),
    )
    op.create_index("ix_api_requests_created_at", "api_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_api_requests_created_at", table_name="api_requests")
    op.drop_table("api_requests")
