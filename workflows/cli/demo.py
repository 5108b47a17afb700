"""``mentorflow demo``: a generated program's simulated year through the real flows, then its summary."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workflows.cli.flows import quiet_prefect, zone
from workflows.cli.output import console

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from engine.policy.model import Policy
    from workflows.flows.demo import DemoTotals
    from workflows.flows.temporary_server import TemporaryServer

DEMO_DATABASE = "sqlite:///mentorflow-demo.db"


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
    import secrets

    from engine.clock import SystemClock
    from engine.policy.model import resolve_policy_path
    from workflows.flows import environment, resources, temporary_server

    began = time.perf_counter()
    quiet_prefect(demo=True)
    server = temporary_server.start()  # starts in its own process while the store is prepared
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
    # the demo's link key, made once: the simulated participants record through links signed with it, and
    # the settings file written at the end holds it, so `mentorflow web` opens the demo's links
    key = secrets.token_urlsafe(32)
    try:
        totals = _run_year(database, policy_path, seed, mentees, mentors, start, end, outbox_log, server, key)
    finally:
        resources.forget_stores()
    seconds = time.perf_counter() - began
    environment.silence_exit_noise()
    from workflows.cli.demo_report import DemoRun, render

    run = DemoRun(mentees, mentors, months, seed, database, start, end, seconds, outbox_log, _policy_hint())
    render(out, store, resources.policy(policy_path), totals, run)
    _try_a_link(out, store, resources.policy(policy_path), end, key, _write_settings(database, key))
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
    server: TemporaryServer | None,
    key: str,
) -> DemoTotals:
    """The year's one flow run; the simulated participants' links are signed with ``key``."""
    import tempfile

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from workflows.flows import resources

    local = zone(resources.policy(policy).program.timezone)
    days = (end.astimezone(local).date() - start.astimezone(local).date()).days
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console(), transient=False, refresh_per_second=4) as progress:
        bar = progress.add_task("starting Prefect", total=days + 1)
        from workflows.flows.demo import demo_year, link_keys, on_day

        if server is not None:
            server.wait_ready()

        def advanced(day: int, _days: int, now: str) -> None:
            progress.update(bar, completed=day + 1, description=f"day {now[:10]}")

        token, keys = on_day.set(advanced), link_keys.set((key,))
        try:
            with tempfile.TemporaryDirectory(prefix="mentorflow-demo-") as workdir:
                first = resources.iso(start)
                return demo_year(database, policy, seed, mentees, mentors, first, days, workdir, outbox_log)
        finally:
            on_day.reset(token)
            link_keys.reset(keys)


DEMO_WEB_ADDRESS = "http://127.0.0.1:8000"  # where `mentorflow web` listens unless told otherwise
_DEMO_SETTINGS = """\
# Written by `mentorflow demo` for its own database, and replaced by the next demo run: the address
# and the key of the demo's personal links, for `MENTORFLOW_CONFIG={name} mentorflow web`.
# A throwaway key for a throwaway program: a real program makes its own ([web] in mentorflow.toml).
[database]
url = "{database}"

[program]
policy = "default"

[web]
base_url = "{address}"
secret_keys = ["{key}"]
"""


def _write_settings(database: str, key: str) -> Path:
    """The demo's settings file beside its database: its address and link ``key`` (``[web]``), for
    ``mentorflow web``; readable by its owner only, as it holds a key."""
    from engine.settings import without_password

    path = _demo_file(database, ".toml")
    path.unlink(missing_ok=True)
    text = _DEMO_SETTINGS.format(
        name=path, database=without_password(database), address=DEMO_WEB_ADDRESS, key=key
    )
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as file:
        file.write(text)
    return path


def _try_a_link(out: Console, store: Engine, policy: Policy, now: datetime, key: str, path: Path) -> None:
    """One live personal link into the demo's program (a survey owed in review, else a meeting of an
    active pair), made with the demo's ``key``, and how to open it with its settings file ``path``."""
    from engine.services.links import issue_link
    from engine.services.listing import relationships

    pairs = relationships(store, "review") or relationships(store, "active")
    if not pairs:
        return
    pair = pairs[0]
    purpose = "survey" if pair["phase"] == "review" else "meeting"
    link = issue_link(
        store, pair["id"], "mentee", purpose, now, (key,), DEMO_WEB_ADDRESS,
        terminal=policy.terminal_phases, lifetime=policy.link_lifetime,
    )  # fmt: skip
    what = "answer the review survey" if purpose == "survey" else "say you met"
    out.print(f"Be a participant ({pair['mentee']}, relationship {pair['id']}: {what}):")
    out.print(f"  MENTORFLOW_CONFIG={path} mentorflow web", soft_wrap=True)
    out.print(f"  then open {link.url}", soft_wrap=True)


def _fresh_database(url: str) -> tuple[Engine, str | None]:
    """A new, initialised store at ``url`` (a SQLite file is replaced), and a note saying so."""
    from engine.services.setup import fresh_store

    store, replaced = fresh_store(url)
    note = f"replacing {replaced} (the demo starts from a fresh database each time)" if replaced else None
    return store, note


def _policy_hint() -> str:
    """``--policy default`` when the settings name another policy: the demo runs the shipped default."""
    from engine.settings import resolve

    return "" if resolve().policy in (None, "default") else " --policy default"


def _outbox_log(url: str) -> str:
    """The demo's messages go to a log file beside its SQLite database (or in the working directory)."""
    log = _demo_file(url, "-outbox.jsonl")
    log.unlink(missing_ok=True)
    return str(log)


def _demo_file(url: str, ending: str) -> Path:
    """The demo's file named ``ending`` beside its SQLite database (or in the working directory)."""
    from engine.services.setup import sqlite_file

    path = sqlite_file(url)
    base = Path(path).with_suffix("") if path else Path("mentorflow-demo")
    return Path(f"{base}{ending}")


def _months_before(end: datetime, months: int, timezone: str) -> datetime:
    """The same wall-clock time ``months`` calendar months before ``end`` (the day clipped to the month)."""
    import calendar

    local = end.astimezone(zone(timezone))
    year, month = divmod(local.month - 1 - months, 12)
    year, month = local.year + year, month + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return datetime.combine(
        local.date().replace(year=year, month=month, day=day), local.time(), zone(timezone)
    )
