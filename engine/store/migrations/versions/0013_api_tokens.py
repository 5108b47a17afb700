"""api_tokens: the tokens of the REST API (/api/v1), stored as the SHA-256 of their secret

``api_tokens`` holds one row per token: its unique name, the SHA-256 (hex) of its
secret, unique too (the secret, shown once when the token is made, is stored
nowhere), the scopes it is granted (a JSON list of text), its rate limit in
requests a minute (600 unless given, 1 to 100000), when and by whom it was made,
when it was last used (recorded at most once a minute) and, once revoked, when
and by whom (both or neither). The unique constraints index the two lookups: by
name for the commands, by digest for every request.

Revision ID: 0013
Revises: 0012
Create Date: 2027-01-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("rate_limit", sa.Integer(), server_default="600", nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint("rate_limit BETWEEN 1 AND 100000", name="ck_api_tokens_rate_limit"),
        sa.CheckConstraint("(revoked_at IS NULL) = (revoked_by IS NULL)", name="ck_api_tokens_revoked"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("digest", name=op.f("uq_api_tokens_digest")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
    )


def downgrade() -> None:
    op.drop_table("api_tokens")
