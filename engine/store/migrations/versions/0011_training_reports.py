"""training_reports: the trainings mentors reported through their links, waiting for a coordinator

When a policy sets ``links.confirm_training``, a mentor's "I completed the
training" from their personal link is not the training itself but a row here:
the mentor, when and by whom it was reported (the link's actor). A coordinator
decides it: ``decision`` ``confirmed`` (the training is then recorded) or
``declined`` with a ``reason``, with ``decided_at`` and ``decided_by``. A report
is open while ``decided_at`` is NULL (the three decision columns are written
together). The index serves the one query a report needs: a mentor's open
report.

Revision ID: 0011
Revises: 0010
Create Date: 2027-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_training_reports_participant_id_participants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_reports")),
    )
    op.create_index("ix_training_reports_participant_id", "training_reports", ["participant_id"])


def downgrade() -> None:
    op.drop_index("ix_training_reports_participant_id", table_name="training_reports")
    op.drop_table("training_reports")
