"""The heartbeat: advance the relationships that are due, one task per batch.

The flow runs the engine's tick loop (:func:`engine.services.tick.run_tick`,
through :func:`workflows.flows.work.advance`): the engine selects the due
relationships of its policy by their indexed ``due_at`` (not all of them;
another program's are its own cadence's) pass after pass, and the flow submits
one :func:`tick_due_batch` task per batch of a pass, each one transaction, so a
run costs in proportion to what is due: nothing due, no task. The batches run
side by side (a pass of one batch in the flow's own thread); the engine keeps two writers from
advancing one relationship twice, and a batch decides a pair it moved that is due again at once
itself, so a small tick is usually one task.
Then, where the policy has ``sessions:`` and a series' next date is not planned yet or pairs moved into
its phases, one :func:`plan_group_sessions` task plans the next session of each series and invites
whoever is due an invitation (``invited``); and where it has ``retention:``, one
:func:`purge_expired` task erases what has expired (:mod:`engine.services.retention`, a transaction per
batch); the run's summary counts it (``purged``).

A run is named ``cadence POLICY YYYY-MM-DD HH:MM``, its tasks ``tick batch N of M
(SIZE)``; it logs the summary ``mentorflow tick`` prints and leaves a Markdown
artifact (:mod:`workflows.flows.observe`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import observe, resources, work

if TYPE_CHECKING:
    from engine.services.retention import PurgeSummary
    from engine.services.tick import TickSummary

BATCH_SIZE = work.TICK_BATCH


@task(
    name="tick-batch",
    task_run_name=observe.tick_batch_name,
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=1,
)
def tick_due_batch(
    database: str, policy: str, now: str, ids: list[int], batch: int = 1, batches: int = 1
) -> TickSummary:
    """Advance one batch of due relationships in one transaction (batch ``batch`` of ``batches``)."""
    return work.tick_part(database, policy, now, ids)


def advance_due(database: str, policy: str, now: str, batch_size: int = BATCH_SIZE) -> TickSummary:
    """Within a flow: the engine's tick, pass after pass until nothing more is due now, each pass's
    batches ticked as Prefect tasks."""
    return work.advance(database, policy, now, batch_size, partial(_submitted, database, policy, now))


def tick_ids(database: str, policy: str, now: str, ids: Sequence[int], batch_size: int) -> TickSummary:
    """Within a flow: tick ``ids``, one submitted task per batch; their summaries added up."""
    from engine.services.tick import batches

    return _submitted(database, policy, now, batches(ids, batch_size))


def _submitted(database: str, policy: str, now: str, parts: list[list[int]]) -> TickSummary:
    """The batches ticked side by side, one :func:`tick_due_batch` task each; their summaries added up.
    A pass of one batch runs its task in the flow's thread: there is nothing to run beside it."""
    from engine.services.tick import added

    if len(parts) == 1:
        return tick_due_batch(database, policy, now, parts[0], 1, 1)
    futures = [
        tick_due_batch.submit(database, policy, now, part, number, len(parts))
        for number, part in enumerate(parts, start=1)
    ]
    return added(future.result() for future in futures)


@task(name="purge-expired", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def purge_expired(database: str, policy: str, now: str) -> PurgeSummary:
    """Erase what the policy's ``retention:`` says has expired at ``now``, a transaction per batch."""
    from engine.services.retention import purged_line

    purged = work.purge(database, policy, now)
    get_run_logger().info("cadence: purged %s", purged_line(purged.purged))
    return purged


@task(name="plan-sessions", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def plan_group_sessions(database: str, policy: str, now: str) -> int:
    """Plan the next group session of each series of the policy's ``sessions:``; how many were invited."""
    invited = work.plan_sessions(database, policy, now)
    get_run_logger().info("cadence: %d invited to group sessions", invited)
    return invited


@flow(name="cadence", flow_run_name=observe.run_name("cadence"), log_prints=False)
def cadence(
    database: str | None = None,
    policy: str | None = None,
    now: str | None = None,
    batch_size: int = BATCH_SIZE,
    settings: str | None = None,
) -> TickSummary:
    """Advance every due relationship: auto transitions, deadlines, check-in reminders and escalations;
    then plan the policy's group sessions and purge what its ``retention:`` says has expired.

    ``settings``: the settings file the run reads (a served deployment's: the file ``serve`` read).
    """
    target = resources.resolve(database, policy, now, settings)
    summary = advance_due(target.database, target.policy, target.now, batch_size)
    if work.sessions_due(target.database, target.policy, target.now, summary.advanced):
        summary = replace(summary, invited=plan_group_sessions(target.database, target.policy, target.now))
    if work.has_retention(target.policy):
        summary = replace(summary, purged=purge_expired(target.database, target.policy, target.now).purged)
    observe.report_cadence(target, summary)
    return summary
