"""Kickoff: the invitation and the mentee guide went out on entering the phase; this records meetings held.

A kickoff recorded makes the pair due, so the next cadence run starts it.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import resources


@task(name="record-kickoffs", cache_policy=NO_CACHE)
def record_kickoffs(
    database: str, policy: str, now: str, kickoffs: list[tuple[int, str | None]], actor: str
) -> int:
    """Record the kickoff meetings as held (on their date, or now), all or nothing; returns how many."""
    from engine.clock import SimulatedClock
    from engine.services.recording import HeldMeeting, record_meetings

    held = [HeldMeeting(rel_id, "kickoff", resources.moment(on) if on else None) for rel_id, on in kickoffs]
    clock = SimulatedClock(resources.moment(now))
    return record_meetings(resources.store(database), resources.policy(policy), clock, held, actor=actor)


@flow(name="kickoff", log_prints=False)
def kickoff(
    file: str | None = None,
    database: str | None = None,
    policy: str | None = None,
    now: str | None = None,
    actor: str = "kickoff",
) -> int:
    """Record the kickoffs a file lists (``relationship``, optional ``held_on``); without one, nothing."""
    from pathlib import Path

    from engine.files.records import read_kickoffs

    target = resources.resolve(database, policy, now)
    if file is None:
        return 0
    timezone = resources.policy(target.policy).program.timezone
    rows = [(rel, held.isoformat() if held else None) for rel, held in read_kickoffs(Path(file), timezone)]
    return record_kickoffs(target.database, target.policy, target.now, rows, actor)
