"""relationships.phase_clock: the time each pair spent in each phase in its earlier stays

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

The clocks of ``after:`` timers (``engine.domain.phase_time``). The upgrade fills
them in from each relationship's audit chain: every stay that ended adds its
time to its phase, and a stay the tick ended (an ``auto`` move, as a timer's is)
starts that phase's count over, as a timer that ran out does from now on. (The
chain does not say which auto move was a timer's; only the phases a counting
timer leaves read their count, and in the shipped policies that phase is left
automatically only by its timer.)
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import engine.store.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a nullable column: a plain ALTER TABLE on both back ends (no copy of the table on SQLite)
    op.add_column("relationships", sa.Column("phase_clock", sa.JSON(none_as_null=True), nullable=True))
    _backfill()


def _backfill() -> None:
    entries = sa.table(
        "audit_entries",
        sa.column("relationship_id", sa.Integer()),
        sa.column("seq", sa.Integer()),
        sa.column("at", engine.store.tables.UTCDateTime()),
        sa.column("from_phase", sa.String()),
        sa.column("to_phase", sa.String()),
        sa.column("data", sa.JSON()),
    )
    moves = (
        sa.select(
            entries.c.relationship_id, entries.c.at, entries.c.from_phase, entries.c.to_phase, entries.c.data
        )
        .where(sa.or_(entries.c.from_phase.is_(None), entries.c.from_phase != entries.c.to_phase))
        .order_by(entries.c.relationship_id, entries.c.seq)
    )
    clocks: dict[int, dict[str, list[Any]]] = {}
    entered: dict[int, Any] = {}
    conn = op.get_bind()
    for rel_id, at, source, _dest, data in conn.execute(moves):
        clock = clocks.setdefault(rel_id, {})
        if source is not None and rel_id in entered:
            if isinstance(data, dict) and data.get("auto"):
                clock.pop(source, None)
            else:
                spent, first = clock.get(source, (0, entered[rel_id].isoformat()))
                clock[source] = [int(spent) + max(0, int((at - entered[rel_id]).total_seconds())), first]
        entered[rel_id] = at
    rels = sa.table("relationships", sa.column("id", sa.Integer()), sa.column("phase_clock", sa.JSON()))
    update = rels.update().where(rels.c.id == sa.bindparam("b_id")).values(phase_clock=sa.bindparam("clock"))
    rows = [{"b_id": rel_id, "clock": clock} for rel_id, clock in clocks.items() if clock]
    if rows:
        conn.execute(update, rows)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # SQLite 3.35+ drops a column in place
        op.execute("ALTER TABLE relationships DROP COLUMN phase_clock")
    else:
        op.drop_column("relationships", "phase_clock")
