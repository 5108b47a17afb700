"""Does the cadence's work grow with the program, or only with what is due?

    python bench/tick.py [--sizes 10000,100000,1000000] [--due 1000] [--runs 3] [--keep] [--check]
                         [--database postgresql+psycopg://...] [--schema NAME] [--explain]

What ``mentorflow tick`` does in its own process, measured in its two parts on stores that
differ only in how many relationships they hold:

- tick: ``workflows.flows.work.advance`` (``engine.services.tick.run_tick``, pass after pass, 500
  pairs a batch): the due query, each batch's rows locked, its facts (meetings, survey answers,
  training), the stays and moves of its pairs in the audit chain, the decision, the idempotency
  keys already in the outbox, the phase changes with their audit entries and outbox rows, the
  notices and the next due dates;
- delivery: ``work.deliver_part`` batch after batch (``work.deliver_all``), through the log
  channel configured as the demo configures it, writing to a file on a RAM disk, so no
  network and no disk flush is timed: the claim, the pairs and people, composing each
  message, recording it, settling its row.

Every store holds ``--due`` relationships due at the tick's moment, the same in each, spread
over the id range and over ten cases: a check-in reminder, a check-in escalation (its
reminder sent before), the deadlines of intake, matched and kickoff, a trained mentor's pair
moving to kickoff, a pair whose kickoff was recorded moving to active, a pair whose six
months are over moving to review, a survey reminder, and a pair whose surveys were answered
closing. The rest of the relationships are not due, spread over the phases as a running
program's are (most active, with meetings; some closed), each with its audit entries and a
message delivered earlier, so the tables the tick and delivery read grow with the program.
Stores are built with bulk inserts (setup, never timed).

Each measured run starts from the same state: on SQLite a copy of the built file, flushed to
disk before the clock starts (the built files are cached under /tmp/mentorflow-bench-tick
with ``--keep``, since a 1M store takes minutes to build); on PostgreSQL (``--database``; 10k
and 100k by default) the store is built again in the schema ``--schema`` before every run,
and the schema is dropped at the end. One unmeasured run comes first. Every run must do the
same work (the same tick and delivery summaries at every size), or the benchmark stops.

Printed: the machine, the settings, per size min and median of ``--runs`` runs for the tick
and the delivery, and the growth ratios of the medians against the smallest store.
Target: the largest store's median is at most 1.2 times the smallest's, for the tick and for
the delivery (both read what is due through indexes, not the program). ``--check`` exits 1
when it is missed. ``--explain`` times every statement of one run on the smallest and one on
the largest store, prints the longest, and explains each query of the largest run, listing
those whose plan reads a large table whole (SQLite ``SCAN``, PostgreSQL ``Seq Scan``).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy
from population import Chain, person_row
from sqlalchemy import Engine, event, insert, text
from sqlalchemy.engine import make_url

from engine.domain.audit import iso
from engine.policy.model import Policy, resolve_policy_path
from engine.policy.vocabulary import RECORD_MEETING, RECORD_SURVEY
from engine.services.delivery import DeliverySummary
from engine.services.tick import TickSummary
from engine.store.database import SCHEMA_REVISION, UnitOfWork, initialise, open_engine
from engine.store.records import answer_fact, meeting_fact
from engine.store.tables import audit_entries, meetings, outbox, participants, relationships, survey_responses
from workflows.flows import resources, work

TICK = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
NOW = resources.iso(TICK)
CHUNK = 20_000  # relationships written per round of inserts
TARGET = 1.2
CACHE = Path(tempfile.gettempdir()) / "mentorflow-bench-tick"
BUILD = 1  # raise when the population changes, so cached stores are built again
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


@dataclass(frozen=True)
class Case:
    """How one relationship stands at the tick's moment."""

    phase: str
    entered: timedelta  # how long before the tick it entered its phase
    due: timedelta | None  # its due_at, from the tick's moment (negative: passed; None: never)
    mentor: str | None = "trained"  # "trained", "untrained" or None
    meetings: tuple[tuple[str, timedelta], ...] = ()  # (kind, how long before the tick)
    answered: tuple[str, ...] = ()  # who answered the final survey
    answered_ago: timedelta = 2 * DAY  # when, before the tick (before ``entered``: in the phase it left)
    reminded: bool = False  # the reminder of its present silence was sent (delivered)


