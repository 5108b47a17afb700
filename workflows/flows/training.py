"""Training: enrolments went out with the match (outbox rows); this records who finished.

Completion gates ``schedule_kickoff``: a recorded mentor's pairs become due,
so the next cadence run moves them on.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import resources


@task(name="record-trainings", cache_policy=NO_CACHE)
def record_trainings(database: str, now: str, file: str) -> int:
    """Record the training of each mentor ``file`` lists as finished; returns how many of their pairs
    became due. The task takes the file, not the mentors it names (an email address, perhaps), so no
    run's parameters hold them."""
    from pathlib import Path

    from engine.clock import SimulatedClock
    from engine.files.records import read_trainings
    from engine.services.recording import record_training

    clock = SimulatedClock(resources.moment(now))
    mentors = read_trainings(Path(file))
    return sum(len(record_training(resources.store(database), clock, mentor)) for mentor in mentors)


@flow(name="training", log_prints=False)
def training(
    file: str | None = None,
    database: str | None = None,
    policy: str | None = None,
    now: str | None = None,
) -> int:
    """Record the trainings a file lists (a ``mentor`` column); without a file there is nothing to do."""
    target = resources.resolve(database, policy, now)
    if file is None:
        return 0
    return record_trainings(target.database, target.now, file)
