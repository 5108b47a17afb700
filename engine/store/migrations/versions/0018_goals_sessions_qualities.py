"""goals as records, group sessions, personal qualities

A mentee's development goals become records of their own: ``goals`` gains the
program goal a goal serves (an id of the policy's ``program.goals``), a target
date, who set it and when it last changed, and the audit entry that set it.
Its ``status`` is how far the mentee got: ``not_started``, ``started``,
``partly`` or ``reached``.

Group sessions (intervisie, workshops) are events: ``group_sessions`` holds
one row per group of one planned session of a policy's ``sessions:`` series
(its start, length and place); ``session_invitations`` one row per person
invited to it, through which relationship and in which role, and whether they
attended (NULL until it is recorded) with the audit entry that recorded it.

``participants`` gets ``qualities``: the personal qualities a mentor brings
or a mentee looks for (empathy, patience, ...), a list like the others.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("participants", sa.Column("qualities", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("program_goal", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("target_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("set_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("updated_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("entry_seq", sa.Integer(), nullable=True))
    _create_sessions()


def _create_sessions() -> None:
    op.create_table(
        "group_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_name", sa.String(length=100), nullable=False),
        sa.Column("series", sa.String(length=64), nullable=False),
        sa.Column("group_no", sa.Integer(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("place", sa.Text(), nullable=True),
        sa.Column("planned_at", UTCDateTime(), nullable=False),
        sa.Column("planned_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_sessions")),
        sa.UniqueConstraint(
            "policy_name", "series", "starts_at", "group_no", name=op.f("uq_group_sessions_slot")
        ),
    )
    _create_invitations()


def _create_invitations() -> None:
    op.create_table(
        "session_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("invited_at", UTCDateTime(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=True),
        sa.Column("entry_seq", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["group_sessions.id"],
            name=op.f("fk_session_invitations_session_id_group_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_session_invitations_participant_id_participants"),
        ),
        sa.ForeignKeyConstraint(
            ["relationship_id"],
            ["relationships.id"],
            name=op.f("fk_session_invitations_relationship_id_relationships"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_invitations")),
        sa.UniqueConstraint("session_id", "participant_id", name=op.f("uq_session_invitations_person")),
    )
    for column in ("session_id", "participant_id", "relationship_id"):
        op.create_index(
            op.f(f"ix_session_invitations_{column}"), "session_invitations", [column], unique=False
        )


def downgrade() -> None:
    for column in ("session_id", "participant_id", "relationship_id"):
        op.drop_index(op.f(f"ix_session_invitations_{column}"), table_name="session_invitations")
    op.drop_table("session_invitations")
    op.drop_table("group_sessions")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        for column in ("entry_seq", "updated_at", "set_by", "target_date", "program_goal"):
            batch_op.drop_column(column)
    op.drop_column("participants", "qualities")