DUE_CASES = {
    "check-in reminder": Case(
        "active", 60 * DAY, -DAY, meetings=(("kickoff", 50 * DAY), ("check-in", 22 * DAY))
    ),
    "check-in escalation": Case(
        "active", 80 * DAY, -DAY, meetings=(("kickoff", 70 * DAY), ("check-in", 43 * DAY)), reminded=True
    ),
    "intake deadline": Case("intake", 22 * DAY, -DAY, mentor=None),
    "matched deadline": Case("matched", 15 * DAY, -DAY, mentor="untrained"),
    "kickoff deadline": Case("kickoff", 11 * DAY, -DAY),
    "trained: to kickoff": Case("matched", 3 * DAY, -HOUR),
    "kickoff held: to active": Case("kickoff", 4 * DAY, -HOUR, meetings=(("kickoff", DAY),)),
    "six months: to review": Case(
        "active", 190 * DAY, -DAY, meetings=(("kickoff", 185 * DAY), ("check-in", 5 * DAY))
    ),
    "survey reminder": Case("review", 8 * DAY, -DAY),
    "answered: to closed": Case("review", 10 * DAY, -HOUR, answered=("mentee", "mentor")),
}
WAITING = (
    [Case("intake", 5 * DAY, 16 * DAY, mentor=None)] * 2
    + [Case("matched", 3 * DAY, 11 * DAY, mentor="untrained")]
    + [Case("kickoff", 2 * DAY, 8 * DAY)]
    + [Case("active", 60 * DAY, 14 * DAY, meetings=(("kickoff", 50 * DAY), ("check-in", 7 * DAY)))] * 12
    + [Case("review", 3 * DAY, 4 * DAY)]
    + [Case("closed", 30 * DAY, None, answered=("mentee", "mentor"), answered_ago=31 * DAY)] * 3
)
"""The relationships not due, in the proportions of a running program."""
ENTERED = {
    "intake": ("create", None),
    "matched": ("match", "intake"),
    "kickoff": ("schedule_kickoff", "matched"),
    "active": ("start", "kickoff"),
    "review": ("review", "active"),
    "closed": ("close", "review"),
}
"""The entry that began each phase's stay: its trigger and the phase it left."""


