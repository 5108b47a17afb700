"""How long a personal link opens: the policy's optional ``links:`` block.

::

    links:
      expire_after: 30 days
      confirm_training: true

A link opens from the moment its message was written until ``expire_after`` later
(calendar months count as months: ``1 month`` from 31 January ends on 28 or 29
February). Without the block a link opens for :data:`DEFAULT_LINK_LIFETIME` and the
policy's digest does not change. The lifetime is read when a link is opened, so
shortening it also shortens the links already sent, and lengthening it revives
links that had expired but were not revoked.

``confirm_training`` (default false): a mentor's "I completed the training" from their link is a report
that waits for a coordinator (:mod:`engine.services.training`), not the training itself. Left false it is
not part of the policy's version, so a ``links:`` block written before it existed keeps its digest.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import field_validator

from engine.policy.durations import Duration
from engine.policy.fields import DurationText, PolicyModel

DEFAULT_LINK_LIFETIME = Duration(seconds=30 * 86400)
"""How long a link opens when the policy does not say."""
SHORTEST = timedelta(days=1)
LONGEST = timedelta(days=366)


class LinkRules(PolicyModel):
    """``links:``: how long a personal link opens after its message was written, and whether a training a
    mentor reports through theirs waits for a coordinator."""

    expire_after: DurationText = DEFAULT_LINK_LIFETIME
    confirm_training: bool = False

    @field_validator("expire_after")
    @classmethod
    def _sensible(cls, value: Duration) -> Duration:
        if not SHORTEST <= value.approx() <= LONGEST:
            raise ValueError(
                f"{value} is not a link lifetime (expected from 1 day to 1 year: a participant needs "
                "time to open the message, and an old link should not open for ever)"
            )
        return value
