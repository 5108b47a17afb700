"""A pair chosen by hand: the same hard constraints as ``match propose``, and the coordinator's overrides.

A coordinator who matches (or re-matches) a pair by hand is held to every hard
constraint :func:`engine.matching.constraints.violations` checks for a proposal,
in the words ``match explain`` uses. They may overrule one knowingly by naming
it (with a reason); ``role`` and ``self`` can never be overruled.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.domain.participants import Participant
from engine.errors import InputError, RefusedError
from engine.errors import field as named
from engine.matching.constraints import CONSTRAINT_LABELS, UNOVERRIDABLE, Pool, Traits, breaks_any, violations
from engine.policy.matching import MatchingPolicy

OVERRIDABLE: tuple[str, ...] = tuple(name for name in CONSTRAINT_LABELS if name not in UNOVERRIDABLE)
"""The constraints a coordinator may overrule by name, in the order ``match explain`` lists them."""


@dataclass(frozen=True)
class Overrides:
    """The constraints a coordinator overrules for one manual match, and why."""

    names: tuple[str, ...] = ()
    reason: str | None = None

    def data(self, broken: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """What the audit entry records: the names given, the reason, and what they overruled."""
        if not self.names:
            return {}
        overruled = [f"{name}: {text}" for name, text in broken if name in self.names]
        return {"override": {"constraints": list(self.names), "reason": self.reason, "overruled": overruled}}


def overrides(names: Collection[str], reason: str | None) -> Overrides:
    """Validated overrides: known, overridable names, and a reason; InputError saying what is wrong."""
    given = tuple(dict.fromkeys(name.strip() for name in names))
    if not given:
        return Overrides()
    fixed = [name for name in given if name in UNOVERRIDABLE]
    if fixed:
        raise InputError(
            f"{named('override')}: {', '.join(fixed)} cannot be overridden (only a mentor mentors, "
            "and never themselves)"
        )
    unknown = [name for name in given if name not in OVERRIDABLE]
    if unknown:
        raise InputError(
            f"{named('override')}: unknown constraint {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(OVERRIDABLE)})"
        )
    if reason is None or not reason.strip():
        raise InputError(f"{named('reason')}: say why the constraint is overridden")
    return Overrides(given, reason.strip())


def check_pair(
    mentee: Participant,
    mentor: Participant,
    pool: Pool,
    policy: MatchingPolicy,
    now: datetime,
    default_timezone: str,
    allowed: Overrides,
    *,
    who: str,
) -> list[tuple[str, str]]:
    """The constraints the pair breaks, as `match explain` names them (``who`` names the mentor).

    Raises RefusedError listing each broken constraint that is not overridden;
    returns every broken one (so the audit entry can say what was overruled).
    """
    mentee_offset = offset_hours(mentee.timezone or default_timezone, now)  # as pair_offsets has them
    mentor_offset = offset_hours(mentor.timezone or default_timezone, now)
    # the checks of proposal_for, without scoring the pair
    broken = violations(mentee, mentor, pool, policy.constraints, abs(mentee_offset - mentor_offset))
    _refuse(broken, allowed, lambda: who)
    return broken


class PairChecker:
    """:func:`check_pair` for the many pairs of one transaction, at one moment, against one pool.

    What the pairs share is worked out once: one pool (its earlier pairs, rejections and
    reporting lines; :func:`violations` reads the mentor's ``taken`` from it, set per pair),
    and each time zone's offset at ``now``. The outcome of each pair is :func:`check_pair`'s.
    :meth:`passes` tells the many pairs that break nothing from the two people's :class:`Traits`
    (:func:`breaks_any`), so that only the others need their participants built for :meth:`check`.
    """

    def __init__(
        self,
        policy: MatchingPolicy,
        now: datetime,
        default_timezone: str,
        previous: frozenset[tuple[str, str]],
        rejected: Mapping[tuple[str, str], str],
        managers: Mapping[str, str],
    ) -> None:
        self.constraints, self.now, self.default_timezone = policy.constraints, now, default_timezone
        self._taken: dict[str, int] = {}
        self._pool = Pool(
            mentees=(), mentors=(), taken=self._taken, previous=previous, rejected=rejected, managers=managers
        )
        self._offsets: dict[str | None, float] = {}

    def passes(self, mentee: Traits, mentor: Traits, taken: int) -> bool:
        """Whether the pair breaks no constraint, ``mentor`` having ``taken`` open relationships: then
        :meth:`check` of the two would return ``[]`` (:func:`breaks_any`); else :meth:`check` says what."""
        offsets = self._offsets
        a, b = offsets.get(mentee.timezone), offsets.get(mentor.timezone)
        if a is None:
            a = self._offset(mentee.timezone)
        if b is None:
            b = self._offset(mentor.timezone)
        return not breaks_any(mentee, mentor, taken, self._pool, self.constraints, abs(a - b))

    def check(
        self, mentee: Participant, mentor: Participant, taken: int, allowed: Overrides, who: Callable[[], str]
    ) -> list[tuple[str, str]]:
        """:func:`check_pair` of the pair, ``mentor`` having ``taken`` open relationships; ``who()``
        names the mentor in a refusal (worked out only then)."""
        self._taken.clear()
        self._taken[mentor.key] = taken
        hours_apart = abs(self._offset_of(mentee.timezone) - self._offset_of(mentor.timezone))
        broken = violations(mentee, mentor, self._pool, self.constraints, hours_apart)
        if broken:
            _refuse(broken, allowed, who)
        return broken

    def _offset_of(self, zone: str | None) -> float:
        offset = self._offsets.get(zone)
        return self._offset(zone) if offset is None else offset

    def _offset(self, zone: str | None) -> float:
        """:func:`offset_hours` of ``zone`` (else the program's) at ``now``, once per zone."""
        offset = self._offsets[zone] = offset_hours(zone or self.default_timezone, self.now)
        return offset


def offset_hours(zone: str, now: datetime) -> float:
    """:func:`engine.matching.scores.utc_offset_hours`, without importing the scores (and numpy) for a
    manual match (a test keeps the two equal)."""
    offset = now.astimezone(ZoneInfo(zone)).utcoffset()
    return 0.0 if offset is None else offset.total_seconds() / 3600


def _refuse(broken: Sequence[tuple[str, str]], allowed: Overrides, who: Callable[[], str]) -> None:
    """Raise RefusedError listing each broken constraint ``allowed`` does not overrule (none: return)."""
    kept = [(name, text) for name, text in broken if name not in allowed.names]
    if kept:
        listed = "; ".join(f"{text} ({name})" for name, text in kept)
        hint = "" if all(name in UNOVERRIDABLE for name, _ in kept) else _hint(kept)
        raise RefusedError(f"{named('mentor')}: {who()} breaks a hard constraint of matching: {listed}{hint}")


def _hint(kept: Sequence[tuple[str, str]]) -> str:
    names = [name for name, _ in kept if name not in UNOVERRIDABLE]
    flags = " ".join(f"{named('override')} {name}" for name in names)
    return f" (to overrule knowingly: {flags} with a {named('reason')})"
