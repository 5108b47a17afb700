"""500 participants answering within one minute: how fast does `mentorflow web` record a survey?

    python bench/web.py [--participants 500] [--clients 20] [--within 60] [--runs 3] [--check]
                        [--database postgresql+psycopg://...] [--schema NAME]

Each run builds a fresh store (setup, never timed): ``--participants`` mentees, each in a pair
that has been ``active`` for seven months with a trained mentor (its audit chain, kickoff and a
recent check-in written in bulk, hashed as the engine hashes them), then the engine's own tick
(``engine.services.tick.run_tick``) at the present moment moves every pair to ``review``, which
writes the review entry and the final survey's outbox rows. Each mentee's survey link is issued
as a message issues it (``engine.services.links.issue_link``, naming the outbox row and the
survey). SQLite: a file in a temporary folder; PostgreSQL (``--database``): the schema
``--schema``, created afresh for each run and dropped after it.

Then the real `mentorflow web` starts as a subprocess (uvicorn, one process: the command has no
``--workers``) on a free loopback port, reading a ``mentorflow.toml`` in the run's folder, and
``--clients`` concurrent clients (httpx, asyncio, one process on the same machine) share the
participants: each GETs the form (for its form token) and POSTs the answers, as a browser would.
The participants arrive evenly over ``--within`` seconds (default 60: "within one minute"; a
participant whose moment comes while every client is busy waits for one, and is counted as late);
``--within 0`` sends them flat out, which measures the server saturated. Timed: each POST, from
sending it to the last byte of the answer (client side), and the server's own duration of it
(its access-log line); the whole load's wall time (throughput) and the CPU time of the server and
of the clients.

Then the store is checked: every pair has exactly one survey answer row and one
``record_survey`` audit entry by ``participant:<id> via link``, and every answer page said so.

Printed: the machine, the settings, per run p50/p95/max of the submits and the throughput, then
min and median over the runs. Target: p95 <= 150 ms on SQLite at 20 concurrent clients;
``--check`` exits 1 when the median p95 misses it (on SQLite; on PostgreSQL it only reports).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import sqlalchemy
from population import Chain, external_id, person_row
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url

from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.policy.vocabulary import RECORD_MEETING
from engine.services.links import issue_link
from engine.services.tick import run_tick
from engine.store.database import SCHEMA_REVISION, initialise, open_engine
from engine.store.records import meeting_fact
from engine.store.tables import audit_entries, meetings, outbox, participants, relationships, survey_responses

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 150.0
KEY = "a-key-for-the-web-benchmark-" + "k" * 24
MENTEES_PER_MENTOR = 20
DAY = timedelta(days=1)
ANSWERS = {"satisfaction": "4", "recommend": "9", "met_regularly": "yes", "goals.0": "reached",
           "goals.1": "partly", "comments": "More group sessions, please."}  # fmt: skip
_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
_LOGGED = re.compile(r"POST /l/survey/\{token\} (\d+) (\d+) ms")
_ENVIRONMENT = ("MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "MENTORFLOW_CONFIG", "MENTORFLOW_LINK_KEYS")


# --- the store (setup, not timed) -------------------------------------------------------------


def _participant(rel_id: int) -> str:
    """The actor of the answer of relationship ``rel_id``'s mentee (mentee ``i`` is in relationship ``i``)."""
    return f"participant:{external_id(rel_id, 'mentee')} via link"


def _person(i: int, role: str, when: datetime) -> dict[str, Any]:
    return person_row(
        i, role, when, capacity=MENTEES_PER_MENTOR if role == "mentor" else 1, trained=role == "mentor",
        goals=["lead a team", "speak at a conference"] if role == "mentee" else [], languages=["en"],
    )  # fmt: skip


