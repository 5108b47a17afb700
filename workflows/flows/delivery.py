"""Deliver the outbox: pending messages in batches, one task per batch, until none is due."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import resources

if TYPE_CHECKING:
    from collections.abc import Mapping

    from engine.delivery.channels import Channels
    from engine.policy.surveys import Survey
    from engine.services.delivery import DeliverySummary

BATCH_SIZE = 200
MAX_BATCHES = 1000  # a backlog larger than this waits for the next run


@task(name="deliver-batch", cache_policy=NO_CACHE)
def deliver_batch(
    database: str, policy: str, now: str, limit: int, outbox_log: str | None = None
) -> DeliverySummary:
    """Send up to ``limit`` due messages of the policy's relationships through the configured channels
    (or only to ``outbox_log``)."""
    from engine.services.delivery import deliver_due

    loaded = resources.policy(policy)
    channels = _channels(loaded.program.timezone, loaded.survey_definitions, outbox_log)
    store, moment = resources.store(database), resources.moment(now)
    return deliver_due(store, channels, moment, limit=limit, policy_name=loaded.policy)


def _channels(timezone: str, surveys: Mapping[str, Survey], outbox_log: str | None) -> Channels:
    from engine.delivery.channels.config import channels_from, configured_channels

    if outbox_log is None:
        return configured_channels(timezone=timezone, surveys=surveys)
    log_only = {"channels": {"log": {"path": outbox_log}}}
    return channels_from(log_only, None, timezone=timezone, surveys=surveys)


def deliver_pending(
    database: str, policy: str, now: str, batch_size: int = BATCH_SIZE, outbox_log: str | None = None
) -> DeliverySummary:
    """Within a flow: deliver batch after batch while full batches come back."""
    from engine.services.delivery import DeliverySummary

    total = DeliverySummary()
    for _ in range(MAX_BATCHES):
        done = deliver_batch(database, policy, now, batch_size, outbox_log)
        total = total.merged(done)
        if done.claimed < batch_size:
            break
    return total


@flow(name="delivery", log_prints=False)
def delivery(
    database: str | None = None,
    policy: str | None = None,
    now: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> DeliverySummary:
    """Send the messages that are due through the channels in the settings; retry or park failures."""
    target = resources.resolve(database, policy, now)
    return deliver_pending(target.database, target.policy, target.now, batch_size)
