"""The unit of work turns a database that cannot be used into a ConfigError naming it, for every caller."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from engine.errors import ConfigError
from engine.store.database import UnitOfWork, open_engine


def test_a_database_that_cannot_be_opened_is_named_on_entering(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'store.db'}")

    with pytest.raises(ConfigError, match=r"cannot use database sqlite:///.*missing-dir"), UnitOfWork(engine):
        pass


def test_an_operational_error_inside_the_block_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))

    unusable = pytest.raises(ConfigError, match=r"cannot use database .*: no such table: missing")
    with unusable, UnitOfWork(engine) as uow:
        uow.conn.execute(text("INSERT INTO t VALUES (1)"))
        uow.conn.execute(text("SELECT * FROM missing"))

    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0


def test_other_errors_leave_the_block_unchanged(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")

    with pytest.raises(KeyError), UnitOfWork(engine):
        raise KeyError("mine")


def test_a_missing_database_file_names_the_field_not_a_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        open_engine(f"sqlite:///{tmp_path / 'none.db'}", create=False)

    assert missing.value.message.endswith("(run `mentorflow init`, or give `database`)")
