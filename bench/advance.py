"""How fast does the engine advance relationships, next to what the database allows?

    python bench/advance.py --relationships 100000 [--database URL [--schema PREFIX]] [--batch 5000]
                            [--runs 3] [--check]

Opens N relationships on a fresh store and fires the default policy's lifecycle
through the engine's batch path (``services.advance_many``), batch by batch:
match (with a mentor), schedule_kickoff, start (after the kickoff meetings are
recorded through ``services.recording.record_meetings``, with their audit
entries), review (six simulated months later) and close (with a reason): five
transitions each. Only the advance calls are timed, next to two ceilings, each
on a fresh store holding the same rows:

- raw: a SQLAlchemy Core ``UPDATE relationships ... WHERE id = :id AND version = :v``
  plus an audit ``INSERT`` per transition, with precomputed values, in
  transactions of the same size (no outbox rows, no reads);
- same SQL: every statement the engine issues for the step (its reads, the row
  updates, the audit and outbox inserts, the policy version check), replayed
  through the bare driver cursor, transaction by transaction. The ratio
  engine / same SQL is the engine's own cost: its Python, SQLAlchemy's and the
  conversions.

The statements replayed are captured as the driver receives them from a fourth,
untimed engine run on its own store, step by step just after the timed one:
capturing in the timed run keeps every parameter list of the step alive, so
the rows the engine builds go to fresh memory instead of memory just freed, and
the engine may be charged for the bench's own bookkeeping. The
replay must leave its store as the capturing run left its own, and the timed
run must leave the same phases, versions, chain lengths, row counts and outbox
keys (its chain heads differ from the close step on: a reason's seal is salted
at random).

The three run step by step in turn, so that a machine busy with other work
slows them alike; ``--runs`` repeats the whole on fresh stores and reports the
min and median of each figure. Without ``--database`` the stores are temporary
SQLite files; with a PostgreSQL URL each is a scratch schema (``--schema`` names their prefix), dropped
afterwards.
``--check`` exits 1 when the median engine reaches less than half of the raw
ceiling or less than 0.85 of the same-SQL one.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy
from sqlalchemy import Engine, bindparam, event, insert, select, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from population import MENTOR_CAPACITY, inserted_ids, participant_rows

from engine.clock import SimulatedClock
from engine.domain.cadence import Standing, next_due
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy, load_policy, resolve_policy_path
from engine.services import advance as services
from engine.services.opening import open_relationships
from engine.services.recording import HeldMeeting, record_meetings
from engine.store.database import UnitOfWork, initialise, open_engine
from engine.store.tables import audit_entries, relationships

TARGETS = {"raw": 0.5, "same SQL": 0.85}
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
ACTOR = "bench"
REASON = "program completed"


@dataclass(frozen=True)
class Step:
    """One trigger fired on every relationship, and what the ceiling writes for it."""

    trigger: str
    source: str
    dest: str
    requires: tuple[str, ...]
    reason: str | None = None


STEPS = (
    Step("match", "intake", "matched", ("mentor_assigned",)),
    Step("schedule_kickoff", "matched", "kickoff", ("mentor_trained",)),
    Step("start", "kickoff", "active", ("kickoff_held",)),
    Step("review", "active", "review", ()),
    Step("close", "review", "closed", ("reason",), REASON),
)


@dataclass(frozen=True)
class Population:
    """The relationships opened for a run, and the mentor each is matched with."""

    rel_ids: list[int]
    mentor_of: dict[int, int]
    mentor_refs: dict[int, str]


# --- stores -----------------------------------------------------------------------------------


@contextmanager
def scratch_store(url: str | None, name: str, prefix: str = "mf_w3_bench") -> Iterator[Engine]:
    """A fresh, initialised store: a temporary SQLite file, or a scratch schema on PostgreSQL."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="mentorflow-bench-") as scratch:
            store = open_engine(f"sqlite:///{scratch}/{name}.db")
            initialise(store)
            try:
                yield store
            finally:
                store.dispose()
        return
    schema = f"{prefix}_{name}_{os.getpid()}"
    admin = open_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    store = open_engine(scoped.render_as_string(hide_password=False))
    try:
        initialise(store)
        yield store
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def database_version(store: Engine) -> str:
    if store.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with store.connect() as conn:
        return f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar()}"


