"""The REST API in bulk: how fast does `POST /api/v1/participants` take an HR export, and `GET
/api/v1/events` hand out the whole feed?

    python bench/api.py [--participants 10000] [--batch 1000] [--events 100000] [--runs 3]
                        [--database postgresql+psycopg://...] [--schema NAME]

Each run, on a fresh store (a SQLite file in a temporary folder; PostgreSQL with ``--database``: the
schema ``--schema``, created afresh and dropped after it; the engine's own setup, never timed):

1. Upsert. The ``--participants`` people of bench/import.py (one mentor in five, lists, reporting
   lines, time zones) as JSON items with the CSV's fields (the lists as arrays), POSTed to
   ``/api/v1/participants`` of a real `mentorflow web` (subprocess, uvicorn, one process, a free
   loopback port) in batches of ``--batch``, one request after another (httpx), with a token of
   scope ``participants:write`` (``engine.services.tokens.create_token``). Timed: the whole upsert
   (wall, client side), and the server's peak RSS (``VmHWM``) and CPU time. Checked: the store
   holds exactly that many participants, and one relationship per mentee. Beside it, on another
   fresh store, ``mentorflow participants import`` of the same people as a CSV file, timed as a
   subprocess as bench/import.py times it; the ratio API / CSV is printed.
2. Event feed. A store holding at least ``--events`` events, built cheaply: the engine's bulk
   import (``engine.services.participants.import_participants``) of enough people (each new
   participant is one participant entry, each new mentee's relationship one audit entry, so 1.8
   events a person). Then, against the running server with a token of scope ``events:read``: GET
   ``/api/v1/events?after=0&limit=1000``, then ``after=<last>`` until a page holds no event. The first
   request numbers every event (its time is shown apart). Timed: the whole read (wall), events a
   second, the server's peak RSS. Checked: the ``sequence`` of the events runs 1..N with no gap or
   repeat, N is the number of entries in the store, and every ``id`` is unique. If the server
   answers 404 (no feed yet), the script says so and skips this part.

Printed: the machine, the settings, each run, and min and median over the runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import Engine, func, select
from web import cpu_seconds, environment, free_port, fresh_store, machine, server, settings_file

from engine.clock import SystemClock
from engine.files.participants import read_participants
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.services.participants import import_participants
from engine.services.tokens import create_token
from engine.store.api_tables import RATE_LIMIT_MAX
from engine.store.database import SCHEMA_REVISION
from engine.store.tables import audit_entries, participant_entries, participants, relationships

csv_bench = importlib.import_module("import")  # bench/import.py: the people, the CSV, the command

FEED_PAGE = 1000
LIST_FIELDS = ("skills", "wants", "goals", "interests", "values", "work_style", "communication", "languages")


class FeedMissing(Exception):
    """The server has no event feed (yet): GET /api/v1/events answered 404."""


# --- the people -------------------------------------------------------------------------------


def item(i: int) -> dict[str, Any]:
    """Person ``i`` of bench/import.py as a JSON item of ``POST /participants``: the CSV's fields, typed."""
    row = dict(zip(csv_bench.COLUMNS, csv_bench.person(i), strict=True))
    for name in LIST_FIELDS:
        row[name] = [part for part in row[name].split(";") if part]
    row["manager_id"] = row["manager_id"] or None
    row["level"] = int(row["level"])
    row["capacity"] = int(row["capacity"])
    row["trained"] = row["trained"] == "yes"
    return row


def mentees_among(count: int) -> int:
    """How many of people 0 .. ``count`` - 1 are mentees (everyone but each fifth)."""
    return count - (count + 4) // 5


def people_for(events: int) -> int:
    """The fewest people whose import writes at least ``events`` entries (one each, one more a mentee)."""
    count = events // 2
    while count + mentees_among(count) < events:
        count += 1
    return count


def counts(store: Engine) -> dict[str, int]:
    """Participants, relationships, mentees with exactly one relationship, and the entries (events)."""
    with store.connect() as conn:

        def one(query: Any) -> int:
            return int(conn.execute(query).scalar_one())

        per_mentee = select(relationships.c.mentee_id).group_by(relationships.c.mentee_id)
        return {
            "participants": one(select(func.count()).select_from(participants)),
            "mentees": one(
                select(func.count()).select_from(participants).where(participants.c.role == "mentee")
            ),
            "relationships": one(select(func.count()).select_from(relationships)),
            "paired_once": one(
                select(func.count()).select_from(per_mentee.having(func.count() == 1).subquery())
            ),
            "entries": one(select(func.count()).select_from(audit_entries))
            + one(select(func.count()).select_from(participant_entries)),
        }


