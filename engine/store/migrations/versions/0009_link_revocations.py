"""link_revocations: the personal links withdrawn, of a relationship or of a person

A personal link is a signed token stored nowhere (``engine.delivery.links``); a
link issued at or before a row here that names its relationship, or the person
it was made for, no longer opens. Each row records who revoked, when and why.
The two indexes serve the one query that opening a link makes: the latest
revocation of a relationship or a person.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_INDEXED = ("relationship_id", "participant_id")


def upgrade() -> None:
    op.create_table(
        "link_revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=True),
        sa.Column("participant_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "relationship_id IS NOT NULL OR participant_id IS NOT NULL", name="ck_link_revocations_target"
        ),
        sa.ForeignKeyConstraint(
            ["relationship_id"],
            ["relationships.id"],
            name=op.f("fk_link_revocations_relationship_id_relationships"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_link_revocations_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_revocations")),
    )
    for column in _INDEXED:
        op.create_index(f"ix_link_revocations_{column}", "link_revocations", [column])


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(f"ix_link_revocations_{column}", table_name="link_revocations")
    op.drop_table("link_revocations")
