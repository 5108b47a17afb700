"""The heartbeat: advance the relationships that are due, one task per batch.

The flow runs the engine's tick loop (:func:`engine.services.tick.run_tick`):
the engine selects the due relationships of its policy by their indexed
``due_at`` (not all of them; another program's are its own cadence's) pass
after pass, and the flow submits one :func:`tick_due_batch` task per batch of
a pass, each one transaction, so a run costs in proportion to what is due:
nothing due, no task. The batches run side by side; the engine keeps two
writers from advancing one relationship twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import resources

if TYPE_CHECKING:
    from engine.services.tick import TickSummary

BATCH_SIZE = 500  # the engine's default (engine.services.tick.BATCH_SIZE), not imported at start-up


@task(name="tick-batch", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def tick_due_batch(database: str, policy: str, now: str, ids: list[int]) -> TickSummary:
    """Advance one batch of due relationships in one transaction."""
    from engine.services.tick import tick_batch

    lifecycle = resources.lifecycle(policy)
    return tick_batch(resources.store(database), lifecycle, resources.moment(now), ids)


def advance_due(database: str, policy: str, now: str, batch_size: int = BATCH_SIZE) -> TickSummary:
    """Within a flow: the engine's tick (:func:`engine.services.tick.run_tick`), pass after pass until
    nothing more is due now, each pass's batches ticked as Prefect tasks."""
    from engine.services.tick import run_tick

    store, lifecycle = resources.store(database), resources.lifecycle(policy)
    submit = partial(_submitted, database, policy, now)
    return run_tick(store, lifecycle, resources.moment(now), batch_size=batch_size, tick_batches=submit)


def tick_ids(database: str, policy: str, now: str, ids: Sequence[int], batch_size: int) -> TickSummary:
    """Within a flow: tick ``ids``, one submitted task per batch; their summaries added up."""
    from engine.services.tick import batches

    return _submitted(database, policy, now, batches(ids, batch_size))


def _submitted(database: str, policy: str, now: str, parts: list[list[int]]) -> TickSummary:
    """The batches ticked side by side, one :func:`tick_due_batch` task each; their summaries added up."""
    from engine.services.tick import added

    futures = [tick_due_batch.submit(database, policy, now, part) for part in parts]
    return added(future.result() for future in futures)


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