# --- processes ----------------------------------------------------------------------------------


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident set of process ``pid`` so far (Linux ``VmHWM``), in MB; ``None`` elsewhere."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@dataclass(frozen=True)
class Measured:
    seconds: float
    megabytes: float
    cpu: float


def measured(args: list[str], cwd: Path, timeout: float = 1800) -> Measured:
    """Wall time, peak RSS and CPU time of one `mentorflow ARGS` in ``cwd`` (its rusage, from wait4)."""
    log = cwd / "command.log"
    with log.open("wb") as out:
        start = time.perf_counter()
        child = subprocess.Popen(
            [*csv_bench.command(), *args], cwd=cwd, env=environment(), stdout=out, stderr=subprocess.STDOUT
        )
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.kill(child.pid, signal.SIGKILL)
                os.wait4(child.pid, 0)
                sys.exit(f"mentorflow {' '.join(args)} took over {timeout:.0f} s; killed")
            time.sleep(0.005)
        seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"mentorflow {' '.join(args)} failed:\n{log.read_text()}")
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
    return Measured(seconds, usage.ru_maxrss / scale, usage.ru_utime + usage.ru_stime)


# --- 1. upsert ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upsert:
    wall: float
    batch_median: float
    batch_max: float
    server_rss: float | None  # MB, peak over the server's life (started, then the upsert)
    server_rss_idle: float | None  # MB, peak once started, before the first request
    server_cpu: float | None


def upsert_run(args: argparse.Namespace, items: list[dict[str, Any]], policy: Policy) -> Upsert:
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-api-") as scratch:
        folder = Path(scratch)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with fresh_store(args.database, args.schema, folder) as (store, address):
            _, secret = create_token(
                store, "bench-upsert", ["participants:write"], datetime.now(UTC), actor="cli:bench",
                rate_limit=RATE_LIMIT_MAX,
            )  # fmt: skip
            settings_file(folder, address, base)
            headers = {"authorization": f"Bearer {secret}"}
            created = opened = 0
            batches: list[float] = []
            with server(folder, port) as process, httpx.Client(base_url=base, timeout=600) as http:
                idle, cpu_before = peak_rss_mb(process.pid), cpu_seconds(process.pid)
                start = time.perf_counter()
                for first in range(0, len(items), args.batch):
                    began = time.perf_counter()
                    answer = http.post(
                        "/api/v1/participants", json={"participants": items[first : first + args.batch]},
                        headers=headers,
                    )  # fmt: skip
                    batches.append(time.perf_counter() - began)
                    if answer.status_code != 200:
                        raise SystemExit(
                            f"POST /api/v1/participants (items {first}..) answered {answer.status_code}: "
                            f"{answer.text[:2000]}"
                        )
                    body = answer.json()
                    created += body["created"]
                    opened += len(body["relationships_opened"])
                wall = time.perf_counter() - start
                cpu_after, peak = cpu_seconds(process.pid), peak_rss_mb(process.pid)
            found = counts(store)
        mentees = mentees_among(len(items))
        wrong = [
            f"{label}: {got} (expected {want})"
            for label, got, want in (
                ("created (answers)", created, len(items)),
                ("relationships opened (answers)", opened, mentees),
                ("participants in the store", found["participants"], len(items)),
                ("mentees in the store", found["mentees"], mentees),
                ("relationships in the store", found["relationships"], mentees),
                ("mentees with exactly one relationship", found["paired_once"], mentees),
            )
            if got != want
        ]
        if wrong:
            raise SystemExit("the upsert did not write what it should: " + "; ".join(wrong))
    return Upsert(
        wall, statistics.median(batches), max(batches), peak, idle,
        None if cpu_before is None or cpu_after is None else cpu_after - cpu_before,
    )  # fmt: skip


def csv_run(args: argparse.Namespace, people: Path) -> Measured:
    """``mentorflow participants import`` of ``people`` on a fresh store (set up by the engine, not timed)."""
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-api-csv-") as scratch:
        folder = Path(scratch)
        with fresh_store(args.database, args.schema, folder) as (store, address):
            settings_file(folder, address, "http://127.0.0.1:8000")
            run = measured(["participants", "import", str(people)], folder)
            found = counts(store)
    if found["participants"] != args.participants:
        raise SystemExit(f"the CSV import wrote {found['participants']} participants of {args.participants}")
    return run


# --- 2. the event feed --------------------------------------------------------------------------


@dataclass(frozen=True)
class Feed:
    events: int
    pages: int
    wall: float
    first_page: float
    rest_median_page: float
    server_rss: float | None


