"""The demo's closing summary, read back from the store with the same queries the commands use.

The phase counts and overdue items come from :func:`engine.services.queries.status`,
the audit line from :func:`engine.services.queries.verify`, the deliveries from
the outbox, so ``mentorflow status`` and ``mentorflow audit verify`` run
afterwards say the same.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich import box
from rich.table import Table

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from engine.policy.model import Policy
    from workflows.flows.demo import DemoTotals


@dataclass(frozen=True)
class DemoRun:
    """What the operator asked for and how long it took."""

    mentees: int
    mentors: int
    months: int
    seed: int
    database: str
    start: datetime
    end: datetime
    seconds: float
    outbox_log: str
    policy_option: str = ""  # what `mentorflow status` needs to read the demo's policy


def render(console: Console, store: Engine, policy: Policy, totals: DemoTotals, run: DemoRun) -> None:
    """Print the summary: what people did, the funnel, deliveries, escalations, one history, the checks."""
    from engine.services.delivery import status_counts
    from engine.services.queries import status, verify

    zone = ZoneInfo(policy.program.timezone)
    report = status(store, policy, run.end)
    first, last = run.start.astimezone(zone), run.end.astimezone(zone)
    console.print(
        f"\n[bold]A mentoring program, simulated[/bold]: {run.mentees} mentees, {run.mentors} mentors, "
        f"{run.months} months from {first:%Y-%m-%d} to {last:%Y-%m-%d} (seed {run.seed}), "
        f"in {run.seconds:.1f} s: one Prefect flow run calling the flows' tasks day by day."
    )
    _behaviour(console, totals)
    _funnel(console, store, policy, dict(report.phases))
    _program_goals(console, store, policy, run.end)
    _peer_sessions(console, store, policy, run.end)
    _deliveries(console, status_counts(store), run.outbox_log)
    overdue = Counter(item.action for _, item in report.overdue)
    kinds = Counter(f"{item.phase} ({item.kind})" for _, item in report.overdue if item.action == "escalate")
    detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"
    console.print(
        f"\n[bold]Overdue now[/bold]: {counted(len(report.overdue), 'item')}: "
        f"{overdue['escalate']} escalated to the "
        f"coordinator ({detail}), {overdue['remind']} awaiting the pair after a reminder."
    )
    checked = verify(store)
    state = "intact" if not checked.problems else counted(len(checked.problems), "PROBLEM", "PROBLEMS")
    console.print(
        f"[bold]Audit history[/bold]: {counted(checked.relationships, 'relationship')}, "
        f"{counted(checked.entries, 'entry', 'entries')} "
        f"checked: {state}; heads digest {checked.digest}"
    )
    _history(console, store, zone)
    console.print("\nCheck it yourself:")
    console.print(f"  mentorflow status --database {run.database}{run.policy_option}", soft_wrap=True)
    console.print(f"  mentorflow audit verify --database {run.database}", soft_wrap=True)
    console.print("What it achieved, and what to change:")
    command = f"mentorflow report --database {run.database}{run.policy_option}"
    console.print(f"  {command} --output mentorflow-demo-report.html", soft_wrap=True)
    console.print(f"  mentorflow insights --database {run.database}{run.policy_option}", soft_wrap=True)


def _program_goals(console: Console, store: Engine, policy: Policy, end: datetime) -> None:
    """The mentees' development goals per program goal, as the report counts them."""
    from engine.reporting.goal_figures import program_goals
    from engine.reporting.outcomes import load_outcomes

    rows = program_goals(load_outcomes(store, policy, as_of=end), policy)
    if not rows:
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("program goal", "mentees", "goals", "reached", "partly", "started", "not started"):
        table.add_column(header, justify="left" if header == "program goal" else "right")
    for row in rows:
        levels = [
            str(row["levels"][level]["value"]) for level in ("reached", "partly", "started", "not_started")
        ]
        table.add_row(row["title"], str(row["mentees"]["value"]), str(row["goals"]["value"]), *levels)
    console.print("\n[bold]Development goals per program goal[/bold] (as the report counts them)")
    console.print(table)


def _peer_sessions(console: Console, store: Engine, policy: Policy, end: datetime) -> None:
    """The group sessions that have begun, per series, as the report counts them."""
    from engine.reporting.metrics import pair_satisfaction
    from engine.reporting.outcomes import load_outcomes
    from engine.reporting.render import percent
    from engine.reporting.session_figures import group_sessions

    rows = group_sessions(load_outcomes(store, policy, as_of=end), policy, end, pair_satisfaction)["series"]
    if not any(row["sessions"]["value"] for row in rows):
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for header in ("series", "sessions held", "invited", "attended", "absent", "share attended"):
        table.add_column(header, justify="left" if header == "series" else "right")
    for row in rows:
        counts = [str(row[key]["value"]) for key in ("sessions", "invited", "attended", "absent")]
        table.add_row(row["title"], *counts, percent(row["share_attended"]["value"]))
    console.print("\n[bold]Peer sessions[/bold] (as the report counts them)")
    console.print(table)


