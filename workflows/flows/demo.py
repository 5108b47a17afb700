"""The demo: a simulated program's year, day by day, through the flows' own tasks in ONE flow run.

A flow run costs about a second and a task run about ten milliseconds, so
the year is one parent flow run whose body, for each simulated day, calls
the same tasks the scheduled flows call: intake (on the days HR sends a
file), matching (on Mondays, when someone waits and the pool changed since
the last run), the cadence's batches, and delivery (when the day wrote
messages, or some wait for a retry). What the program's people do each day
(approvals, trainings, meetings, surveys) is the world the flows work on,
not a task of theirs: it runs in the flow's body, between the flows' tasks,
and costs no task run. The participants record what they do through their
personal links, signed with the demo's link keys (:data:`link_keys`, set by
the command; kept out of the flow's parameters, which Prefect stores and
shows). Time is the simulated clock's: every task gets the day's moment as an
ISO time.
"""

from __future__ import annotations

import contextvars
import importlib
import secrets
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path

from prefect import flow

# imported with the module (which the demo imports while Prefect's server starts), not in the run
from engine.services.delivery import DeliverySummary
from engine.services.tick import TickSummary
from engine.simulation import DaySummary, Program, day_moment, generate_program, participants_csv
from engine.simulation import simulate_day as simulate
from workflows.flows import resources, work
from workflows.flows.cadence import advance_due, plan_group_sessions
from workflows.flows.delivery import deliver_pending
from workflows.flows.intake import import_participants
from workflows.flows.matching import propose_matches

# What the first flow run would import, in the run, once the server answers; imported with this module
# instead, while the server starts. A name that a later Prefect no longer has is only not imported early.
_FIRST_RUN_IMPORTS = (
    "fastapi.encoders",  # the flow's parameters are encoded with it
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.utilities.visualization",
    "engine.delivery.channels.config",
    "engine.files.participants",
    "engine.services.pairing",  # a coordinator's approval checks the pair with it
)
for _name in _FIRST_RUN_IMPORTS:
    with suppress(ImportError):
        importlib.import_module(_name)

DayObserver = Callable[[int, int, str], None]
"""Called after each simulated day with (day, days, ISO moment): the CLI's progress bar."""
on_day: contextvars.ContextVar[DayObserver | None] = contextvars.ContextVar("on_day", default=None)
link_keys: contextvars.ContextVar[tuple[str, ...] | None] = contextvars.ContextVar("link_keys", default=None)
"""The demo's link keys (newest first), which the simulated participants' links are signed with; a fresh
throwaway key for the run where the caller sets none."""
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


def simulate_day(database: str, policy: str, seed: int, now: str, keys: tuple[str, ...]) -> DaySummary:
    """What the program's people do today (approvals, trainings, meetings, surveys, early exits); what the
    participants record goes through their personal links, signed with ``keys``."""
    lifecycle = resources.lifecycle(policy)
    return simulate(resources.store(database), lifecycle, seed, resources.moment(now), keys)


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
    program = generate_program(seed, mentees, mentors, days=days)
    totals = DemoTotals(DaySummary(), TickSummary(), DeliverySummary())
    first, timezone = resources.moment(start), resources.policy(policy).program.timezone
    observer, pool_changed, retrying = on_day.get(), True, 0
    keys = link_keys.get() or (secrets.token_urlsafe(32),)
    for day in range(days + 1):
        now = day_moment(first, day, timezone).isoformat()
        if day in program.import_days:
            _intake(database, policy, now, program, day, Path(workdir), totals)
        today = simulate_day(database, policy, seed, now, keys)
        pool_changed |= day in program.import_days or _pool_changed(today)
        if pool_changed and today.waiting and (day == 0 or _weekday(now) == MATCHING_WEEKDAY):
            _matching(database, policy, now, totals)
            pool_changed = False
        ticked = advance_due(database, policy, now)
        if work.sessions_due(database, policy, now, ticked.advanced):
            ticked = replace(ticked, invited=plan_group_sessions(database, policy, now))
        pool_changed |= bool(ticked.advanced.get("close"))
        if retrying or _caused_messages(today, ticked):
            delivered = deliver_pending(database, policy, now, outbox_log=outbox_log)
            totals.delivery, retrying = totals.delivery.merged(delivered), delivered.retrying
        totals.behaviour, totals.tick = totals.behaviour.merged(today), totals.tick.merged(ticked)
        if observer is not None:
            observer(day, days, now)
    return totals


def _weekday(now: str) -> int:
    return resources.moment(now).weekday()


def _pool_changed(today: DaySummary) -> bool:
    """Whether matching could find something new: a mentee back in intake, a mentor with room again."""
    return bool(today.rematched or today.rejected or today.closed_early)


def _caused_messages(today: DaySummary, ticked: TickSummary) -> bool:
    """Whether the day wrote outbox rows: phase changes (their on_enter actions) or the tick's notices."""
    return bool(
        ticked.advanced or ticked.reminders or ticked.escalations
        or ticked.surveys_sent or ticked.survey_reminders or ticked.invited
        or today.approved or today.closed_early or today.renewed or today.rematched
    )  # fmt: skip


def _matching(database: str, policy: str, now: str, totals: DemoTotals) -> None:
    run = propose_matches(database, policy, now, "matching")
    totals.proposals += sum(1 for row in run.rows if row["mentor_id"] is not None)
    totals.auto_approved += len(run.approved)


def _intake(
    database: str, policy: str, now: str, program: Program, day: int, workdir: Path, totals: DemoTotals
) -> None:
    """HR's export of the people joining today, imported through the intake task."""
    path = workdir / f"participants-day-{day:03d}.csv"
    path.write_text(participants_csv(program.arriving(day)), encoding="utf-8")
    summary = import_participants(database, policy, now, str(path), "hr-import")
    totals.imported += summary.created
    totals.opened += len(summary.relationships_opened)