def build_events(store: Engine, policy: Policy, people: Path) -> int:
    """Import the people of ``people`` through the engine's bulk import; the entries (events) stored."""
    read = read_participants(people)
    import_participants(
        store, policy, SystemClock(), read.people, actor="bench", columns=read.columns, rows=read.rows
    )
    return counts(store)["entries"]


def read_feed(http: httpx.Client, headers: dict[str, str]) -> tuple[list[dict[str, Any]], list[float]]:
    """Every event of the feed, page after page from position 0; the seconds each page took."""
    events: list[dict[str, Any]] = []
    pages: list[float] = []
    after = 0
    while True:
        began = time.perf_counter()
        answer = http.get("/api/v1/events", params={"after": after, "limit": FEED_PAGE}, headers=headers)
        pages.append(time.perf_counter() - began)
        if answer.status_code == 404 and after == 0:
            raise FeedMissing(answer.text[:500])
        if answer.status_code != 200:
            raise SystemExit(
                f"GET /api/v1/events?after={after} answered {answer.status_code}: {answer.text[:2000]}"
            )
        body = answer.json()
        page = body["events"]
        if not page:
            if body.get("last") != after:
                raise SystemExit(f"an empty page after {after} says last={body.get('last')!r}")
            return events, pages
        if body.get("last") != int(page[-1]["sequence"]):
            raise SystemExit(
                f"a page ends at sequence {page[-1]['sequence']} but says last={body.get('last')!r}"
            )
        events += page
        after = int(body["last"])


def feed_problems(events: list[dict[str, Any]], expected: int) -> list[str]:
    """What is wrong with the feed read: positions not 1..``expected`` in order, ids repeated."""
    problems = []
    positions = [int(event["sequence"]) for event in events]
    if positions != list(range(1, len(positions) + 1)):
        repeated = sum(n - 1 for n in Counter(positions).values() if n > 1)
        missing = len(set(range(1, max(positions, default=0) + 1)) - set(positions))
        problems.append(f"positions not 1..{len(positions)} in order ({repeated} repeated, {missing} gaps)")
    if len(events) != expected:
        problems.append(f"{len(events)} events read, the store holds {expected} entries")
    ids = Counter(event["id"] for event in events)
    if len(ids) != len(events):
        problems.append(f"{len(events) - len(ids)} ids repeated")
    return problems


def feed_run(args: argparse.Namespace, people: Path, policy: Policy) -> Feed:
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-api-feed-") as scratch:
        folder = Path(scratch)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with fresh_store(args.database, args.schema, folder) as (store, address):
            expected = build_events(store, policy, people)
            _, secret = create_token(
                store, "bench-feed", ["events:read"], datetime.now(UTC), actor="cli:bench",
                rate_limit=RATE_LIMIT_MAX,
            )  # fmt: skip
            settings_file(folder, address, base)
            headers = {"authorization": f"Bearer {secret}"}
            with server(folder, port) as process, httpx.Client(base_url=base, timeout=600) as http:
                start = time.perf_counter()
                events, pages = read_feed(http, headers)
                wall = time.perf_counter() - start
                peak = peak_rss_mb(process.pid)
    problems = feed_problems(events, expected)
    if problems:
        raise SystemExit("the feed is wrong: " + "; ".join(problems))
    rest = pages[1:] or [0.0]
    return Feed(len(events), len(pages), wall, pages[0], statistics.median(rest), peak)


# --- the report ---------------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000, metavar="N", help="people upserted")
    parser.add_argument("--batch", type=int, default=1000, metavar="N", help="participants a request")
    parser.add_argument(
        "--events", type=int, default=100_000, metavar="N", help="events in the feed, at least"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="runs, each on fresh stores (3 or more for a median)"
    )
    parser.add_argument("--database", metavar="URL", help="PostgreSQL URL (default: a SQLite file)")
    parser.add_argument("--schema", default="mf_bench_api", help="PostgreSQL schema, dropped after each run")
    parser.add_argument("--skip-upsert", action="store_true", help="only the event feed")
    parser.add_argument("--skip-feed", action="store_true", help="only the upsert")
    args = parser.parse_args()
    if args.runs < 1 or args.participants < 1 or args.events < 1:
        parser.error("--runs, --participants and --events must be at least 1")
    if not 1 <= args.batch <= 10_000:
        parser.error("--batch: 1 to 10000 participants a request (the API's limit)")
    if not args.schema.isidentifier() or not args.schema.startswith("mf_bench_api"):
        parser.error(f"--schema: {args.schema!r} is not a plain name starting with mf_bench_api")
    return args


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    return f"min {min(values):.{digits}f} {unit}, median {statistics.median(values):.{digits}f} {unit}"


def mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} MB"


def upsert_part(args: argparse.Namespace, policy: Policy, scratch: Path) -> None:
    count = args.participants
    items = [item(i) for i in range(count)]
    people = scratch / f"people-{count}.csv"
    csv_bench.write_csv(people, count)
    print(f"upsert: {count:,} participants ({mentees_among(count):,} mentees), batches of {args.batch}")
    api: list[Upsert] = []
    csv: list[Measured] = []
    for number in range(1, args.runs + 1):
        run = upsert_run(args, items, policy)
        api.append(run)
        cpu = "n/a" if run.server_cpu is None else f"{run.server_cpu:.2f} s"
        print(
            f"  run {number} API: {run.wall:6.2f} s ({count / run.wall:,.0f} participants/s; a request "
            f"median {run.batch_median:.2f} s, max {run.batch_max:.2f} s); server CPU {cpu}, peak RSS "
            f"{mb(run.server_rss)} (started: {mb(run.server_rss_idle)}); {count:,} participants and one "
            "relationship per mentee in the store"
        )
        done = csv_run(args, people)
        csv.append(done)
        print(
            f"  run {number} CSV: {done.seconds:6.2f} s (`mentorflow participants import`, CPU "
            f"{done.cpu:.2f} s, peak RSS {done.megabytes:.0f} MB)"
        )
    walls, files = [r.wall for r in api], [r.seconds for r in csv]
    print(f"upsert API ({count:,}): wall {spread(walls, 's')}")
    rss = [r.server_rss for r in api if r.server_rss is not None]
    if rss:
        print(f"upsert API ({count:,}): server peak RSS {spread(rss, 'MB', 0)}")
    memory = spread([r.megabytes for r in csv], "MB", 0)
    print(f"import CSV ({count:,}): wall {spread(files, 's')}; peak RSS {memory}")
    print(
        f"API / CSV: {statistics.median(walls) / statistics.median(files):.2f} (median / median; "
        f"min / min {min(walls) / min(files):.2f})"
    )


def feed_part(args: argparse.Namespace, policy: Policy, scratch: Path) -> None:
    count = people_for(args.events)
    people = scratch / f"feed-people-{count}.csv"
    csv_bench.write_csv(people, count)
    print(
        f"event feed: a store of {count:,} participants imported by the engine "
        f"({count + mentees_among(count):,} entries: one per participant, one per mentee's relationship), "
        f"read by GET /api/v1/events?after=...&limit={FEED_PAGE}"
    )
    runs: list[Feed] = []
    for number in range(1, args.runs + 1):
        try:
            run = feed_run(args, people, policy)
        except FeedMissing as missing:
            print(f"  GET /api/v1/events answered 404: the server has no event feed yet; skipped ({missing})")
            return
        runs.append(run)
        print(
            f"  run {number}: {run.events:,} events in {run.pages} pages, {run.wall:6.2f} s "
            f"({run.events / run.wall:,.0f} events/s); first page (numbers them all) {run.first_page:.2f} "
            f"s, a later page median {run.rest_median_page * 1000:.0f} ms; server peak RSS "
            f"{mb(run.server_rss)}; positions 1..N without gap or repeat, ids unique"
        )
    print(f"event feed ({runs[0].events:,}): wall {spread([r.wall for r in runs], 's')}")
    rates = [r.events / r.wall for r in runs]
    print(f"event feed: events/s min {min(rates):,.0f}, median {statistics.median(rates):,.0f}")
    print(f"event feed: first page {spread([r.first_page for r in runs], 's')}")
    rss = [r.server_rss for r in runs if r.server_rss is not None]
    if rss:
        print(f"event feed: server peak RSS {spread(rss, 'MB', 0)}")


def main() -> int:
    args = arguments()
    print(machine(args.database))
    where = "SQLite file" if args.database is None else f"PostgreSQL schema {args.schema}"
    print(
        f"settings: {args.participants:,} participants upserted in batches of {args.batch}; a feed of at "
        f"least {args.events:,} events, pages of {FEED_PAGE}; `mentorflow web` (uvicorn, 1 process) on "
        f"{where}, schema {SCHEMA_REVISION}, default policy; {args.runs} runs, fresh stores each"
    )
    policy = load_policy(shipped_policies()["default"])
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-api-people-") as scratch:
        if not args.skip_upsert:
            upsert_part(args, policy, Path(scratch))
        if not args.skip_feed:
            feed_part(args, policy, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
