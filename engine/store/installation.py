"""This installation's id: a random UUID made by ``mentorflow init`` (migration 0007), one row.

Message-IDs and calendar UIDs are derived from it and the message's key, so two
installations never send different messages under one id, and a retry of one
message keeps its id.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Connection, insert, select

from engine.store.tables import installation


def installation_id(conn: Connection, now: datetime) -> str:
    """The installation's id; one is made (at ``now``) if the row is missing, as after a table was emptied.

    Needs a writing unit of work. Two writers that find the row missing at once agree on one id: the
    second insert finds the first one's row and does nothing.
    """
    found = conn.execute(select(installation.c.id)).scalar()
    if found is not None:
        return str(found)
    values = {"singleton": 1, "id": str(uuid.uuid4()), "created_at": now}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # a dialect's own insert, imported where it is used

        conn.execute(postgresql.insert(installation).values(values).on_conflict_do_nothing())
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        conn.execute(sqlite.insert(installation).values(values).on_conflict_do_nothing())
    else:
        conn.execute(insert(installation).values(values))
    return str(conn.execute(select(installation.c.id)).scalar_one())