def build(store: Engine, policy: Policy, n: int, now: datetime) -> None:
    """``n`` pairs seven months into ``active`` (bulk), then moved to review by the engine's tick at
    ``now``."""
    opened, started = now - 215 * DAY, now - 210 * DAY
    mentors = -(-n // MENTEES_PER_MENTOR)
    people = [_person(i, "mentee", opened) for i in range(1, n + 1)]
    people += [_person(n + i, "mentor", opened) for i in range(1, mentors + 1)]
    rows: dict[Any, list[dict[str, Any]]] = {relationships: [], audit_entries: [], meetings: []}
    for rel_id in range(1, n + 1):
        mentor = n + 1 + (rel_id - 1) // MENTEES_PER_MENTOR
        chain = Chain(policy, rel_id)
        chain.add(opened, "create", None, "intake", {"mentee_id": rel_id})
        chain.add(opened + DAY, "match", "intake", "matched", {"mentor_id": mentor})
        chain.add(opened + 2 * DAY, "schedule_kickoff", "matched", "kickoff", {})
        for kind, held in (("kickoff", started - DAY), ("check-in", now - 5 * DAY)):
            phase = "kickoff" if kind == "kickoff" else "active"
            seq = chain.add(held, RECORD_MEETING, phase, phase, meeting_fact(kind, held))
            rows[meetings].append({"relationship_id": rel_id, "kind": kind, "held_on": held,
                                   "recorded_at": held, "recorded_by": "bench", "notes": None,
                                   "entry_seq": seq})  # fmt: skip
            if kind == "kickoff":
                chain.add(started, "start", "kickoff", "active", {})
        rows[audit_entries] += chain.entries
        rows[relationships].append(
            {"id": rel_id, "mentee_id": rel_id, "mentor_id": mentor, "policy_name": policy.policy,
             "phase": "active", "phase_entered_at": started, "due_at": now - DAY, "version": chain.seq,
             "audit_seq": chain.seq, "audit_head": chain.head, "created_at": opened}
        )  # fmt: skip
    with store.begin() as conn:
        conn.execute(insert(participants), people)
        for table, table_rows in rows.items():
            conn.execute(insert(table), table_rows)
    summary = run_tick(store, Lifecycle(policy), now)
    with store.connect() as conn:
        in_review = conn.execute(select(func.count()).where(relationships.c.phase == "review")).scalar_one()
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    assert in_review == n, f"the tick moved {in_review} of {n} pairs to review ({summary})"


def survey_links(store: Engine, policy: Policy, n: int, base: str, now: datetime) -> list[str]:
    """Each mentee's link to the final survey, as its outbox row's message carries it."""
    query = select(outbox.c.relationship_id, outbox.c.id).where(
        outbox.c.action == "send_survey", outbox.c.idempotency_key.like("%:mentee")
    )
    with store.connect() as conn:
        rows = {int(rel_id): int(row_id) for rel_id, row_id in conn.execute(query)}
    assert sorted(rows) == list(range(1, n + 1)), "not every pair got its survey row"
    return [
        issue_link(store, rel_id, "mentee", "survey", now, (KEY,), base, terminal=policy.terminal_phases,
                   outbox_id=rows[rel_id], survey="final").url
        for rel_id in range(1, n + 1)
    ]  # fmt: skip


@contextmanager
def fresh_store(url: str | None, schema: str, folder: Path) -> Iterator[tuple[Engine, str]]:
    """An initialised empty store and its URL: a SQLite file in ``folder``, or ``schema`` on PostgreSQL
    (created afresh, dropped afterwards)."""
    if url is None:
        address = f"sqlite:///{folder / 'mentorflow.db'}"
        store = open_engine(address)
        initialise(store)
        try:
            yield store, address
        finally:
            store.dispose()
        return
    admin = open_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    address = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = address.render_as_string(hide_password=False)
    store = open_engine(rendered)
    try:
        initialise(store)
        yield store, rendered
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def recorded_once(store: Engine, n: int) -> str | None:
    """What is wrong with the answers in the store (``None``: each pair answered exactly once, by link)."""
    with store.connect() as conn:
        per_pair = select(survey_responses.c.relationship_id, func.count()).group_by(
            survey_responses.c.relationship_id
        )
        answers = Counter({int(rel_id): int(count) for rel_id, count in conn.execute(per_pair)})
        entries = conn.execute(
            select(audit_entries.c.relationship_id, audit_entries.c.actor).where(
                audit_entries.c.trigger == "record_survey"
            )
        ).all()
    by_link = Counter(
        rel for rel, actor in entries if actor == f"participant:{external_id(rel, 'mentee')} via link"
    )
    problems = [
        f"{label}: {sum(1 for r in range(1, n + 1) if counted[r] != 1)} pairs not exactly once"
        for label, counted in (("answer rows", answers), ("audit entries by link", by_link))
        if any(counted[r] != 1 for r in range(1, n + 1)) or len(counted) != n
    ]
    if len(entries) != n:
        problems.append(f"{len(entries)} record_survey entries for {n} pairs")
    return "; ".join(problems) or None


# --- the server and the clients ---------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_file(folder: Path, database: str, base: str) -> None:
    """The ``mentorflow.toml`` a benchmark's ``mentorflow web`` reads: the store, the address, a key."""
    (folder / "mentorflow.toml").write_text(
        f'[database]\nurl = "{database}"\n\n[program]\npolicy = "default"\n\n'
        f'[web]\nbase_url = "{base}"\nsecret_keys = ["{KEY}"]\n\n'
        '[notifications]\ncoordinator_name = "Sam de Wit"\ncoordinator_email = "mentoring@example.com"\n',
        encoding="utf-8",
    )


def environment() -> dict[str, str]:
    """This environment without the settings a `mentorflow` would take over the run's mentorflow.toml."""
    found = {k: v for k, v in os.environ.items() if k not in _ENVIRONMENT}
    found["PYTHONPATH"] = os.pathsep.join(filter(None, (str(ROOT), found.get("PYTHONPATH"))))
    return found


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Terminate ``process``; kill it if it has not ended after ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


@contextmanager
def server(folder: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`mentorflow web` on ``port``, reading the ``mentorflow.toml`` in ``folder``, until the block ends."""
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workflows.cli", "web", "--port", str(port)], cwd=folder,
            env=environment(), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"mentorflow web ended:\n{log.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"mentorflow web did not answer within a minute:\n{log.read_text()}")
            time.sleep(0.1)
        yield process
    finally:
        stop(process)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process ``pid`` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Load:
    submits: list[float]  # seconds per POST, client side
    wall: float  # seconds, the whole load (every GET and POST)
    failures: list[str]
    late: list[float]  # participants who started more than 1 s after their moment (the clients were busy)


async def answer_all(links: list[str], clients: int, origin: str, within: float) -> Load:
    """``clients`` concurrent clients: each takes the next participant, GETs their form and POSTs the
    answers; the participants arrive evenly over ``within`` seconds (0: each as soon as a client is
    free)."""
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for number, link in enumerate(links):
        queue.put_nowait((number, link))
    spacing = within / len(links)
    submits: list[float] = []
    failures: list[str] = []
    late: list[float] = []  # seconds behind the schedule, of each participant more than 1 s late
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            number, link = queue.get_nowait()
            due = start + number * spacing
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -1:
                late.append(-wait)
            form = await http.get(link)
            found = _TOKEN.search(form.text)
            if form.status_code != 200 or found is None:
                failures.append(f"GET {form.status_code}")
                continue
            data = {"form_token": found.group(1), "survey": "final", **ANSWERS}
            began = time.perf_counter()
            done = await http.post(link, data=data, headers={"origin": origin})
            submits.append(time.perf_counter() - began)
            if done.status_code != 200 or "Your answers are recorded" not in done.text:
                failures.append(f"POST {done.status_code}")

    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - start
    return Load(submits, wall, failures, late)


# --- a run, and the report --------------------------------------------------------------------


@dataclass
class Run:
    p50: float
    p95: float
    max: float
    server_p50: float
    server_p95: float
    throughput: float
    wall: float
    cpu_per_answer: float  # server CPU ms per participant (GET and POST)
    late: int  # participants who started more than 1 s behind the schedule
    client_cpu_per_answer: float  # the clients' CPU ms per participant (they share the machine)


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def one_run(args: argparse.Namespace, policy: Policy) -> Run:
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-web-") as scratch:
        folder = Path(scratch)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with fresh_store(args.database, args.schema, folder) as (store, address):
            now = datetime.now(UTC)
            build(store, policy, args.participants, now)
            links = survey_links(store, policy, args.participants, base, now)
            settings_file(folder, address, base)
            with server(folder, port) as process:
                cpu_before, own_before = cpu_seconds(process.pid), time.process_time()
                load = asyncio.run(answer_all(links, args.clients, base, args.within))
                cpu = cpu_seconds(process.pid) - cpu_before
                own = time.process_time() - own_before
            if load.failures:
                raise SystemExit(f"{len(load.failures)} answers failed: {Counter(load.failures)}")
            wrong = recorded_once(store, args.participants)
            if wrong is not None:
                raise SystemExit(f"the store does not hold every answer exactly once: {wrong}")
        logged = [float(ms) / 1000 for status, ms in _LOGGED.findall((folder / "server.log").read_text())]
    assert len(logged) == args.participants, f"{len(logged)} POST lines logged"
    return Run(
        p50=statistics.median(load.submits), p95=percentile(load.submits, 95), max=max(load.submits),
        server_p50=statistics.median(logged), server_p95=percentile(logged, 95),
        throughput=args.participants / load.wall, wall=load.wall, cpu_per_answer=cpu / args.participants,
        late=len(load.late), client_cpu_per_answer=own / args.participants,
    )  # fmt: skip


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--participants", type=int, default=500, metavar="N", help="mentees answering")
    parser.add_argument("--clients", type=int, default=20, metavar="N", help="concurrent clients")
    parser.add_argument(
        "--within", type=float, default=60.0, metavar="SECONDS",
        help="the participants arrive evenly over this many seconds (0: flat out, each as a client is free)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=3, help="runs, each on a fresh store (at least 3)")
    parser.add_argument("--database", metavar="URL", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--schema", default="mf_webbench", help="PostgreSQL schema, dropped after each run")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when p95 > {TARGET_MS:.0f} ms (SQLite)")
    args = parser.parse_args()
    if args.runs < 3:
        parser.error(f"--runs: {args.runs} is too few for a median (at least 3)")
    if args.participants < 20 or args.clients < 1:
        parser.error("--participants must be at least 20 (for a p95), --clients at least 1")
    if not args.schema.isidentifier():
        parser.error(f"--schema: {args.schema!r} is not a plain name")
    return args


def database_version(url: str | None) -> str:
    if url is None:
        return f"SQLite {sqlite3.sqlite_version}"
    store = open_engine(url)
    try:
        with store.connect() as conn:
            return f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar()}"
    finally:
        store.dispose()


def machine(url: str | None) -> str:
    """The line a web benchmark starts with: the machine, the versions, the database."""
    import fastapi
    import uvicorn

    return (
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}; Python {platform.python_version()}; "
        f"SQLAlchemy {sqlalchemy.__version__}; FastAPI {fastapi.__version__}; uvicorn {uvicorn.__version__}; "
        f"httpx {httpx.__version__}; {database_version(url)}"
    )


def main() -> int:
    args = arguments()
    print(machine(args.database))
    where = "SQLite file" if args.database is None else f"PostgreSQL schema {args.schema}"
    pace = f"arriving evenly over {args.within:g} s" if args.within else "flat out (no pause between them)"
    print(
        f"settings: {args.participants} mentees in review answering the final survey, {pace}, at most "
        f"{args.clients} at once (GET the form, POST the answers), `mentorflow web` (uvicorn, 1 process) "
        f"on {where}, schema {SCHEMA_REVISION}, {args.runs} runs, a fresh store each"
    )
    policy = load_policy(shipped_policies()["default"])
    runs = []
    for number in range(1, args.runs + 1):
        run = one_run(args, policy)
        runs.append(run)
        print(
            f"run {number}: submit p50 {run.p50 * 1000:6.1f} ms, p95 {run.p95 * 1000:6.1f} ms, max "
            f"{run.max * 1000:6.1f} ms (server's own: p50 {run.server_p50 * 1000:.0f} ms, p95 "
            f"{run.server_p95 * 1000:.0f} ms); {run.throughput:5.1f} answers/s ({run.wall:.1f} s for all); "
            f"CPU per answer: server {run.cpu_per_answer * 1000:.1f} ms, clients "
            f"{run.client_cpu_per_answer * 1000:.1f} ms; {run.late} started over 1 s late; "
            "each answer recorded exactly once"
        )
    for label, pick in (("p50", lambda r: r.p50), ("p95", lambda r: r.p95), ("max", lambda r: r.max)):
        values = [pick(r) * 1000 for r in runs]
        print(f"submit {label}: min {min(values):6.1f} ms, median {statistics.median(values):6.1f} ms")
    rates = [r.throughput for r in runs]
    print(f"throughput: min {min(rates):.1f}, median {statistics.median(rates):.1f} answers/s")
    p95 = statistics.median(r.p95 for r in runs) * 1000
    verdict = "met" if p95 <= TARGET_MS else "missed"
    if args.database is not None:
        verdict += " (the target is SQLite's; reported for comparison)"
    print(f"target: p95 <= {TARGET_MS:.0f} ms on SQLite at 20 clients: median p95 {p95:.1f} ms, {verdict}")
    return 1 if args.check and args.database is None and p95 > TARGET_MS else 0


if __name__ == "__main__":
    sys.exit(main())