def _behaviour(console: Console, totals: DemoTotals) -> None:
    done, tick = totals.behaviour, totals.tick
    exits = ", ".join(f"{n} {reason}" for reason, n in done.closed_early.most_common()) or "none"
    moves = ", ".join(f"{trigger} {n}" for trigger, n in sorted(tick.advanced.items())) or "none"
    lines = [
        f"HR imported {counted(totals.imported, 'person', 'people')}; "
        f"{counted(totals.opened, 'mentee')} entered intake, "
        f"{done.rematched} more went back to intake to be matched again",
        f"matching proposed {counted(totals.proposals, 'pair')}: "
        f"{done.approved + totals.auto_approved} approved, {done.rejected} turned down by the coordinator",
        f"{counted(done.trained, 'mentor')} finished the training; {counted(done.kickoffs, 'kickoff')} and "
        f"{counted(done.check_ins, 'check-in')} were held; "
        f"{counted(done.answers, 'survey answer')}, {counted(done.renewed, 'renewal')}",
        f"mentees set {counted(done.goals_set, 'goal')} of their own at their kickoff and took "
        f"{counted(done.goal_steps, 'step')} on their goals through their links; "
        f"{counted(tick.invited, 'invitation')} to peer sessions went out, and "
        f"{counted(done.attendance, 'person', 'people')} said whether they came",
        f"early exits: {sum(done.closed_early.values())} ({exits})",
        f"the cadence moved pairs on its own ({moves}) and sent {counted(tick.reminders, 'reminder')}, "
        f"{counted(tick.escalations, 'escalation')} and {counted(tick.survey_reminders, 'survey reminder')}",
    ]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for line in lines:
        grid.add_row(" -", line)
    console.print("\n[bold]What happened[/bold]")
    console.print(grid)


def _funnel(console: Console, store: Engine, policy: Policy, now: dict[str, int]) -> None:
    from engine.services.listing import phases_reached

    reached = phases_reached(store)
    table = Table(title="Phase funnel", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("phase")
    table.add_column("ever reached", justify="right")
    table.add_column("there now", justify="right")
    for phase in policy.phases:
        table.add_row(phase, str(reached.get(phase, 0)), str(now.get(phase, 0)))
    table.add_row("total", "", str(sum(now.values())), style="bold")
    console.print()
    console.print(table)


def _deliveries(console: Console, counts: dict[str, dict[str, int]], log: str) -> None:
    table = Table(title=f"Messages by kind ({log})", title_justify="left", box=box.SIMPLE_HEAD)
    statuses = sorted({status for by in counts.values() for status in by})
    table.add_column("action")
    for status in statuses:
        table.add_column(status, justify="right")
    for action, by in sorted(counts.items(), key=lambda item: -sum(item[1].values())):
        table.add_row(action, *(str(by.get(status, 0)) for status in statuses))
    console.print()
    console.print(table)


def _history(console: Console, store: Engine, zone: ZoneInfo) -> None:
    from engine.services.listing import first_completed
    from engine.services.queries import history

    rel_id = first_completed(store)
    if rel_id is None:
        console.print("\n(no relationship went all the way through review yet: try more --months)")
        return
    from engine.policy.vocabulary import RECORD_TRIGGERS

    _, entries = history(store, rel_id)
    recorded = Counter(e.trigger for e in entries if e.trigger in RECORD_TRIGGERS)
    entries = [e for e in entries if e.trigger not in RECORD_TRIGGERS]
    title = f"History of relationship {rel_id}, which went all the way (mentorflow history {rel_id})"
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True
    )
    for column in ("date", "trigger", "move", "by"):
        table.add_column(column, no_wrap=True)
    table.add_column("why", overflow="fold")
    for e in entries:
        move = f"{e.from_phase or '-'} -> {e.to_phase}"
        day = f"{e.at.astimezone(zone):%Y-%m-%d}"
        table.add_row(day, e.trigger, move, e.actor, _why(e.reason, e.data))
    console.print()
    console.print(table)
    goals = recorded["set_goal"] + recorded["goal_progress"]
    sessions = recorded["session_invited"] + recorded["record_attendance"]
    console.print(
        f"(its history also records {counted(recorded['record_meeting'], 'meeting')}, "
        f"{counted(recorded['record_survey'], 'survey answer')}, "
        f"{counted(goals, 'goal entry', 'goal entries')} "
        f"and {counted(sessions, 'peer-session entry', 'peer-session entries')} between these moves; "
        "what the pair did, they recorded through their personal links)"
    )


def counted(count: int, word: str, plural: str | None = None) -> str:
    """``1 relationship``, ``2 relationships``, ``0 entries``: a count with its noun in English."""
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _why(reason: str | None, data: dict[str, Any]) -> str:
    if reason:
        return reason
    if "proposal" in data:
        return "approved"
    return ", ".join(data.get("requires") or [])
