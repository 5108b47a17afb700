"""Commands that run Prefect flows: tick and serve (and ``demo``, in its own module).

Prefect is imported only when one of them runs; the store is checked before.
"""

from __future__ import annotations

import os
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Annotated

import typer

from workflows.cli.common import (
    DatabaseOption,
    PolicyOption,
    load_policy,
    parse_moment,
    policy_file,
    settings,
)
from workflows.cli.output import in_flags, say

if TYPE_CHECKING:
    from engine.services.delivery import DeliverySummary
    from engine.services.tick import TickSummary

NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Run as of this moment (YYYY-MM-DD or YYYY-MM-DDTHH:MM, program time zone) [default: now]",
        show_default=False,
    ),
]


def quiet_prefect(*, demo: bool = False) -> None:
    """Prefect's logs stay out of an operator's terminal (MENTORFLOW_DEBUG=1 lets them through)."""
    from workflows.flows import environment

    settings = environment.DEMO if demo else environment.QUIET
    if os.environ.get("MENTORFLOW_DEBUG"):
        settings = {k: v for k, v in settings.items() if "LOGGING" not in k}
    environment.prepare(settings)


def tick(now: NowOption = None, database: DatabaseOption = None, policy: PolicyOption = None) -> None:
    """One cadence run (due pairs advanced, reminders, escalations), then delivery of the outbox."""
    from engine.clock import SystemClock
    from workflows.flows import environment, resources

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    moment = (
        parse_moment(now, "--now", loaded.program.timezone).astimezone(UTC) if now else SystemClock().now()
    )
    target = resources.target(chosen.database_url, policy_file(chosen), moment)
    # opened once, for the flows too; an uninitialised store fails here, before Prefect starts
    resources.store(target.database)
    quiet_prefect()
    from workflows.flows.cadence import cadence
    from workflows.flows.delivery import delivery

    try:
        ticked = cadence(database=target.database, policy=target.policy, now=target.now)
        sent = delivery(database=target.database, policy=target.policy, now=target.now)
    finally:
        resources.forget_stores()
    environment.silence_exit_noise()
    shown = moment.astimezone(zone(loaded.program.timezone))
    typer.echo(f"tick at {shown:%Y-%m-%d %H:%M %Z}: {_tick_line(ticked)}")
    if ticked.stranded:
        from engine.domain.programs import stranded_note

        note = in_flags(stranded_note(ticked.stranded_phases()))
        typer.echo(f"  {note} (policy {loaded.policy!r}); left untouched, see `mentorflow status`")
    typer.echo(f"delivery: {_delivery_line(sent)}")
    for problem in sent.problems[:10]:
        say(f"  {problem}", err=True)


def zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _tick_line(summary: TickSummary) -> str:
    moved = ", ".join(f"{trigger} {n}" for trigger, n in sorted(summary.advanced.items())) or "none"
    conflicts = f", {summary.conflicts} conflict(s)" if summary.conflicts else ""
    return (
        f"{summary.examined} due relationship(s) examined; advanced: {moved}; "
        f"{summary.reminders} reminder(s), {summary.escalations} escalation(s), "
        f"{summary.surveys_sent} survey(s) sent, {summary.survey_reminders} survey reminder(s), "
        f"{summary.deadlines_fired} deadline(s) fired{conflicts}"
    )


def _delivery_line(summary: DeliverySummary) -> str:
    return (
        f"{summary.claimed} outbox row(s) due: {summary.delivered} delivered ({summary.sent} message(s)), "
        f"{summary.retrying} to retry, {summary.parked} parked, {summary.skipped} skipped"
    )


def serve(
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    work_pool: Annotated[
        str | None,
        typer.Option(
            "--work-pool",
            help="Register the deployments with this process work pool (created if missing) and return; "
            "`prefect worker start --pool NAME` processes then run them, as many as you like.",
        ),
    ] = None,
) -> None:
    """Serve the cadence, delivery and matching flows on the schedules of [schedules] in mentorflow.toml."""
    from engine.clock import SystemClock
    from engine.settings import schedules
    from workflows.flows import environment, resources

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    crons = schedules()
    target = resources.target(chosen.database_url, policy_file(chosen), SystemClock().now())
    resources.store(target.database)  # an uninitialised store fails here, before Prefect starts
    environment.prepare({"PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    if environment.configured_api_url() is None:
        typer.echo(
            "error: `mentorflow serve` needs a Prefect server to keep its schedules; none is configured.\n"
            "  start one in another terminal:   prefect server start\n"
            "  then point mentorflow at it:     export PREFECT_API_URL=http://127.0.0.1:4200/api\n"
            "(for one run without a server, use `mentorflow tick`)",
            err=True,
        )
        raise typer.Exit(2)
    from workflows.flows import serving

    found = serving.deployments(target, crons, loaded.program.timezone, from_source=work_pool is not None)
    if not found:
        typer.echo("error: every flow is switched off in [schedules]; nothing to serve", err=True)
        raise typer.Exit(2)
    verb = "serving" if work_pool is None else f"registered with work pool {work_pool!r}:"
    for deployment in found:
        cron = crons.get(deployment.flow_name or "")
        typer.echo(f"{verb} {deployment.name}: {cron} ({loaded.program.timezone})")
    if work_pool is None:
        serving.serve(found)
        return
    serving.register(found, work_pool)
    typer.echo("start workers, one or more, on any machine with this installation and settings:")
    typer.echo(f"  prefect worker start --pool {work_pool}")
