"""Commands that run Prefect flows: tick, serve, demo. Prefect is imported only when one of them runs."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workflows.cli.common import DatabaseOption, PolicyOption, console, load_policy, open_store, parse_moment

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.services.delivery import DeliverySummary
    from engine.services.tick import TickSummary
    from workflows.flows.demo import DemoTotals

DEMO_DATABASE = "sqlite:///mentorflow-demo.db"
NowOption = Annotated[
    str | None,
    typer.Option(
        "--now",
        help="Run as of this moment (YYYY-MM-DD or YYYY-MM-DDTHH:MM, program time zone) [default: now]",
        show_default=False,
    ),
]


def _quiet_prefect(*, demo: bool = False) -> None:
    """Prefect's logs stay out of an operator's terminal (MENTORFLOW_DEBUG=1 lets them through)."""
    from workflows.flows import environment

    settings = environment.DEMO if demo else environment.QUIET
    if os.environ.get("MENTORFLOW_DEBUG"):
        settings = {k: v for k, v in settings.items() if "LOGGING" not in k}
    environment.prepare(settings)


def tick(now: NowOption = None, database: DatabaseOption = None, policy: PolicyOption = None) -> None:
    """One cadence run (due pairs advanced, reminders, escalations), then delivery of the outbox."""
    from workflows.flows import environment, resources

    loaded = load_policy(policy)
    moment = parse_moment(now, "--now", loaded.program.timezone) if now else None
    open_store(database)  # an uninitialised store fails here, before Prefect starts
    target = resources.resolve(database, policy, moment.isoformat() if moment else None)
    _quiet_prefect()
    from workflows.flows.cadence import cadence
    from workflows.flows.delivery import delivery

    try:
        ticked = cadence(database=target.database, policy=target.policy, now=target.now)
        sent = delivery(database=target.database, policy=target.policy, now=target.now)
    finally:
        resources.forget_stores()
    environment.silence_exit_noise()
    shown = resources.moment(target.now).astimezone(_zone(loaded.program.timezone))
    typer.echo(f"tick at {shown:%Y-%m-%d %H:%M %Z}: {_tick_line(ticked)}")
    if ticked.stranded:
        from engine.domain.programs import stranded_note

        typer.echo(
            f"  {stranded_note(ticked.stranded_phases())} (policy {loaded.policy!r}); left untouched, "
            "see `mentorflow status`"
        )
    typer.echo(f"delivery: {_delivery_line(sent)}")
    for problem in sent.problems[:10]:
        typer.echo(f"  {problem}", err=True)


def _zone(name: str) -> tzinfo:
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
    from engine.settings import schedules
    from workflows.flows import environment, resources

    loaded = load_policy(policy)
    chosen = schedules()
    open_store(database)
    target = resources.resolve(database, policy, None)
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
    from prefect import serve as prefect_serve

    from workflows.flows.serving import deployments, register

    found = deployments(target, chosen, loaded.program.timezone, from_source=work_pool is not None)
    if not found:
        typer.echo("error: every flow is switched off in [schedules]; nothing to serve", err=True)
        raise typer.Exit(2)
    verb = "serving" if work_pool is None else f"registered with work pool {work_pool!r}:"
    for deployment in found:
        cron = chosen.get(deployment.flow_name or "")
        typer.echo(f"{verb} {deployment.name}: {cron} ({loaded.program.timezone})")
    if work_pool is None:
        prefect_serve(*found)
        return
    register(found, work_pool)
    typer.echo("start workers, one or more, on any machine with this installation and settings:")
    typer.echo(f"  prefect worker start --pool {work_pool}")


def demo(
    mentees: Annotated[int, typer.Option("--mentees", min=1, max=5000, help="Mentees in the program.")] = 150,
    mentors: Annotated[int, typer.Option("--mentors", min=1, max=2000, help="Mentors in the program.")] = 60,
    months: Annotated[int, typer.Option("--months", min=1, max=36, help="Months to simulate, daily.")] = 12,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same program, same year.")] = 7,
    database: Annotated[
        str, typer.Option("--database", help="Where the demo writes; a SQLite file there is replaced.")
    ] = DEMO_DATABASE,
) -> None:
    """Generate a program and run a simulated year of it through the real flows, then summarise it."""
    from engine.clock import SystemClock
    from engine.policy.model import resolve_policy_path
    from workflows.flows import environment, resources

    began = time.perf_counter()
    _quiet_prefect(demo=True)
    server = threading.Thread(target=environment.start_temporary_server, daemon=True)
    server.start()  # Prefect's temporary server starts in its own process while the store is prepared
    out = console()
    store, note = _fresh_database(database)
    if note:
        out.print(note)
    policy_path = str(resolve_policy_path("default").resolve())
    timezone = resources.policy(policy_path).program.timezone
    # The simulated year ends now, so `mentorflow status` run afterwards sees the moment the demo saw.
    end = SystemClock().now().replace(second=0, microsecond=0)
    start = _months_before(end, months, timezone)
    outbox_log = _outbox_log(database)
    try:
        totals = _run_year(database, policy_path, seed, mentees, mentors, start, end, outbox_log, server)
    finally:
        resources.forget_stores()
    seconds = time.perf_counter() - began
    environment.silence_exit_noise()
    from workflows.cli.demo_report import DemoRun, render

    run = DemoRun(mentees, mentors, months, seed, database, start, end, seconds, outbox_log, _policy_hint())
    render(out, store, resources.policy(policy_path), totals, run)
    store.dispose()


def _run_year(
    database: str,
    policy: str,
    seed: int,
    mentees: int,
    mentors: int,
    start: datetime,
    end: datetime,
    outbox_log: str,
    server: threading.Thread,
) -> DemoTotals:
    import tempfile

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from workflows.flows import resources

    zone = _zone(resources.policy(policy).program.timezone)
    days = (end.astimezone(zone).date() - start.astimezone(zone).date()).days
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console(), transient=False, refresh_per_second=4) as progress:
        bar = progress.add_task("starting Prefect", total=days + 1)
        from workflows.flows.demo import demo_year, on_day

        server.join()

        def advanced(day: int, _days: int, now: str) -> None:
            progress.update(bar, completed=day + 1, description=f"day {now[:10]}")

        token = on_day.set(advanced)
        try:
            with tempfile.TemporaryDirectory(prefix="mentorflow-demo-") as workdir:
                return demo_year(
                    database, policy, seed, mentees, mentors, start.isoformat(), days, workdir, outbox_log
                )
        finally:
            on_day.reset(token)


def _fresh_database(url: str) -> tuple[Engine, str | None]:
    """A new, initialised store at ``url``: a SQLite file is replaced; another database must be empty."""
    from sqlalchemy import func, make_url, select

    from engine.errors import ConfigError
    from engine.store.database import initialise, open_engine
    from engine.store.tables import participants

    note = None
    parsed = make_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if path and path != ":memory:":
        if Path(path).exists():
            note = f"replacing {path} (the demo starts from a fresh database each time)"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(path + suffix).unlink(missing_ok=True)
    store = open_engine(url)
    initialise(store)
    with store.connect() as conn:
        if conn.execute(select(func.count()).select_from(participants)).scalar_one():
            raise ConfigError(f"the demo needs an empty database; {url} already has participants")
    return store, note


def _policy_hint() -> str:
    """``--policy default`` when the settings name another policy: the demo runs the shipped default."""
    from engine.settings import resolve

    return "" if resolve().policy in (None, "default") else " --policy default"


def _outbox_log(url: str) -> str:
    """The demo's messages go to a log file beside its SQLite database (or in the working directory)."""
    from sqlalchemy import make_url

    parsed = make_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    base = Path(path).with_suffix("") if path and path != ":memory:" else Path("mentorflow-demo")
    log = Path(f"{base}-outbox.jsonl")
    log.unlink(missing_ok=True)
    return str(log)


def _months_before(end: datetime, months: int, timezone: str) -> datetime:
    """The same wall-clock time ``months`` calendar months before ``end`` (the day clipped to the month)."""
    import calendar

    local = end.astimezone(_zone(timezone))
    year, month = divmod(local.month - 1 - months, 12)
    year, month = local.year + year, month + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return datetime.combine(
        local.date().replace(year=year, month=month, day=day), local.time(), _zone(timezone)
    )
