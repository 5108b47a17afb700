"""What a phase change reads of a relationship, and the shapes of what it writes.

:mod:`engine.domain.changes` builds them: one change at a time (:class:`Change`) or a
batch of thousands as rows for the store's driver (:class:`Written`, rendered by a
:class:`Rendering`), with the same values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from engine.domain.phase_time import PhaseClock


class Moving(Protocol):
    """What a phase change reads of the relationship it moves."""

    @property
    def id(self) -> int: ...
    @property
    def mentor_id(self) -> int | None: ...
    @property
    def phase(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def audit_seq(self) -> int: ...
    @property
    def audit_head(self) -> str: ...
    @property
    def phase_entered_at(self) -> datetime: ...
    @property
    def phase_clock(self) -> PhaseClock | None: ...


class Rendering(Protocol):
    """How the store's driver takes the values of the rows a batch of changes writes, by column name
    (:class:`engine.store.rendered.Rendering`): :meth:`Mover.rows` hands it what rows share (the moment,
    a cause's data, an action's params, a phase clock), so each is converted once, not once per row."""

    def entry(self, names: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
        """``values`` of the audit entry's columns ``names``, as the driver takes them."""
        ...

    def message(self, names: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
        """``values`` of the outbox row's columns ``names``, as the driver takes them."""
        ...

    def update(self, names: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
        """``values`` of the relationship row's columns ``names``, as the driver takes them."""
        ...


class Recording(Moving, Protocol):
    """What an entry that records a fact reads of the relationship it is about."""


class RowUpdate(NamedTuple):
    """What a change sets on a relationship's row, provided the row is still at ``expected_version``.

    The store bumps the version as it writes; a row another writer changed
    meanwhile no longer has the expected version, and nothing is written.
    """

    relationship_id: int
    expected_version: int
    phase: str
    phase_entered_at: datetime
    due_at: datetime | None
    mentor_id: int | None
    audit_seq: int
    audit_head: str
    phase_clock: PhaseClock | None = None  # engine.domain.phase_time: the earlier stays per phase


@dataclass(slots=True)
class Recorded:
    """Audit entries that record facts about one relationship without moving it, and its row's update."""

    update: RowUpdate
    entries: list[dict[str, Any]]


@dataclass(slots=True)
class Change:
    """Everything one phase change writes, in one transaction."""

    update: RowUpdate
    entry: dict[str, Any]
    effects: list[dict[str, Any]]


class Written(NamedTuple):
    """Phase changes as rows for the store's driver, each value rendered (:class:`Rendering`): the row
    updates (values in the order of :class:`RowUpdate`'s fields), the audit entries (in the order of
    :data:`engine.domain.audit.ENTRY_FIELDS`, then the hash, the reason's seal and its salt) and the
    outbox rows (in the order of :data:`engine.domain.effects.OUTBOX_FIELDS`)."""

    updates: list[tuple[Any, ...]]
    entries: list[tuple[Any, ...]]
    effects: list[tuple[Any, ...]]
