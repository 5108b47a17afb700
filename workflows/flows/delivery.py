"""Deliver the outbox: pending messages in batches, one task per batch, until none is due; then the
event feed to its webhook subscribers (a ``deliver-events`` task), each in order.

A run reads the channels of its settings file (a served deployment's ``settings``
parameter: the file ``serve`` read); when that names no channel it fails,
saying so, and the messages stay pending (nothing falls back to the log file).
A run that parked messages ends in a Failed state (message ``N message(s)
parked``), which a Prefect automation can alert on; its table artifact lists
them (:mod:`workflows.flows.observe`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State
from prefect.states import Failed

from workflows.flows import observe, resources, work

if TYPE_CHECKING:
    from engine.services.delivery import DeliverySummary

BATCH_SIZE = work.DELIVERY_BATCH
MAX_BATCHES = work.MAX_BATCHES


@task(name="deliver-batch", task_run_name=observe.deliver_batch_name, cache_policy=NO_CACHE)
def deliver_batch(
    database: str,
    policy: str,
    now: str,
    limit: int,
    outbox_log: str | None = None,
    settings: str | None = None,
    batch: int = 1,
) -> DeliverySummary:
    """Send up to ``limit`` due messages of the policy's relationships through the configured channels
    (or only to ``outbox_log``)."""
    return work.deliver_part(database, policy, now, limit, outbox_log, settings)


@task(name="deliver-events", cache_policy=NO_CACHE)
def deliver_events(database: str, now: str, settings: str | None = None) -> list[str]:
    """The event feed posted to its webhook subscribers, each in order (``[[events.subscribers]]``)."""
    return work.deliver_events(database, now, settings)


def deliver_pending(
    database: str,
    policy: str,
    now: str,
    batch_size: int = BATCH_SIZE,
    outbox_log: str | None = None,
    settings: str | None = None,
) -> DeliverySummary:
    """Within a flow: deliver batch after batch while full batches come back."""

    def one(number: int, limit: int) -> DeliverySummary:
        return deliver_batch(database, policy, now, limit, outbox_log, settings, number)

    return work.deliver_all(one, batch_size)


@flow(name="delivery", flow_run_name=observe.run_name("delivery"), log_prints=False)
def delivery(
    database: str | None = None,
    policy: str | None = None,
    now: str | None = None,
    batch_size: int = BATCH_SIZE,
    settings: str | None = None,
) -> DeliverySummary | State:
    """Send the messages that are due through the channels in the settings; retry or park failures.

    Parked messages end the run Failed (its data: :class:`observe.Parked`, with the summary).
    """
    target = resources.resolve(database, policy, now, settings)
    work.channels(resources.policy(target.policy).program.timezone, target.policy, None, target.settings)
    summary = deliver_pending(target.database, target.policy, target.now, batch_size, None, target.settings)
    observe.report_delivery(target, summary)
    if work.has_subscribers(target.settings):  # no task run where no subscriber is configured
        deliver_events(target.database, target.now, target.settings)
    if summary.parked:
        message = f"{summary.parked} message(s) parked; `mentorflow outbox list --failed` shows them"
        return Failed(message=message, data=observe.Parked(message, summary))
    return summary