# --- setup (not timed) ------------------------------------------------------------------------


def populate(store: Engine, policy: Policy, n: int, batch: int) -> Population:
    """N mentees and their relationships, opened by the engine; enough trained mentors for them."""
    clock = SimulatedClock(START)
    mentors = inserted_ids(store, participant_rows(-(-n // MENTOR_CAPACITY), "mentor", clock.now()))
    mentees = inserted_ids(store, participant_rows(n, "mentee", clock.now()))
    rel_ids: list[int] = []
    for part in batches(mentees, batch):
        rel_ids += open_relationships(store, policy, clock, part, actor=ACTOR)
    mentor_of = {rel_id: mentors[i // MENTOR_CAPACITY] for i, rel_id in enumerate(rel_ids)}
    return Population(rel_ids, mentor_of, {m: f"M{i:07d}" for i, m in enumerate(mentors)})


def record_kickoffs(store: Engine, policy: Policy, rel_ids: Sequence[int], now: datetime, batch: int) -> None:
    """Kickoff meetings held now, recorded as the engine records them: with their audit entries."""
    clock = SimulatedClock(now)
    for part in batches(rel_ids, batch):
        record_meetings(store, policy, clock, [HeldMeeting(i, "kickoff") for i in part], actor=ACTOR)


def batches(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- the engine -------------------------------------------------------------------------------


@dataclass
class Timing:
    """Wall-clock and CPU seconds spent, per trigger."""

    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def measure(self, trigger: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall[trigger] = self.wall.get(trigger, 0.0) + time.perf_counter() - wall
        self.cpu[trigger] = self.cpu.get(trigger, 0.0) + time.process_time() - cpu


class EngineRun:
    """The five steps fired through ``services.advance_many``, batch by batch, on a simulated clock."""

    def __init__(
        self, store: Engine, policy: Policy, people: Population, batch: int, *, capture: bool = False
    ) -> None:
        self.store, self.policy, self.people, self.batch = store, policy, people, batch
        self.lifecycle = Lifecycle(policy)
        self.clock = SimulatedClock(START)
        self.timing = Timing()
        self.capture = Capture(store) if capture else None

    def step(self, step: Step) -> None:
        prepare(self.store, self.policy, self.people, step, self.batch)
        if step.trigger == "review":
            self.clock.set(self.policy.program.duration.after(self.clock.now()))
        if self.capture is not None:
            self.capture.on = True
        try:
            with self.timing.measure(step.trigger):
                for part in batches(self.people.rel_ids, self.batch):
                    self.advance(step, part)
        finally:
            if self.capture is not None:
                self.capture.on = False

    def taken(self) -> list[list[Statement]]:
        """The transactions this run's last step sent (a capturing run only)."""
        assert self.capture is not None, "a run that does not capture has nothing taken"
        return self.capture.taken()

    def advance(self, step: Step, part: Sequence[int]) -> None:
        mentors = {i: self.people.mentor_of[i] for i in part} if step.trigger == "match" else None
        result = services.advance_many(
            self.store, self.lifecycle, self.clock, part, step.trigger,
            actor=ACTOR, reason=step.reason, mentors=mentors,
        )  # fmt: skip
        if result.refused:
            first = next(iter(result.refused.items()))
            raise SystemExit(f"{step.trigger}: {len(result.refused)} refused, e.g. {first}")


# --- the ceiling ------------------------------------------------------------------------------


def prepare(store: Engine, policy: Policy, people: Population, step: Step, batch: int) -> None:
    """What happens before a step, untimed, on every store alike: the kickoffs before ``start``."""
    if step.trigger == "start":
        record_kickoffs(store, policy, people.rel_ids, step_moment(policy, step), batch)


def step_moment(policy: Policy, step: Step) -> datetime:
    """When the engine fires ``step``: at the start, or six months later for review and close."""
    return START if STEPS.index(step) < 3 else policy.program.duration.after(START)


def ceiling_rows(
    store: Engine, policy: Policy, people: Population, step: Step
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Precomputed parameters of the row updates and audit inserts of one step, from each row's head."""
    now = step_moment(policy, step)
    due = None if policy.phases[step.dest].terminal else next_due(policy, Standing(step.dest, now))
    r = relationships.c
    with store.connect() as conn:
        heads = {
            i: (v, seq, h)
            for i, v, seq, h in conn.execute(select(r.id, r.version, r.audit_seq, r.audit_head))
        }
    updates, entries = [], []
    for rel_id in people.rel_ids:
        version, seq, prev = heads[rel_id]
        head = f"{rel_id:032x}{seq + 1:032x}"
        updates.append(
            {"b_id": rel_id, "b_version": version, "phase": step.dest, "phase_entered_at": now,
             "due_at": due, "mentor_id": people.mentor_of[rel_id], "audit_seq": seq + 1, "audit_head": head}
        )  # fmt: skip
        entries.append(
            {"relationship_id": rel_id, "seq": seq + 1, "at": now, "actor": ACTOR, "trigger": step.trigger,
             "from_phase": step.source, "to_phase": step.dest, "reason": step.reason,
             "policy_name": policy.policy, "policy_version": policy.digest,
             "data": {**mentor_data(people, rel_id, step), "requires": list(step.requires)},
             "prev_hash": prev, "hash": head}
        )  # fmt: skip
    return updates, entries


def mentor_data(people: Population, rel_id: int, step: Step) -> dict[str, Any]:
    """What the audit entry of a match says about the mentor, as the engine writes it."""
    if step.trigger != "match":
        return {}
    mentor = people.mentor_of[rel_id]
    return {"mentor_id": mentor, "mentor": people.mentor_refs[mentor]}


CEILING_UPDATE = (
    update(relationships)
    .where(relationships.c.id == bindparam("b_id"), relationships.c.version == bindparam("b_version"))
    .values(
        phase=bindparam("phase"),
        phase_entered_at=bindparam("phase_entered_at"),
        due_at=bindparam("due_at"),
        mentor_id=bindparam("mentor_id"),
        version=relationships.c.version + 1,
        audit_seq=bindparam("audit_seq"),
        audit_head=bindparam("audit_head"),
    )
)


class CeilingRun:
    """The raw ceiling: the row update and audit insert of each transition, bare Core, precomputed values."""

    def __init__(self, store: Engine, policy: Policy, people: Population, batch: int) -> None:
        self.store, self.policy, self.people, self.batch = store, policy, people, batch
        self.timing = Timing()

    def step(self, step: Step) -> None:
        prepare(self.store, self.policy, self.people, step, self.batch)
        updates, entries = ceiling_rows(self.store, self.policy, self.people, step)
        with self.timing.measure(step.trigger):
            for start in range(0, len(updates), self.batch):
                with UnitOfWork(self.store) as uow:
                    moved = uow.conn.execute(CEILING_UPDATE, updates[start : start + self.batch]).rowcount
                    assert moved == len(updates[start : start + self.batch]), "ceiling: a row was not updated"
                    uow.conn.execute(insert(audit_entries), entries[start : start + self.batch])
                    uow.commit()


Statement = tuple[str, Any, bool]
"""A statement as the driver received it: its SQL, its parameters, whether it was an executemany."""


class Capture:
    """The statements an Engine sends to its driver, transaction by transaction, while ``on``."""

    def __init__(self, store: Engine) -> None:
        self.on, self.transactions, self._current = False, [], []  # type: ignore[var-annotated]
        event.listen(store, "before_cursor_execute", self._statement)
        event.listen(store, "commit", self._commit)

    def _statement(self, _conn: Any, _cursor: Any, sql: str, params: Any, _context: Any, many: bool) -> None:
        if self.on:
            self._current.append((sql, params, many))

    def _commit(self, _conn: Any) -> None:
        if self.on:
            self.transactions.append(self._current)
            self._current = []

    def taken(self) -> list[list[Statement]]:
        """The transactions captured since the last call."""
        taken, self.transactions = self.transactions, []
        return taken


class SameSqlRun:
    """The same-SQL ceiling: the engine's own statements for a step, replayed through the bare driver."""

    def __init__(self, store: Engine, policy: Policy, people: Population, batch: int) -> None:
        self.store, self.policy, self.people, self.batch = store, policy, people, batch
        self.timing = Timing()

    def step(self, step: Step, transactions: list[list[Statement]]) -> None:
        prepare(self.store, self.policy, self.people, step, self.batch)
        raw = self.store.raw_connection()
        try:
            dbapi = raw.driver_connection
            assert dbapi is not None
            with self.timing.measure(step.trigger):
                for statements in transactions:
                    cursor = dbapi.cursor()
                    for sql, params, many in statements:
                        if many:
                            cursor.executemany(sql, params)
                        else:
                            cursor.execute(sql, params)
                        if cursor.description is not None:
                            cursor.fetchall()
                    cursor.close()
                    dbapi.commit()
        finally:
            raw.close()


# --- the run ----------------------------------------------------------------------------------


@contextmanager
def profiled(path: str | None) -> Iterator[Callable[[Callable[[], None]], None]]:
    """Runs work, under pyinstrument (a text report written to ``path``) if a path is given."""
    if path is None:
        yield lambda work: work()
        return
    from pyinstrument import Profiler

    profiler = Profiler()

    def run(work: Callable[[], None]) -> None:
        profiler.start()
        try:
            work()
        finally:
            profiler.stop()

    yield run
    Path(path).write_text(profiler.output_text(unicode=True, show_all=False))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--relationships", type=int, default=100_000, metavar="N")
    parser.add_argument("--database", metavar="URL", help="PostgreSQL URL (default: temporary SQLite files)")
    parser.add_argument("--schema", default="mf_w3_bench", metavar="PREFIX",
                        help="prefix of the scratch schemas on PostgreSQL")  # fmt: skip
    parser.add_argument("--batch", type=int, default=5000, help="relationships per transaction")
    parser.add_argument("--runs", type=int, default=3, help="runs on fresh stores (min and median reported)")
    parser.add_argument("--check", action="store_true", help="exit 1 below the targets (median)")
    parser.add_argument("--profile", metavar="FILE", help="write a pyinstrument report of the engine part")
    args = parser.parse_args()
    if args.runs < 1 or args.relationships < 1 or args.batch < 1:
        parser.error("--runs, --relationships and --batch must be at least 1")
    return args


class Contents(NamedTuple):
    """What a run leaves behind, to compare stores."""

    rows: tuple[Any, ...]  # each relationship's id, version, phase and chain length
    heads: tuple[Any, ...]  # each relationship's chain head
    counts: tuple[Any, ...]  # audit entries and outbox rows
    keys: tuple[Any, ...]  # the outbox's idempotency keys


def contents(store: Engine) -> Contents:
    """What a run leaves behind: its rows, chain heads, row counts and outbox keys."""
    r = relationships.c
    with store.connect() as conn:
        rows = conn.execute(select(r.id, r.version, r.phase, r.audit_seq, r.audit_head).order_by(r.id)).all()
        counts = [
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("audit_entries", "outbox")
        ]
        keys = (
            conn.execute(text("SELECT idempotency_key FROM outbox ORDER BY idempotency_key")).scalars().all()
        )
    heads = tuple(row[-1] for row in rows)
    return Contents(tuple(row[:-1] for row in rows), heads, tuple(counts), tuple(keys))


def report(label: str, transitions: int, timing: Timing) -> float:
    """Print one line of a run's figures; its transitions per second."""
    wall, cpu = sum(timing.wall.values()), sum(timing.cpu.values())
    per_second = transitions / wall
    steps = ", ".join(f"{trigger} {s:.2f}" for trigger, s in timing.wall.items())
    print(
        f"  {label:<9} {wall:7.2f} s = {per_second:>8,.0f}/s (CPU {cpu:6.2f} s: {transitions / cpu:>8,.0f}/s)"
        f"  [{steps}]"
    )
    return per_second


def one_run(
    args: argparse.Namespace, policy: Policy, run: Callable[[Callable[[], None]], None]
) -> dict[str, float]:
    """One run on four fresh stores (the engine, the engine capturing its statements untimed, the raw
    ceiling, the same-SQL one); transitions/s of the timed three."""
    n, batch = args.relationships, args.batch
    with (
        scratch_store(args.database, "engine", args.schema) as engine_store,
        scratch_store(args.database, "capture", args.schema) as capture_store,
        scratch_store(args.database, "raw", args.schema) as raw_store,
        scratch_store(args.database, "same", args.schema) as same_store,
    ):
        began = time.perf_counter()
        engine = EngineRun(engine_store, policy, populate(engine_store, policy, n, batch), batch)
        people = populate(capture_store, policy, n, batch)
        capturing = EngineRun(capture_store, policy, people, batch, capture=True)
        raw = CeilingRun(raw_store, policy, populate(raw_store, policy, n, batch), batch)
        same = SameSqlRun(same_store, policy, populate(same_store, policy, n, batch), batch)
        setup = time.perf_counter() - began
        print(f"  setup: {n:,} relationships opened by the engine (on each store) in {setup:.1f} s")
        statements = 0
        for step in STEPS:
            run(partial(engine.step, step))  # first: no other run's statements are kept meanwhile
            capturing.step(step)
            transactions = capturing.taken()
            statements += sum(len(t) for t in transactions)
            raw.step(step)
            same.step(step, transactions)
            del transactions  # freed before the next timed step
        replayed = contents(same_store)
        if contents(capture_store) != replayed:
            raise SystemExit("the same-SQL replay did not leave its store as the capturing run left its own")
        if contents(engine_store)._replace(heads=()) != replayed._replace(heads=()):
            raise SystemExit("the timed engine run did not leave its store as the replay left its own")
    transitions = n * len(STEPS)
    print(f"  the engine sent {statements:,} statements in {len(STEPS) * -(-n // batch):,} transactions")
    rates = {label: report(label, transitions, t.timing) for label, t in
             (("engine", engine), ("raw", raw), ("same SQL", same))}  # fmt: skip
    return rates


def main() -> int:
    args = arguments()
    policy = load_policy(resolve_policy_path(None))
    with scratch_store(args.database, "probe", args.schema) as probe:
        version = database_version(probe)
    print(
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; Python {platform.python_version()}; "
        f"SQLAlchemy {sqlalchemy.__version__}; {version}"
    )
    print(
        f"settings: {args.relationships:,} relationships x {len(STEPS)} transitions, "
        f"batches of {args.batch:,}, "
        f"{args.runs} run(s), policy {policy.policy} ({policy.digest})"
    )
    ratios: dict[str, list[float]] = {ceiling: [] for ceiling in TARGETS}
    rates: dict[str, list[float]] = {}
    with profiled(args.profile) as profile:
        for number in range(args.runs):
            print(f"run {number + 1}:")
            measured = one_run(args, policy, profile if number == 0 else lambda work: work())
            for label, rate in measured.items():
                rates.setdefault(label, []).append(rate)
            for ceiling in TARGETS:
                ratios[ceiling].append(measured["engine"] / measured[ceiling])
            print("  ratio: " + ", ".join(f"{ratios[c][-1]:.3f} of the {c} ceiling" for c in TARGETS))
    print(f"over {args.runs} run(s), min / median:")
    for label, values in rates.items():
        print(f"  {label:<9} {min(values):>8,.0f} / {statistics.median(values):>8,.0f} transitions/s")
    below = False
    for ceiling, values in ratios.items():
        median = statistics.median(values)
        below |= median < TARGETS[ceiling]
        print(f"  engine / {ceiling:<9} {min(values):.3f} / {median:.3f} (target {TARGETS[ceiling]})")
    return 1 if args.check and below else 0


if __name__ == "__main__":
    sys.exit(main())
