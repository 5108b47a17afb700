"""Batch reads and writes straight to the database driver, each shared value converted once per batch.

A batch of phase changes shares one moment, one policy version and a few JSON
shapes (the same ``requires``, the same outbox ``params``), yet a Core
``executemany`` converts every value of every row again, and a Core result
converts every time and JSON value of every row it reads. A
:class:`DriverStatement` compiles its Core statement once per dialect and
sends a whole batch to the driver's ``executemany`` in one call, after
rendering each distinct value once through the column's own bind processing
(times: :class:`engine.store.tables.UTCDateTime`; JSON: ``json.dumps``, as
SQLAlchemy's JSON type writes it), so the rows stored are the ones Core would
have stored, byte for byte. A :class:`DriverQuery` reads rows the same way
round: each distinct value of a column is converted once, by the column's own
result processing, so the rows read are the ones Core would have returned.
Rows whose shared values were rendered ahead by a :class:`Rendering` (the
same bind processing, applied once per batch where the rows are built) go to
the driver as they are, through :meth:`DriverStatement.send`.

The work per row is left to C (``zip``, ``map`` and dict lookups); Python runs
once per column and once per distinct value.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from operator import is_, itemgetter
from typing import Any

from sqlalchemy import JSON, ColumnElement, Connection, Dialect, Table, bindparam
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Select

from engine.store.batches import CHUNK

Render = Callable[[Any], Any]


class _Plan:
    """A statement compiled for one dialect: its text, and how rows of values become driver parameters."""

    def __init__(self, statement: ClauseElement, fields: Sequence[str], conn: Connection) -> None:
        dialect = conn.dialect
        compiled = statement.compile(
            dialect=_positional(dialect), column_keys=list(fields), for_executemany=True
        )
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        names = dict(compiled.bind_names.items())
        constants = {name: bind.effective_value for bind, name in names.items() if name not in fields}
        renders = {name: _renderer(bind.type, dialect) for bind, name in names.items() if name in fields}
        self.renders: list[tuple[int, Render, bool]] = []
        for bind, name in names.items():
            render = renders.get(name)
            if render is not None:
                self.renders.append((fields.index(name), render, isinstance(bind.type, JSON)))
        self.width = len(fields)
        # each parameter of the statement, in its order: a field's index, or a constant
        self.slots: list[int | Any] = []
        for name in compiled.positiontup or ():
            self.slots.append(fields.index(name) if name in fields else _Constant(constants[name]))
        taken = [slot for slot in self.slots if not isinstance(slot, _Constant)]
        self.reorder = None if taken == list(range(self.width)) else itemgetter(*taken)
        # rendered rows are only reordered: a constant would have to be put into each of them
        self.takes_rendered = len(taken) == len(self.slots) and len(taken) > 1

    def ordered(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        """``rows`` (values in ``fields`` order, rendered) in the order of the statement's parameters."""
        assert self.takes_rendered, "a statement with a constant parameter takes rows to render"
        return rows if self.reorder is None else list(map(self.reorder, rows))

    def parameters(self, rows: Iterable[Sequence[Any]]) -> list[Any]:
        """The driver parameters of ``rows`` (values in ``fields`` order), distinct values rendered once."""
        columns: list[Any] = list(zip(*rows, strict=True))  # each a tuple, until converted
        if not columns:
            return []
        assert len(columns) == self.width, "each row gives a value per field"
        count = len(columns[0])
        for i, render, by_object in self.renders:
            columns[i] = _converted(columns[i], render, by_object=by_object)
        picked = _expanded(
            [slot if isinstance(slot, _Constant) else columns[slot] for slot in self.slots], count
        )
        return list(zip(*picked, strict=True))


def _positional(dialect: Dialect) -> Dialect:
    """``dialect``, or a copy of it that writes positional parameters (``%s``) for a driver that takes
    named ones (``%(name)s``, as psycopg): the rows of a batch go as tuples, with no dict per row to
    make (here) and to take apart again (in the driver)."""
    if dialect.positional:
        return dialect
    positional = copy.copy(dialect)
    positional.paramstyle, positional.positional = "format", True
    return positional


