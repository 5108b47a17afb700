"""account_events: what happened to the coordinator pages' accounts, append-only, for auditors

``account_events`` holds one row per sign-in (by password, or by a trusted
proxy's header), failed sign-in, sign-out, session found expired, account
added or disabled: when, the account's name, the kind, who did it (the account
itself, or ``cli:<user>`` for ``mentorflow users``), the client address where
there is one and a short detail; never a password or a token. Each row is
written in the transaction of what it records. Triggers refuse every update
and every delete, as for the audit entries (0001) and the meetings (0005).

Revision ID: 0012
Revises: 0011
Create Date: 2027-01-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.store.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_MESSAGE = "account events are append-only"


def upgrade() -> None:
    op.create_table(
        "account_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_events")),
    )
    op.create_index("ix_account_events_at", "account_events", ["at"])
    op.create_index("ix_account_events_account", "account_events", ["account"])
    _forbid_changes()


def _forbid_changes() -> None:
    """Make the account events append-only in the database itself, not only in the engine."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION mentorflow_account_events_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_MESSAGE}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER account_events_append_only BEFORE UPDATE OR DELETE ON account_events "
            "FOR EACH ROW EXECUTE FUNCTION mentorflow_account_events_append_only()"
        )
        return
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER account_events_no_{event.lower()} BEFORE {event} ON account_events "
            f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS account_events_append_only ON account_events")
        op.execute("DROP FUNCTION IF EXISTS mentorflow_account_events_append_only()")
    else:
        for event in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS account_events_no_{event}")
    op.drop_index("ix_account_events_account", table_name="account_events")
    op.drop_index("ix_account_events_at", table_name="account_events")
    op.drop_table("account_events")
