"""How long the program keeps personal data: the policy's optional ``retention:`` block.

::

    retention:
      survey_text: 6 months           # a survey answer's free text, from when it was answered
      meeting_notes: 1 year           # a meeting's notes, from when the meeting was recorded
      message_bodies: 3 months        # a settled message's personal words and addresses, from when written
      closed_relationships: 2 years   # a closed pair's free text, from when it closed
      left_participants: 2 years      # a leaver, pseudonymised once all their pairs closed this long ago

Each kind is optional; a kind left out is kept as long as the store lasts
(``left_participants`` defaults to ``closed_relationships``). The cadence purges
what is older than its period (:mod:`engine.services.retention`). Without the
block nothing is purged and the policy's digest does not change; a kind left out
is not part of the digest either, so adding a kind later keeps the versions of
the blocks written before it. The kinds and their periods as a purge reads them are
in :mod:`engine.policy.retention_periods`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import field_validator, model_serializer, model_validator

from engine.policy.durations import Duration
from engine.policy.fields import DurationText, PolicyModel
from engine.policy.retention_periods import KINDS

SHORTEST = timedelta(days=1)


class Retention(PolicyModel):
    """``retention:``: per kind of personal data, how long it is kept."""

    survey_text: DurationText | None = None
    meeting_notes: DurationText | None = None
    message_bodies: DurationText | None = None
    closed_relationships: DurationText | None = None
    left_participants: DurationText | None = None

    @field_validator(*KINDS)
    @classmethod
    def _at_least_a_day(cls, value: Duration | None) -> Duration | None:
        if value is not None and value.approx() < SHORTEST:
            raise ValueError(
                f"{value} is too short a retention (expected 1 day or more: the cadence purges "
                "what has expired once a run, and a shorter period is more likely a slip of the unit)"
            )
        return value

    @model_validator(mode="after")
    def _something_is_kept(self) -> Retention:
        if not self.written():
            raise ValueError(
                f"no kind of data is given a period (expected one or more of: {', '.join(KINDS)})"
            )
        return self

    def written(self) -> dict[str, Duration]:
        """The kinds the block names, with their periods, in the order of :data:`KINDS`."""
        found = {kind: getattr(self, kind) for kind in KINDS}
        return {kind: period for kind, period in found.items() if period is not None}

    @model_serializer
    def normalised(self) -> dict[str, Any]:
        """The block as the policy's digest reads it: the kinds it names, periods in normal form."""
        return {kind: str(period) for kind, period in self.written().items()}
