"""The kinds of personal data a policy keeps for a limited time, and their periods as a purge reads them.

Plain data, apart from the policy's models (:mod:`engine.policy.retention` validates the
``retention:`` block), so the light reading commands (``status``) can count what is due for
purging from a policy's outline without loading the policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from engine.policy.durations import Duration

if TYPE_CHECKING:
    from engine.policy.model import Policy

SURVEY_TEXT = "survey_text"
MEETING_NOTES = "meeting_notes"
MESSAGE_BODIES = "message_bodies"
CLOSED_RELATIONSHIPS = "closed_relationships"
LEFT_PARTICIPANTS = "left_participants"
KINDS = (SURVEY_TEXT, MEETING_NOTES, MESSAGE_BODIES, CLOSED_RELATIONSHIPS, LEFT_PARTICIPANTS)
"""The kinds of data a policy can keep for a limited time, in the order reports list them."""


@dataclass(frozen=True)
class RetentionRules:
    """What a purge reads of a policy: its name, the period of each kind it limits, and the phases in
    which a relationship is closed."""

    policy: str
    periods: Mapping[str, Duration]
    closed_phases: frozenset[str]

    def cutoff(self, kind: str, now: datetime) -> datetime | None:
        """What of ``kind`` was written at or before this moment has expired at ``now``; ``None``: the
        kind is kept for as long as the store lasts."""
        period = self.periods.get(kind)
        return None if period is None else period.before(now)

    def cutoffs(self, now: datetime) -> dict[str, datetime | None]:
        """:meth:`cutoff` of every kind the policy limits."""
        return {kind: self.cutoff(kind, now) for kind in self.periods}


def retention_rules(policy: Policy) -> RetentionRules | None:
    """The policy's ``retention:`` as a purge reads it (``left_participants`` defaulting to
    ``closed_relationships``); ``None`` without the block."""
    if policy.retention is None:
        return None
    periods = policy.retention.written()
    if LEFT_PARTICIPANTS not in periods and CLOSED_RELATIONSHIPS in periods:
        periods[LEFT_PARTICIPANTS] = periods[CLOSED_RELATIONSHIPS]
    ordered = {kind: periods[kind] for kind in KINDS if kind in periods}
    return RetentionRules(policy.policy, ordered, policy.terminal_phases)
