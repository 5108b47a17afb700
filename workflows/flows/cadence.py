"""The heartbeat: advance the relationships that are due, one task per batch.

The flow selects the due relationships of its policy by their indexed
``due_at`` (not all of them; another program's are its own cadence's) and
submits one :func:`tick_due_batch` task per batch, each one transaction, so
a run costs in proportion to what is due: nothing due, no task. The batches
run side by side; the engine keeps two writers from advancing one
relationship twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import resources

if TYPE_CHECKING:
    from engine.services.tick import TickSummary

BATCH_SIZE = 500


def find_due(database: str, policy: str, now: str) -> list[int]:
    """The relationships of ``policy`` due at ``now``: one indexed query, made in the flow to plan its
    batches."""
    from engine.services.tick import due_ids

    name = resources.policy(policy).policy
    return due_ids(resources.store(database), resources.moment(now), policy_name=name)


@task(name="tick-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def tick_due_batch(database: str, policy: str, now: str, ids: list[int]) -> TickSummary:
    """Advance one batch of due relationships in one transaction."""
    from engine.services.tick import tick_batch

    lifecycle = resources.lifecycle(policy)
    return tick_batch(resources.store(database), lifecycle, resources.moment(now), ids)


def advance_due(database: str, policy: str, now: str, batch_size: int = BATCH_SIZE) -> TickSummary:
    """Within a flow: find what is due and tick it batch by batch, until nothing more is due now."""
    from engine.services.tick import PASSES, TickSummary

    summary = TickSummary()
    for _ in range(PASSES):  # as engine.tick.run_tick does, each pass a set of Prefect tasks
        due = find_due(database, policy, now)
        if not due:
            break
        done = tick_ids(database, policy, now, due, batch_size)
        summary = summary.merged(done)
        if not done.advanced:
            break  # nothing moved: every pair examined now waits for a later moment
    return summary


def tick_ids(database: str, policy: str, now: str, ids: Sequence[int], batch_size: int) -> TickSummary:
    """Within a flow: tick ``ids``, one submitted task per batch; their summaries added up."""
    from engine.services.tick import TickSummary

    futures = [tick_due_batch.submit(database, policy, now, part) for part in batches(ids, batch_size)]
    summary = TickSummary()
    for future in futures:
        summary = summary.merged(future.result())
    return summary


def batches(ids: Sequence[int], size: int) -> list[list[int]]:
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


@flow(name="cadence", log_prints=False)
def cadence(
    database: str | None = None,
    policy: str | None = None,
    now: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> TickSummary:
    """Advance every due relationship: auto transitions, deadlines, check-in reminders and escalations."""
    target = resources.resolve(database, policy, now)
    return advance_due(target.database, target.policy, target.now, batch_size)
