"""How long a pair has been in each phase over its earlier stays: the clocks of ``after:`` timers.

A relationship's row keeps, per phase it has left, the time it spent there in
its earlier stays and when it first entered (``phase_clock``, plain JSON:
``{"active": [seconds, "first entry, ISO 8601"]}``). Each phase change adds the
stay it ends; a timer that reads a counting clock (``time_in_phase`` or
``first_entry``, :mod:`engine.policy.timers`) and has run out starts that
phase's clock over when it takes the pair out. Pure: plain data in and out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

PhaseClock = Mapping[str, Sequence[Any]]
"""Per phase: [seconds spent there in earlier stays, first entry as ISO text]."""


@dataclass(frozen=True, slots=True)
class Earlier:
    """What a pair's earlier stays in one phase add to its timers' clocks."""

    spent: timedelta = timedelta(0)
    first_entered: datetime | None = None


NOTHING_EARLIER = Earlier()


def earlier(clock: PhaseClock | None, phase: str) -> Earlier:
    """The earlier stays in ``phase`` (since its clock last started over)."""
    kept = clock.get(phase) if clock else None
    if not kept:
        return NOTHING_EARLIER
    return Earlier(timedelta(seconds=kept[0]), datetime.fromisoformat(kept[1]))


def after_leaving(
    clock: PhaseClock | None, phase: str, entered: datetime, now: datetime, *, restart: bool
) -> dict[str, list[Any]] | None:
    """The clock once the pair leaves ``phase`` (entered at ``entered``) at ``now``.

    ``restart``: a timer on a counting clock ran out and took the pair out, so the
    phase's count starts over. ``None`` when nothing is kept.
    """
    kept = {name: list(value) for name, value in (clock or {}).items()}
    if restart:
        kept.pop(phase, None)
    else:
        spent, first = kept.get(phase, (0, entered.isoformat()))
        kept[phase] = [int(spent) + max(0, int((now - entered).total_seconds())), first]
    return kept or None