class Population:
    """The rows of a store of ``total`` relationships, ``due`` of them due at the tick's moment."""

    def __init__(self, policy: Policy, total: int, due: int) -> None:
        self.policy, self.total, self.due = policy, total, due
        self.stride = total // due
        self.trained = range(total + 1, total + 1 + max(50, total // 20))
        self.untrained = range(self.trained.stop, self.trained.stop + max(50, total // 100))

    def case(self, rel_id: int) -> Case:
        slot, offset = divmod(rel_id - 1, self.stride)
        if offset == 0 and slot < self.due:
            return list(DUE_CASES.values())[slot % len(DUE_CASES)]
        return WAITING[rel_id % len(WAITING)]

    def people(self, start: int, stop: int, role: str, trained: bool) -> list[dict[str, Any]]:
        when = TICK - 400 * DAY
        return [person_row(i, role, when, capacity=50, trained=trained) for i in range(start, stop)]

    def rows(self, start: int, stop: int) -> dict[Any, list[dict[str, Any]]]:
        """Every row of the relationships ``start`` to ``stop`` (excluded), by table."""
        found: dict[Any, list[dict[str, Any]]] = {t: [] for t in (relationships, audit_entries, meetings)}
        found |= {survey_responses: [], outbox: []}
        for rel_id in range(start, stop):
            self._relationship(rel_id, self.case(rel_id), found)
        return found

    def _relationship(self, rel_id: int, case: Case, found: dict[Any, list[dict[str, Any]]]) -> None:
        entered = TICK - case.entered
        pool = {"trained": self.trained, "untrained": self.untrained}.get(case.mentor or "")
        chain = Chain(self.policy, rel_id)
        before = case.answered_ago > case.entered  # answered in the phase it left, then moved on
        if before:
            self._answers(rel_id, case, ENTERED[case.phase][1] or case.phase, chain, found)
        chain.add(entered, *ENTERED[case.phase], case.phase, {})
        for kind, ago in case.meetings:
            held = TICK - ago
            seq = chain.add(held, RECORD_MEETING, case.phase, case.phase, meeting_fact(kind, held))
            found[meetings].append(_meeting(rel_id, kind, held, seq))
        if not before:
            self._answers(rel_id, case, case.phase, chain, found)
        found[audit_entries] += chain.entries
        found[relationships].append(
            {
                "id": rel_id,
                "mentee_id": rel_id,
                "mentor_id": None if pool is None else pool[rel_id % len(pool)],
                "policy_name": self.policy.policy,
                "phase": case.phase,
                "phase_entered_at": entered,
                "due_at": None if case.due is None else TICK + case.due,
                "version": chain.seq,
                "audit_seq": chain.seq,
                "audit_head": chain.head,
                "created_at": entered,
            }
        )
        found[outbox] += _sent(rel_id, case, entered)

    def _answers(
        self, rel_id: int, case: Case, phase: str, chain: Chain, found: dict[Any, list[dict[str, Any]]]
    ) -> None:
        answered = TICK - case.answered_ago
        for who in case.answered:
            seq = chain.add(answered, RECORD_SURVEY, phase, phase, answer_fact("final", who, {}))
            found[survey_responses].append(_answer(rel_id, who, answered, seq))


def _meeting(rel_id: int, kind: str, held: datetime, seq: int) -> dict[str, Any]:
    return {
        "relationship_id": rel_id,
        "kind": kind,
        "held_on": held,
        "recorded_at": held,
        "recorded_by": "bench",
        "notes": None,
        "entry_seq": seq,
    }


def _answer(rel_id: int, who: str, answered: datetime, seq: int) -> dict[str, Any]:
    return {
        "relationship_id": rel_id,
        "survey": "final",
        "respondent": who,
        "answered_at": answered,
        "answers": {},
        "entry_seq": seq,
        "free_text": None,
    }


def _sent(rel_id: int, case: Case, entered: datetime) -> list[dict[str, Any]]:
    """Messages delivered before the tick: one on entering the phase, and the reminder of the silence."""
    keys = [(f"rel:{rel_id}:entry:1:notify_pair:mentee", "notify_pair", "mentee", entered)]
    if case.reminded:
        quiet = TICK - case.meetings[-1][1]
        keys += [
            (f"rel:{rel_id}:quiet:{iso(quiet)}:remind:{who}", "remind", who, quiet + 21 * DAY)
            for who in ("mentee", "mentor")
        ]
    return [
        {
            "relationship_id": rel_id,
            "idempotency_key": key,
            "action": action,
            "params": {"phase": case.phase, "recipient": who},
            "created_at": at,
            "status": "delivered",
            "attempts": 1,
            "next_attempt_at": None,
            "delivered_at": at,
            "last_error": None,
        }
        for key, action, who, at in keys
    ]


def build(store: Engine, policy: Policy, total: int, due: int) -> None:
    """Write the population of ``total`` relationships into the initialised ``store``, then analyse it."""
    people = Population(policy, total, due)
    with UnitOfWork(store) as uow:
        for start in range(1, total + 1, CHUNK):
            uow.conn.execute(
                insert(participants), people.people(start, min(start + CHUNK, total + 1), "mentee", False)
            )
        uow.conn.execute(
            insert(participants), people.people(people.trained.start, people.trained.stop, "mentor", True)
        )
        uow.conn.execute(
            insert(participants),
            people.people(people.untrained.start, people.untrained.stop, "mentor", False),
        )
        for start in range(1, total + 1, CHUNK):
            for table, rows in people.rows(start, min(start + CHUNK, total + 1)).items():
                if rows:
                    uow.conn.execute(insert(table), rows)
        uow.commit()
    with store.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def sqlite_template(policy: Policy, total: int, due: int, keep: bool, scratch: Path) -> tuple[Path, float]:
    """The built SQLite store for these sizes (reused from the cache with ``keep``), and its build seconds.

    It is built under a passing name and renamed when complete, so an interrupted build is never reused.
    """
    digest = policy.digest.rpartition(":")[2][:12]
    target = (CACHE if keep else scratch) / f"tick-{SCHEMA_REVISION}-{BUILD}-{digest}-{total}-{due}.db"
    if keep and target.is_file():
        return target, 0.0
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_suffix(".building")
    _remove(building)
    began = time.perf_counter()
    store = open_engine(f"sqlite:///{building}")
    try:
        initialise(store)
        build(store, policy, total, due)
    finally:
        store.dispose()  # the last connection closed folds the WAL into the file, ready to copy
    building.replace(target)
    return target, time.perf_counter() - began


def _flush(path: Path) -> None:
    """Put the copy on disk before the clock starts: else the first checkpoint's fsync, in the tick's first
    commit, writes the whole copied file (seconds for a 1M store), which is the benchmark's cost, not the
    engine's."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresStores:
    """A store per run in one PostgreSQL schema, built afresh each time (the schema dropped at the end)."""

    def __init__(self, url: str, schema: str) -> None:
        if not schema.isidentifier():
            raise SystemExit(f"--schema: {schema!r} must be a plain name (letters, digits, _)")
        self.admin, self.schema = url, schema
        self.url = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})

    def fresh(self, policy: Policy, total: int, due: int) -> tuple[str, float]:
        began = time.perf_counter()
        self.drop(create=True)
        store = open_engine(self.url.render_as_string(hide_password=False))
        try:
            initialise(store)
            build(store, policy, total, due)
        finally:
            store.dispose()
        return self.url.render_as_string(hide_password=False), time.perf_counter() - began

    def drop(self, *, create: bool = False) -> None:
        admin = open_engine(self.admin)
        try:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE"))
                if create:
                    conn.execute(text(f"CREATE SCHEMA {self.schema}"))
        finally:
            admin.dispose()

    def version(self) -> str:
        admin = open_engine(self.admin)
        try:
            with admin.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar_one())
        finally:
            admin.dispose()


@dataclass(frozen=True)
class Run:
    tick: float
    delivery: float
    ticked: TickSummary
    sent: DeliverySummary


def cadence_run(url: str, policy_path: str, log: Path) -> Run:
    """What ``mentorflow tick`` does in its own process: the cadence's work, then delivery to the log file."""
    resources.store(url)  # opened (and checked) once before the clock starts, as `mentorflow tick` does
    try:
        began = time.perf_counter()
        ticked = work.advance(url, policy_path, NOW, work.TICK_BATCH)
        ticked_at = time.perf_counter()
        sent = work.deliver_all(
            lambda _number, limit: work.deliver_part(url, policy_path, NOW, limit, str(log))
        )
        done = time.perf_counter()
    finally:
        resources.forget_stores()
    return Run(ticked_at - began, done - ticked_at, ticked, sent)


def same_work(run: Run, first: Run | None) -> None:
    """Stop when a run parked a message, or did other work than the first run."""
    if run.sent.parked or run.sent.retrying or not run.sent.delivered:
        raise SystemExit(f"delivery did not deliver everything: {run.sent}")
    if first is not None and (run.ticked, run.sent) != (first.ticked, first.sent):
        raise SystemExit(f"a run did other work than the first:\n{run}\n{first}")


@dataclass(frozen=True)
class Sizes:
    """Where the stores come from: SQLite files (copied before each run) or a PostgreSQL schema."""

    policy: Policy
    due: int
    keep: bool
    scratch: Path
    postgres: PostgresStores | None

    def stores(self, total: int, runs: int) -> Iterator[tuple[str, str]]:
        """(URL, how it was set up) of a store in the same state, ``runs`` times."""
        if self.postgres is not None:
            for _ in range(runs):
                url, seconds = self.postgres.fresh(self.policy, total, self.due)
                yield url, f"built in {seconds:.1f} s each run"
            return
        built, seconds = sqlite_template(self.policy, total, self.due, self.keep, self.scratch)
        setup = f"built in {seconds:.1f} s" if seconds else f"reused {built}"
        for _ in range(runs):
            copy = self.scratch / "run.db"
            _remove(copy)
            shutil.copyfile(built, copy)
            _flush(copy)
            yield f"sqlite:///{copy}", setup


def measure(
    sizes: Sizes, total: int, runs: int, policy_path: str, first: Run | None
) -> tuple[list[Run], str]:
    """``runs`` runs on the store of ``total``, each from the same state; and how the store was set up."""
    found, setup = [], ""
    for url, made in sizes.stores(total, runs):
        setup = made
        log = _log_path()
        run = cadence_run(url, policy_path, log)
        log.unlink(missing_ok=True)
        same_work(run, first or (found[0] if found else None))
        found.append(run)
    return found, setup


def _log_path() -> Path:
    """The log channel's file: on a RAM disk where there is one, so its fsync costs nothing."""
    shm = Path("/dev/shm")
    folder = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    path = folder / f"mentorflow-bench-tick-{os.getpid()}.jsonl"
    path.unlink(missing_ok=True)
    return path


class Capture:
    """Every statement a run sends, while listening: its first parameters, and its time by shape (the same
    statement with any length of ``IN (...)`` list)."""

    SHAPE = re.compile(r"\((?:\s*(?:\?|%s|%\(\w+\)s)\s*,?)+\)")

    def __init__(self) -> None:
        self.first: dict[str, Any] = {}
        self.seconds: Counter[str] = Counter()
        self.began: list[float] = []

    def __enter__(self) -> Capture:
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)

    def _before(
        self, _conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH")):
            self.first.setdefault(statement, params[0] if many and params else params)
        self.began.append(time.perf_counter())

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        shape = " ".join(self.SHAPE.sub("(...)", statement).split())
        self.seconds[shape] += time.perf_counter() - self.began.pop()


def explain(sizes: Sizes, smallest: int, largest: int, policy_path: str) -> None:
    """One run on the smallest and one on the largest store with every statement timed; print the
    statements that took longest on the largest, and the plans that read a large table whole."""
    captures, totals = {}, {}
    for total in (smallest, largest):
        url = next(sizes.stores(total, 1))[0]
        with Capture() as captures[total]:
            run = cadence_run(url, policy_path, _log_path())
        totals[total] = run.tick + run.delivery
    small, large = captures[smallest].seconds, captures[largest].seconds
    print(
        f"queries:  one run, SQL time of run time: {sum(small.values()):.2f} of {totals[smallest]:.2f} s at "
        f"{smallest:,}, {sum(large.values()):.2f} of {totals[largest]:.2f} s at {largest:,}; the longest:"
    )
    for shape, seconds in large.most_common(8):
        print(f"  {small[shape] * 1000:7.0f} ms -> {seconds * 1000:7.0f} ms  {shape[:300]}")
    scans = [
        (statement, plan) for statement, plan in _plans(url, captures[largest].first) if _reads_whole(plan)
    ]
    print(
        f"explain:  {len(captures[largest].first)} distinct queries at {largest:,}; "
        f"{len(scans)} read a large table whole"
    )
    for statement, plan in scans:
        print("  query: " + " ".join(statement.split())[:600])
        print("\n".join(f"    {line}" for line in plan))


def _plans(url: str, captured: dict[str, Any]) -> Iterator[tuple[str, list[str]]]:
    store = open_engine(url, create=False)
    prefix = "EXPLAIN QUERY PLAN " if store.dialect.name == "sqlite" else "EXPLAIN "
    try:
        raw = store.raw_connection()
        try:
            for statement, params in captured.items():
                cursor = raw.cursor()
                cursor.execute(prefix + statement, params)
                yield statement, [" ".join(str(cell) for cell in row[-1:]) for row in cursor.fetchall()]
                cursor.close()
            raw.rollback()
        finally:
            raw.close()
    finally:
        store.dispose()


LARGE = {"relationships", "participants", "audit_entries", "meetings", "survey_responses", "outbox"}
LARGE |= {"outbox_deliveries", "participant_entries", "goals", "match_proposals"}
"""The tables that grow with the program (the others hold a row or a few)."""


def _reads_whole(plan: list[str]) -> bool:
    """Whether a plan reads a large table whole (SQLite ``SCAN t``, PostgreSQL ``Seq Scan on t``)."""
    for line in (step.strip(" ->") for step in plan):
        words = line.replace("Seq Scan on", "SCAN").split()
        if len(words) > 1 and words[0] == "SCAN" and words[1] in LARGE:
            return True
    return False


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--sizes",
        metavar="N,N,...",
        help="relationships per store (default 10000,100000,1000000; on PostgreSQL 10000,100000)",
    )
    parser.add_argument("--due", type=int, default=1000, metavar="N", help="due relationships in every store")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per store (at least 3)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help=f"keep the SQLite stores in {CACHE} and reuse them",
    )
    parser.add_argument("--database", metavar="URL", help="a PostgreSQL server to measure instead of SQLite")
    parser.add_argument(
        "--schema", default="mentorflow_bench", help="the PostgreSQL schema it uses and drops"
    )
    parser.add_argument("--explain", action="store_true", help="list queries that read a large table")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    default = "10000,100000" if args.database else "10000,100000,1000000"
    try:
        args.sizes = sorted({int(size) for size in (args.sizes or default).split(",")})
    except ValueError:
        parser.error(f"--sizes: {args.sizes!r} is not a list of numbers (try 10000,100000)")
    if args.runs < 3:
        parser.error(f"--runs: {args.runs} is too few for a median (at least 3)")
    if not 10 <= args.due <= args.sizes[0] // 2:
        parser.error(
            f"--due: {args.due} must be at least 10 and at most half the smallest size ({args.sizes[0]})"
        )
    if args.database and make_url(args.database).get_backend_name() != "postgresql":
        parser.error(f"--database: {args.database!r} is not a PostgreSQL URL (postgresql+psycopg://...)")
    return args


def describe(args: argparse.Namespace, postgres: PostgresStores | None) -> None:
    database = f"PostgreSQL {postgres.version()}" if postgres else f"SQLite {sqlite3.sqlite_version}"
    print(
        f"machine:  {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, load "
        f"{os.getloadavg()[0]:.1f}; Python {platform.python_version()}; SQLAlchemy {sqlalchemy.__version__}; "
        f"{database}"
    )
    print(
        f"settings: {args.due:,} due in each store (about {args.due // len(DUE_CASES)} each of "
        f"{len(DUE_CASES)} cases), "
        f"tick batches of {work.TICK_BATCH}, delivery batches of {work.DELIVERY_BATCH}, log channel, "
        f"schema {SCHEMA_REVISION}, {args.runs} runs per store after one warm-up"
    )


def report(total: int, runs: list[Run], setup: str) -> tuple[float, float]:
    """Print min and median of the tick and of the delivery on the store of ``total``; the medians."""
    figures = []
    for part in ("tick", "delivery"):
        seconds = [getattr(run, part) for run in runs]
        figures.append((part, min(seconds), statistics.median(seconds)))
    shown = "; ".join(
        f"{part} min {low * 1000:6.0f} ms, median {mid * 1000:6.0f} ms" for part, low, mid in figures
    )
    print(f"{total:>10,} relationships: {shown} ({setup})")
    return figures[0][2], figures[1][2]


def ratios(medians: dict[int, tuple[float, float]]) -> bool:
    """Print the growth of each median against the smallest store's; whether the largest is on target."""
    smallest, largest = min(medians), max(medians)
    for total in sorted(medians)[1:]:
        tick, delivery = (medians[total][i] / medians[smallest][i] for i in (0, 1))
        print(f"growth {total:,}/{smallest:,}: tick {tick:.2f}, delivery {delivery:.2f} (target <= {TARGET})")
    return all(medians[largest][i] / medians[smallest][i] <= TARGET for i in (0, 1))


def main() -> int:
    args = arguments()
    policy_path = str(resolve_policy_path(None).resolve())
    policy = resources.policy(policy_path)
    postgres = PostgresStores(args.database, args.schema) if args.database else None
    describe(args, postgres)
    medians: dict[int, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-tick-") as scratch_dir:
        sizes = Sizes(policy, args.due, args.keep, Path(scratch_dir), postgres)
        try:
            first, _ = measure(sizes, args.sizes[0], 1, policy_path, None)  # warm-up: imports, templates
            print(f"work:     {first[0].ticked}\n          {first[0].sent}")
            for total in args.sizes:
                runs, setup = measure(sizes, total, args.runs, policy_path, first[0])
                medians[total] = report(total, runs, setup)
            if args.explain:
                explain(sizes, args.sizes[0], args.sizes[-1], policy_path)
        finally:
            if postgres is not None:
                postgres.drop()
    on_target = ratios(medians)
    return 1 if args.check and not on_target else 0


if __name__ == "__main__":
    sys.exit(main())