class _Constant:
    """A parameter of the statement that every row gives alike (as ``version + 1`` does its 1), or a
    column of rows that all give one value."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _expanded(columns: list[Any], count: int) -> list[Any]:
    """``columns`` with each :class:`_Constant` as its value repeated for ``count`` rows (a fresh iterator
    for each, should one stand for two parameters)."""
    return [repeat(c.value, count) if isinstance(c, _Constant) else c for c in columns]


def _converted(column: Sequence[Any], convert: Render, *, by_object: bool) -> list[Any] | _Constant:
    """``convert`` of each value of ``column``, worked out once per distinct value (a column of one
    value: a :class:`_Constant`, not a list).

    ``by_object``: values that may be dicts or lists (JSON) are told apart by identity,
    which is safe while ``column`` holds them all; the others by value (equal values convert alike).
    """
    first = column[0]
    if column.count(first) == len(column) and (not by_object or all(map(is_, column, repeat(first)))):
        return _Constant(convert(first))  # every row alike (equal values; one object for JSON), found in C
    if by_object:
        distinct = dict(zip(map(id, column), column, strict=True))
        done = {key: convert(value) for key, value in distinct.items()}
        return list(map(done.__getitem__, map(id, column)))
    converted = {value: convert(value) for value in dict.fromkeys(column)}
    return list(map(converted.__getitem__, column))


def _renderer(column_type: Any, dialect: Any) -> Render | None:
    """What a value of ``column_type`` becomes for the driver; ``None`` when it is passed as it is."""
    if isinstance(column_type, JSON):
        none_as_null = column_type.none_as_null

        def as_json(value: Any) -> str | None:
            return None if value is None and none_as_null else json.dumps(value)

        return as_json
    process: Render | None = column_type.dialect_impl(dialect).bind_processor(dialect)  # as Core does
    return process


class DriverStatement:
    """A Core statement run through the driver's ``executemany`` with rows of values in ``fields`` order."""

    def __init__(self, statement: ClauseElement, fields: Sequence[str]) -> None:
        self.statement = statement
        self.fields = tuple(fields)
        self._plans: dict[str, _Plan] = {}

    def execute(self, conn: Connection, rows: Iterable[Sequence[Any]]) -> int:
        """Write ``rows`` in one driver call; how many rows the database says it changed."""
        plan = self._plan(conn)
        parameters = plan.parameters(rows)
        if not parameters:
            return 0
        return int(conn.exec_driver_sql(plan.sql, parameters).rowcount)

    def send(self, conn: Connection, rows: list[tuple[Any, ...]]) -> int:
        """:meth:`execute` of ``rows`` whose values are already as the driver takes them (rendered by a
        :class:`Rendering` of the statement's table): only put in the order of the statement's
        parameters, nothing converted."""
        if not rows:
            return 0
        plan = self._plan(conn)
        return int(conn.exec_driver_sql(plan.sql, plan.ordered(rows)).rowcount)

    def _plan(self, conn: Connection) -> _Plan:
        plan = self._plans.get(conn.dialect.name)
        if plan is None:
            plan = self._plans[conn.dialect.name] = _Plan(self.statement, self.fields, conn)
        return plan


