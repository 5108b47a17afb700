"""Commands that run Prefect flows: tick and serve (and ``demo``, in its own module).

Prefect is imported only when one of them runs; the store is checked before.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Annotated

import typer

from workflows.cli.common import (
    DatabaseOption,
    PolicyOption,
    debugging,
    load_policy,
    parse_moment,
    policy_file,
    settings,
)
from workflows.cli.output import in_flags, say
from workflows.flows.summaries import delivery_line, tick_line

if TYPE_CHECKING:
    from engine.errors import MentorflowError
    from engine.services.delivery import DeliverySummary
    from engine.services.tick import TickSummary
    from workflows.flows.resources import Target

NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Run as of this moment (YYYY-MM-DD or YYYY-MM-DDTHH:MM, program time zone) [default: now]",
        show_default=False,
    ),
]


def quiet_prefect(*, demo: bool = False, recorded: bool = False) -> None:
    """Prefect's logs stay out of an operator's terminal (MENTORFLOW_DEBUG=1 lets them through);
    ``recorded``: a run on a configured Prefect API still sends its log lines there."""
    from workflows.flows import environment

    settings = environment.DEMO if demo else environment.RECORDED if recorded else environment.QUIET
    if debugging():
        settings = {k: v for k, v in settings.items() if "LOGGING" not in k}
    environment.prepare(settings)


def tick(now: NowOption = None, database: DatabaseOption = None, policy: PolicyOption = None) -> None:
    """One cadence run (due pairs advanced, reminders, escalations), then delivery of the outbox."""
    from engine.clock import SystemClock
    from engine.clock import shown as moment_text
    from engine.settings import settings_path
    from workflows.flows import environment, resources

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    moment = (
        parse_moment(now, "--now", loaded.program.timezone).astimezone(UTC) if now else SystemClock().now()
    )
    target = resources.target(chosen.database_url, policy_file(chosen), moment, settings_path())
    # opened once, for the flows too; an uninitialised store fails here, before Prefect starts
    resources.store(target.database)
    shown = moment_text(moment, zone(loaded.program.timezone))
    recorded = environment.api_url() is not None
    where = "as a flow run on the Prefect API" if recorded else "in this process"
    say(f"tick {loaded.policy} at {shown}: working {where}...", err=True)
    try:
        ticked, sent, refusal = _recorded(target) if recorded else _here(target)
    finally:
        resources.forget_stores()
    typer.echo(f"tick at {shown}: {tick_line(ticked)}")
    if ticked.purged:
        from engine.services.retention import purged_line

        typer.echo(f"purge (retention): {purged_line(ticked.purged)}")
    if ticked.stranded:
        from engine.domain.programs import stranded_note

        note = in_flags(stranded_note(ticked.stranded_phases()))
        typer.echo(f"  {note} (policy {loaded.policy!r}); left untouched, see `mentorflow status`")
    if refusal is not None:
        raise refusal
    typer.echo(f"delivery: {delivery_line(sent)}")
    for problem in sent.problems[:10]:
        say(f"  {problem}", err=True)
    if sent.parked or (sent.retrying and not sent.delivered):
        raise typer.Exit(1)


Outcome = tuple["TickSummary", "DeliverySummary", "MentorflowError | None"]


def _here(target: Target) -> Outcome:
    """The flows' work in this process, batch after batch: no Prefect, no server."""
    from dataclasses import replace

    from engine.errors import MentorflowError
    from engine.services.delivery import DeliverySummary
    from workflows.flows import work

    ticked = work.advance(target.database, target.policy, target.now, work.TICK_BATCH)
    if work.sessions_due(target.database, target.policy, target.now, ticked.advanced):
        ticked = replace(ticked, invited=work.plan_sessions(target.database, target.policy, target.now))
    if work.has_retention(target.policy):
        ticked = replace(ticked, purged=work.purge(target.database, target.policy, target.now).purged)
    try:
        return ticked, work.deliver_here(target), None
    except MentorflowError as exc:  # no channel configured: the messages stay pending
        return ticked, DeliverySummary(), exc


def _recorded(target: Target) -> Outcome:
    """The cadence and delivery flows, as flow runs recorded on the configured Prefect API."""
    from engine.errors import MentorflowError
    from engine.services.delivery import DeliverySummary
    from workflows.flows import environment

    quiet_prefect(recorded=True)
    from workflows.flows.cadence import cadence
    from workflows.flows.delivery import delivery
    from workflows.flows.observe import Parked

    where = {"database": target.database, "policy": target.policy, "now": target.now}
    ticked: TickSummary = cadence(**where, settings=target.settings)  # type: ignore[call-overload]
    state = delivery(**where, settings=target.settings, return_state=True)
    result = state.result(raise_on_failure=False)
    environment.silence_exit_noise()
    if isinstance(result, Parked):
        return ticked, result.summary, None
    if isinstance(result, MentorflowError):
        return ticked, DeliverySummary(), result
    if isinstance(result, DeliverySummary):
        return ticked, result, None
    raise result if isinstance(result, BaseException) else RuntimeError(f"delivery ended {state.type}")


def zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _channels_configured(timezone: str) -> None:
    """Raise the refusal of delivery when the settings name no notification channel."""
    from engine.delivery.channels.config import configured_channels

    configured_channels(timezone=timezone)


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
    from engine.settings import schedules, settings_path
    from workflows.flows import environment, resources

    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    crons = schedules()
    if crons.get("delivery") is not None:  # refused now, not by every scheduled delivery run
        _channels_configured(loaded.program.timezone)
    target = resources.target(chosen.database_url, policy_file(chosen), SystemClock().now(), settings_path())
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
