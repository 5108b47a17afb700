"""Intake: import the participants HR exported; each new mentee gets a relationship in the initial phase."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import resources

if TYPE_CHECKING:
    from engine.services.participants import ImportSummary


@task(name="import-participants", cache_policy=NO_CACHE)
def import_participants(database: str, policy: str, now: str, file: str, actor: str) -> ImportSummary:
    """Import a participants CSV, all or nothing."""
    from pathlib import Path

    from engine.clock import SimulatedClock
    from engine.files.participants import parse_participants_csv
    from engine.services.participants import import_participants as run

    people = parse_participants_csv(Path(file))
    clock = SimulatedClock(resources.moment(now))
    return run(resources.store(database), resources.policy(policy), clock, people, actor=actor)


@flow(name="intake", log_prints=False)
def intake(
    file: str,
    database: str | None = None,
    policy: str | None = None,
    now: str | None = None,
    actor: str = "intake",
) -> ImportSummary:
    """Import participants and open a relationship for each new mentee."""
    target = resources.resolve(database, policy, now)
    return import_participants(target.database, target.policy, target.now, file, actor)