class Rendering:
    """The values of a table's columns as its driver takes them, by column name: each column's own bind
    processing, as :class:`DriverStatement` renders them (for rows rendered once per batch, not per row)."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self._renders = {column.name: _renderer(column.type, dialect) for column in table.columns}

    def __call__(self, names: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
        """``values`` of the columns ``names``, rendered."""
        rendered = []
        for name, value in zip(names, values, strict=True):
            render = self._renders[name]
            rendered.append(value if render is None else render(value))
        return tuple(rendered)


class Conversion:
    """How the rows a Core select reads through the driver become the rows Core would return: each
    column's own result processing, worked out once per distinct value of a batch of rows.

    ``remember``: converted values (immutable) are kept from one batch to the next, up to
    :attr:`LIMIT` per column, for a query read again and again over the same few values.
    """

    LIMIT = 100_000

    def __init__(self, query: Select[Any], dialect: Dialect, *, remember: bool = False) -> None:
        self.converts: list[tuple[int, Render]] = []
        for i, column in enumerate(query.selected_columns):
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)  # as Core does
            if process is not None:
                self.converts.append((i, process))
        self._kept: dict[int, dict[Any, Any]] | None = {i: {} for i, _ in self.converts} if remember else None

    def rows(self, fetched: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        """``fetched`` (the driver's rows) converted."""
        if not fetched or not self.converts:
            return [tuple(row) for row in fetched]
        columns: list[Any] = list(zip(*fetched, strict=True))  # each a tuple, until converted
        for i, convert in self.converts:
            if self._kept is None:
                columns[i] = _converted(columns[i], convert, by_object=False)
                continue
            kept = self._kept[i]
            if len(kept) > self.LIMIT:
                kept.clear()
            for value in set(columns[i]).difference(kept):
                kept[value] = convert(value)
            columns[i] = map(kept.__getitem__, columns[i])
        return list(zip(*_expanded(columns, len(fetched)), strict=True))


class _Reading:
    """A query compiled for one dialect and number of keys: its text, how its parameters are rendered,
    and each column's conversion."""

    def __init__(self, query: Select[Any], keys: Sequence[str], conn: Connection) -> None:
        dialect = conn.dialect
        compiled = query.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql, self.keys = compiled.string, tuple(keys)
        binds = compiled.bind_names.items()
        renders = ((name, _renderer(bind.type, dialect)) for bind, name in binds)
        self.renders = [(name, render) for name, render in renders if render is not None]
        named = set(self.keys)  # up to CHUNK names: a tuple would be searched once per name
        self.constants = {name: bind.effective_value for bind, name in binds if name not in named}
        self.order = tuple(compiled.positiontup or ()) if dialect.positional else None
        self.plain = not self.renders and not self.constants and self.order in (None, self.keys)
        self.conversion = Conversion(query, dialect)

    def parameters(self, keys: Sequence[Any], values: dict[str, Any]) -> Any:
        if self.plain and not values:  # the keys are the query's only parameters, in their order
            return tuple(keys) if self.order is not None else dict(zip(self.keys, keys, strict=True))
        named = {**self.constants, **values, **dict(zip(self.keys, keys, strict=True))}
        for name, render in self.renders:
            named[name] = render(named[name])
        return named if self.order is None else tuple(map(named.__getitem__, self.order))


class DriverQuery:
    """A Core query of the rows whose ``key`` is one of many, read through the driver: rows as tuples,
    converted as Core converts them (each distinct value of a column once).

    The query's other bind parameters take their values per call, by name. ``skip_locked``: a
    locking read (PostgreSQL) skips the rows another transaction holds.
    """

    def __init__(self, query: Select[Any], key: ColumnElement[Any], *, skip_locked: bool = False) -> None:
        self.query, self.key, self.skip_locked = query, key, skip_locked
        self._readings: dict[tuple[str, int, bool], _Reading] = {}

    def rows(
        self, conn: Connection, keys: Sequence[Any], *, lock: bool = False, **values: Any
    ) -> list[tuple[Any, ...]]:
        """The rows whose key is in ``keys`` (at most :data:`engine.store.batches.CHUNK` of them), for
        these ``values`` of the other parameters; ``lock`` holds them (PostgreSQL) until commit."""
        if not keys:
            return []
        lock = lock and conn.dialect.name == "postgresql"
        keys = _padded(keys)
        reading = self._reading(conn, len(keys), lock)
        result = conn.exec_driver_sql(reading.sql, reading.parameters(keys, values))
        try:  # the driver's rows as they are (tuples), not wrapped in Core's Row objects
            fetched = result.cursor.fetchall()
        finally:
            result.close()
        return reading.conversion.rows(fetched)

    def _reading(self, conn: Connection, count: int, lock: bool) -> _Reading:
        """The query for ``count`` keys, compiled once (a batch's slices have a few sizes only)."""
        at = (conn.dialect.name, count, lock)
        reading = self._readings.get(at)
        if reading is None:
            if len(self._readings) > 64:  # slices of many sizes: keep the cache small
                self._readings.clear()
            names = [f"mf_key_{i}" for i in range(count)]
            query = self.query.where(self.key.in_([bindparam(name) for name in names]))
            if lock:
                query = query.with_for_update(skip_locked=self.skip_locked)
            reading = self._readings[at] = _Reading(query, names, conn)
        return reading


def _padded(keys: Sequence[Any]) -> Sequence[Any]:
    """``keys`` made up to the next power of two (at most :data:`engine.store.batches.CHUNK`) by
    repeating the last: ``IN (...)`` finds the same rows, and a query is compiled for a few sizes only."""
    size = 1 << (len(keys) - 1).bit_length()
    size = min(size, max(len(keys), CHUNK))
    if size == len(keys):
        return keys
    return [*keys, *repeat(keys[-1], size - len(keys))]
