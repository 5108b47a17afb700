"""What every table of the store is built on: one :data:`metadata` (with its naming convention), the
time type both back ends agree on (:class:`UTCDateTime`), partial indexes (:class:`PartialIndex`).

The tables themselves are in :mod:`engine.store.tables`, :mod:`engine.store.api_tables` and
:mod:`engine.store.web_tables`; ``engine.store.tables`` imports the other two, so importing it defines
them all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Column, DateTime, Dialect, Index, MetaData, TypeDecorator
from sqlalchemy.sql.elements import ColumnElement


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime, stored without zone so both back ends agree to the microsecond."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware one")
        if value.tzinfo is not UTC:  # most times are already UTC: skip the conversion
            value = value.astimezone(UTC)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class PartialIndex(Index):
    """An index of the rows where ``where`` holds, on SQLite and PostgreSQL alike (their ``*_where``).

    The two options are attached when something first reads them (the DDL compiler, Alembic comparing
    the metadata with a database), not when the table is defined: given to the constructor, they are
    checked against both dialects at once, which imports PostgreSQL's dialect into every command on
    SQLite (it costs more than the rest of this module).
    """

    def __init__(self, name: str, *columns: Column[Any], where: ColumnElement[bool]) -> None:
        self.partial_where = where
        super().__init__(name, *columns)

    @cached_property
    def dialect_options(self) -> Any:
        options = super().dialect_options
        for dialect in PARTIAL_INDEX_DIALECTS:
            options[dialect]["where"] = self.partial_where
        return options


PARTIAL_INDEX_DIALECTS = ("sqlite", "postgresql")
"""The back ends a :class:`PartialIndex` is partial on (the others index every row)."""

metadata: MetaData = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
