"""The demo: a simulated program's year, day by day, through the flows' own tasks in ONE flow run.

A flow run costs about a second and a task run about ten milliseconds, so
the year is one parent flow run whose body, for each simulated day, calls
the same tasks the scheduled flows call: intake (on the days HR sends a
file), the people's behaviour, matching (on Mondays, when someone waits for a
mentor), the cadence's batches and delivery. Time is the simulated clock's: every task gets the day's
moment as an ISO time.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import resources
from workflows.flows.cadence import advance_due
from workflows.flows.delivery import added, deliver_pending
from workflows.flows.intake import import_participants
from workflows.flows.matching import propose_matches

if TYPE_CHECKING:
    from engine.outbox import DeliverySummary
    from engine.simulation import DaySummary, Program
    from engine.tick import TickSummary

DayObserver = Callable[[int, int, str], None]
"""Called after each simulated day with (day, days, ISO moment): the CLI's progress bar."""
on_day: contextvars.ContextVar[DayObserver | None] = contextvars.ContextVar("on_day", default=None)
MATCHING_WEEKDAY = 0  # Monday


@dataclass
class DemoTotals:
    """What the simulated year did, added up over its days."""

    behaviour: DaySummary
    tick: TickSummary
    delivery: DeliverySummary
    imported: int = 0
    opened: int = 0
    proposals: int = 0
    auto_approved: int = 0


@task(name="simulate-day", cache_policy=NO_CACHE)
def simulate_day(database: str, policy: str, seed: int, now: str) -> DaySummary:
    """What the program's people do today (approvals, trainings, meetings, surveys, early exits)."""
    from engine.simulation import simulate_day as simulate

    lifecycle = resources.lifecycle(policy)
    return simulate(resources.store(database), lifecycle, seed, resources.moment(now))


@flow(name="demo", log_prints=False)
def demo_year(
    database: str,
    policy: str,
    seed: int,
    mentees: int,
    mentors: int,
    start: str,
    days: int,
    workdir: str,
    outbox_log: str,
) -> DemoTotals:
    """A program of ``mentees`` and ``mentors`` from ``seed``, run for ``days`` days from ``start``."""
    from engine.outbox import DeliverySummary
    from engine.simulation import DaySummary, generate_program
    from engine.tick import TickSummary

    program = generate_program(seed, mentees, mentors, days=days)
    totals = DemoTotals(DaySummary(), TickSummary(), DeliverySummary())
    first = resources.moment(start)
    observer = on_day.get()
    for day in range(days + 1):
        now = (first + timedelta(days=day)).isoformat()
        if day in program.import_days:
            _intake(database, policy, now, program, day, Path(workdir), totals)
        totals.behaviour = totals.behaviour.merged(simulate_day(database, policy, seed, now))
        if day == 0 or (resources.moment(now).weekday() == MATCHING_WEEKDAY and totals.behaviour.waiting):
            run = propose_matches(database, policy, now, "matching")
            totals.proposals += sum(1 for row in run.rows if row["mentor_id"] is not None)
            totals.auto_approved += len(run.approved)
        totals.tick = totals.tick.merged(advance_due(database, policy, now))
        totals.delivery = added(
            totals.delivery, deliver_pending(database, policy, now, outbox_log=outbox_log)
        )
        if observer is not None:
            observer(day, days, now)
    return totals


def _intake(
    database: str, policy: str, now: str, program: Program, day: int, workdir: Path, totals: DemoTotals
) -> None:
    """HR's export of the people joining today, imported through the intake task."""
    from engine.simulation import participants_csv

    path = workdir / f"participants-day-{day:03d}.csv"
    path.write_text(participants_csv(program.arriving(day)), encoding="utf-8")
    summary = import_participants(database, policy, now, str(path), "hr-import")
    totals.imported += summary.created
    totals.opened += len(summary.relationships_opened)
