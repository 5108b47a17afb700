"""What Prefect shows of a run: flow runs and task runs named for what they do, the run's summary as
INFO log lines (WARNING for retries, parked messages, conflicts), and its artifacts.

A flow run is named ``cadence default 2026-12-01 07:00`` (flow, policy, moment in the program's
time zone); a task run ``tick batch 2 of 5 (500)`` or ``deliver batch 3 (200)``. Every run leaves a
Markdown artifact (keys ``cadence-POLICY``, ``delivery-POLICY``) and a delivery with parked
messages also a table artifact of them (``parked-POLICY``). Nothing here logs the database URL, and
nothing names a person: pairs and participants appear by their ids, and a delivery error with its
addresses masked (:func:`summaries.without_addresses`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.runtime import flow_run, task_run

from workflows.flows import resources, summaries

if TYPE_CHECKING:
    from engine.services.delivery import DeliverySummary
    from engine.services.tick import TickSummary
    from workflows.flows.resources import Target

SHOWN_PROBLEMS = 20  # warning lines per run; the artifact lists up to 50


class Parked(Exception):
    """A delivery run's Failed state: messages were parked; ``summary`` is what the run did."""

    def __init__(self, message: str, summary: DeliverySummary) -> None:
        super().__init__(message)
        self.summary = summary


def run_name(flow: str) -> Callable[[], str]:
    """A flow run's name: ``FLOW POLICY YYYY-MM-DD HH:MM``, the moment in the program's time zone."""

    def name() -> str:
        try:
            params = flow_run.get_parameters()
            loaded = resources.policy(_policy_path(params.get("policy"), params.get("settings")))
            when = params.get("now")
            moment = resources.moment(when) if when else _scheduled()
            local = moment.astimezone(_zone(loaded.program.timezone))
            return f"{flow} {loaded.policy} {local:%Y-%m-%d %H:%M}"
        except Exception:  # a name is never a reason for a run to fail
            return flow

    name.__name__ = f"{flow}_run_name"
    return name


def _policy_path(policy: str | None, settings: str | None) -> str:
    from engine.policy.model import resolve_policy_path

    if not policy or not Path(policy).is_absolute():
        from engine.settings import resolve

        policy = policy or resolve(config=settings).policy
    return str(resolve_policy_path(policy).resolve())


def _scheduled() -> datetime:
    from datetime import UTC

    scheduled = flow_run.get_scheduled_start_time()
    return datetime.fromisoformat(scheduled.isoformat()) if scheduled else datetime.now(UTC)


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def tick_batch_name() -> str:
    """``tick batch 2 of 5 (500)``: the batch's number in its pass, and how many relationships it holds."""
    params = task_run.get_parameters()
    return f"tick batch {params.get('batch', 1)} of {params.get('batches', 1)} ({len(params.get('ids', []))})"


def deliver_batch_name() -> str:
    """``deliver batch 3 (200)``: the batch's number in the run, and the most rows it claims."""
    params = task_run.get_parameters()
    return f"deliver batch {params.get('batch', 1)} ({params.get('limit', 0)})"


def report_cadence(target: Target, summary: TickSummary) -> None:
    """The cadence run's summary as log lines and its Markdown artifact (with what is overdue now)."""
    logger = get_run_logger()
    logger.info("cadence: %s", summaries.tick_line(summary))
    if summary.conflicts:
        logger.warning("cadence: %d batch conflict(s); those pairs stay due", summary.conflicts)
    if summary.stranded:
        logger.warning("cadence: %d relationship(s) left in a phase the policy no longer has: %s",
                       len(summary.stranded), summary.stranded_phases())  # fmt: skip
    overdue, total = _overdue(target)
    title = f"cadence {_program(target)} at {target.now}"
    create_markdown_artifact(
        summaries.cadence_markdown(title, summary, overdue, total),
        key=_key("cadence", target),
        description=summaries.tick_line(summary),
    )


def _overdue(target: Target) -> tuple[list[dict[str, Any]], int]:
    """What is overdue now: the first ``summaries.SHOWN`` items, each with its pair's participant ids
    (never their names), and how many there are."""
    from engine.services.queries import history, status

    store = resources.store(target.database)
    report = status(store, resources.policy(target.policy), resources.moment(target.now))
    shown = []
    for rid, item in report.overdue[: summaries.SHOWN]:
        rel, _ = history(store, rid)
        shown.append(
            {"relationship": rid, "mentee": rel.mentee_id, "mentor": rel.mentor_id, "what": item.describe()}
        )
    return shown, len(report.overdue)


def report_delivery(target: Target, summary: DeliverySummary) -> None:
    """Delivery's summary as log lines (a WARNING per retry or parked row), its Markdown artifact, and a
    table artifact of the rows it parked."""
    from engine.services.delivery import list_rows, status_counts

    logger = get_run_logger()
    logger.info("delivery: %s", summaries.delivery_line(summary))
    for problem in summary.problems[:SHOWN_PROBLEMS]:
        logger.warning("delivery: %s", summaries.without_addresses(problem))
    if len(summary.problems) > SHOWN_PROBLEMS:
        logger.warning(
            "delivery: %d more problem(s), see the artifact", len(summary.problems) - SHOWN_PROBLEMS
        )
    store = resources.store(target.database)
    title = f"delivery {_program(target)} at {target.now}"
    create_markdown_artifact(
        summaries.delivery_markdown(title, summary, status_counts(store)),
        key=_key("delivery", target),
        description=summaries.delivery_line(summary),
    )
    if summary.parked:
        ids = {row["outbox"] for row in summaries.problems(summary)}
        parked = [_parked_row(row) for row in list_rows(store, failed_only=True) if row["id"] in ids]
        create_table_artifact(parked, key=_key("parked", target), description=f"{summary.parked} parked")


def _parked_row(row: dict[str, Any]) -> dict[str, Any]:
    """A parked outbox row as the table shows it: ids, its kind, the recipient's role, the error without
    addresses."""
    return {
        "outbox": row["id"],
        "relationship": row["relationship"],
        "kind": row["action"],
        "to": row["to"],
        "attempts": row["attempts"],
        "error": summaries.without_addresses(row["last_error"] or ""),
    }


def _program(target: Target) -> str:
    return resources.policy(target.policy).policy


def _key(kind: str, target: Target) -> str:
    """An artifact key (lowercase letters, digits and dashes) for ``kind`` of the target's program."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{kind}-{_program(target)}".lower()).strip("-")
