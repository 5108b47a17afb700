"""The indexes of the table definitions are the migrations' indexes, partial ones included.

The partial indexes of migration 0008 attach their ``WHERE`` to the metadata only when something reads
their dialect options, so that defining the tables imports no dialect (PostgreSQL's least of all).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Index, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateIndex

from engine.store.database import initialise, open_engine
from engine.store.tables import PartialIndex, metadata

ROOT = Path(__file__).parents[2]


def _indexes() -> list[Index]:
    return [index for table in metadata.sorted_tables for index in table.indexes]


def test_every_index_is_created_as_the_migrations_create_it(tmp_path: Path) -> None:
    store = open_engine(f"sqlite:///{tmp_path / 'mentorflow.db'}")
    initialise(store)
    with store.connect() as conn:
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        migrated = {str(name): str(sql) for name, sql in conn.execute(text(query))}
    store.dispose()
    defined = {
        str(index.name): str(CreateIndex(index).compile(dialect=store.dialect)) for index in _indexes()
    }
    assert defined == migrated


def test_the_partial_indexes_are_partial_on_sqlite_and_postgresql() -> None:
    partial = sorted(str(index.name) for index in _indexes() if isinstance(index, PartialIndex))
    assert partial == ["ix_outbox_next_attempt_at_id", "ix_relationships_policy_name_due_at_id"]
    for index in _indexes():
        where = isinstance(index, PartialIndex)
        assert set(index.dialect_kwargs) == ({"sqlite_where", "postgresql_where"} if where else set())
        for dialect in (sqlite.dialect(), postgresql.dialect()):
            created = str(CreateIndex(index).compile(dialect=dialect))
            assert (" WHERE " in created) == where, created
            if where:
                assert created.endswith(" IS NOT NULL")


def test_defining_the_tables_imports_no_dialect() -> None:
    probe = (
        "import sys, engine.store.tables\n"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]", done.stdout
