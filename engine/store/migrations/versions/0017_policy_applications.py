"""policy_applications: which version of a policy is in force, and when each was applied

``mentorflow policy apply`` makes a policy's new version the one in force for its
relationships, in one transaction with an audit entry per open relationship. Each
application is one row: the policy's name, the version in force before (NULL when
none was known) and the one applied, when, by whom and why, the removed phases it
mapped to phases of the new version, and how many relationships it wrote an entry
for. The latest row of a name says which version commands may act with.

Revision ID: 0017
Revises: 0016
Create Date: 2027-02-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_name", sa.String(length=100), nullable=False),
        sa.Column("from_digest", sa.String(length=80), nullable=True),
        sa.Column("to_digest", sa.String(length=80), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("relationships", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_applications")),
    )
    op.create_index(
        op.f("ix_policy_applications_policy_name"), "policy_applications", ["policy_name"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_policy_applications_policy_name"), table_name="policy_applications")
    op.drop_table("policy_applications")
