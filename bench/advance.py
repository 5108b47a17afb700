"""How fast does the engine advance relationships, next to what the database allows?

    python bench/advance.py --relationships 100000 [--database URL] [--batch 5000] [--check]

Opens N relationships on a fresh store and fires the default policy's lifecycle
through the engine's batch path (``services.advance_many``), batch by batch:
match (with a mentor), schedule_kickoff, start, review (six simulated months
later) and close (with a reason): five transitions each. Only those calls are
timed. On a second fresh store holding the same rows it times the raw ceiling:
the same number of SQLAlchemy Core ``UPDATE relationships ... WHERE id = :id
AND version = :v`` plus an audit ``INSERT`` per transition, with precomputed
values, in transactions of the same size. The two run step by step in turn, so
that a machine busy with other work slows both alike.

Without ``--database`` both stores are temporary SQLite files. With a
PostgreSQL URL each store is a scratch schema, dropped afterwards.
``--check`` exits 1 when the engine reaches less than a quarter of the ceiling.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy
from sqlalchemy import Engine, bindparam, insert, text, update
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from population import MENTOR_CAPACITY, inserted_ids, participant_rows

from engine.clock import SimulatedClock
from engine.domain.cadence import Standing, next_due
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy, load_policy, resolve_policy_path
from engine.services import advance as services
from engine.services.participants import open_relationships
from engine.store.database import UnitOfWork, initialise, open_engine
from engine.store.tables import audit_entries, meetings, relationships

TARGET = 0.25
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
def scratch_store(url: str | None, name: str) -> Iterator[Engine]:
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
    schema = f"bench_{name}_{os.getpid()}"
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


def record_kickoffs(store: Engine, rel_ids: Sequence[int], now: datetime, batch: int) -> None:
    """Kickoff meetings held now, recorded in bulk as ``record_meeting`` would, due again."""
    for part in batches(rel_ids, batch):
        rows = [
            {
                "relationship_id": i,
                "kind": "kickoff",
                "held_on": now,
                "recorded_at": now,
                "recorded_by": ACTOR,
            }
            for i in part
        ]
        due = (
            update(relationships)
            .where(relationships.c.id == bindparam("b_id"), relationships.c.due_at.is_not(None))
            .values(due_at=now)
        )
        with UnitOfWork(store) as uow:
            uow.conn.execute(insert(meetings), rows)
            uow.conn.execute(due, [{"b_id": i} for i in part])
            uow.commit()


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

    def __init__(self, store: Engine, policy: Policy, people: Population, batch: int) -> None:
        self.store, self.policy, self.people, self.batch = store, policy, people, batch
        self.lifecycle = Lifecycle(policy)
        self.clock = SimulatedClock(START)
        self.timing = Timing()

    def step(self, step: Step) -> None:
        if step.trigger == "start":
            record_kickoffs(self.store, self.people.rel_ids, self.clock.now(), self.batch)
        if step.trigger == "review":
            self.clock.set(self.policy.program.duration.after(self.clock.now()))
        with self.timing.measure(step.trigger):
            for part in batches(self.people.rel_ids, self.batch):
                self.advance(step, part)

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


def ceiling_rows(
    policy: Policy, people: Population, step_no: int, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Precomputed parameters of the row updates and audit inserts of one step."""
    step = STEPS[step_no]
    due = None if policy.phases[step.dest].terminal else next_due(policy, Standing(step.dest, now))
    updates, entries = [], []
    for rel_id in people.rel_ids:
        seq = step_no + 2
        head = f"{rel_id:032x}{seq:032x}"
        updates.append(
            {"b_id": rel_id, "b_version": step_no + 1, "phase": step.dest, "phase_entered_at": now,
             "due_at": due, "mentor_id": people.mentor_of[rel_id], "audit_seq": seq, "audit_head": head}
        )  # fmt: skip
        entries.append(
            {"relationship_id": rel_id, "seq": seq, "at": now, "actor": ACTOR, "trigger": step.trigger,
             "from_phase": step.source, "to_phase": step.dest, "reason": step.reason,
             "policy_name": policy.policy, "policy_version": policy.digest,
             "data": {**mentor_data(people, rel_id, step), "requires": list(step.requires)},
             "prev_hash": f"{rel_id:032x}{seq - 1:032x}", "hash": head}
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
    """The same transitions written with bare Core statements and precomputed values."""

    def __init__(self, store: Engine, policy: Policy, people: Population, batch: int) -> None:
        self.store, self.policy, self.people, self.batch = store, policy, people, batch
        self.timing = Timing()

    def step(self, step: Step) -> None:
        step_no = STEPS.index(step)
        now = START if step_no < 3 else self.policy.program.duration.after(START)
        updates, entries = ceiling_rows(self.policy, self.people, step_no, now)
        with self.timing.measure(step.trigger):
            for start in range(0, len(updates), self.batch):
                with UnitOfWork(self.store) as uow:
                    moved = uow.conn.execute(CEILING_UPDATE, updates[start : start + self.batch]).rowcount
                    assert moved == len(updates[start : start + self.batch]), "ceiling: a row was not updated"
                    uow.conn.execute(insert(audit_entries), entries[start : start + self.batch])
                    uow.commit()


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
    parser.add_argument("--batch", type=int, default=5000, help="relationships per transaction")
    parser.add_argument("--check", action="store_true", help=f"exit 1 below {TARGET} of the ceiling")
    parser.add_argument("--profile", metavar="FILE", help="write a pyinstrument report of the engine part")
    return parser.parse_args()


def report(label: str, transitions: int, timing: Timing) -> float:
    wall, cpu = sum(timing.wall.values()), sum(timing.cpu.values())
    per_second = transitions / wall
    print(
        f"{label:<8} {transitions:>9,} transitions in {wall:7.2f} s = {per_second:>9,.0f} transitions/s "
        f"(CPU {cpu:.2f} s: {transitions / cpu:,.0f}/s)"
    )
    print(" " * 9 + ", ".join(f"{trigger} {s:.2f} s" for trigger, s in timing.wall.items()))
    return per_second


def main() -> int:
    args = arguments()
    policy = load_policy(resolve_policy_path(None))
    n, batch = args.relationships, args.batch
    with (
        scratch_store(args.database, "engine") as engine_store,
        scratch_store(args.database, "ceiling") as ceiling_store,
        profiled(args.profile) as run,
    ):
        print(
            f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs; "
            f"Python {platform.python_version()}; SQLAlchemy {sqlalchemy.__version__}; "
            f"{database_version(engine_store)} (sqlite3 module: SQLite {sqlite3.sqlite_version})"
        )
        began = time.perf_counter()
        engine = EngineRun(engine_store, policy, populate(engine_store, policy, n, batch), batch)
        ceiling = CeilingRun(ceiling_store, policy, populate(ceiling_store, policy, n, batch), batch)
        setup = time.perf_counter() - began
        print(f"setup:   {n:,} relationships opened by the engine (twice) in {setup:.1f} s")
        for step in STEPS:
            run(partial(engine.step, step))
            ceiling.step(step)
    transitions = n * len(STEPS)
    ratio = report("engine", transitions, engine.timing) / report("ceiling", transitions, ceiling.timing)
    print(f"ratio:   {ratio:.3f} of the ceiling (target {TARGET}), batches of {batch:,}")
    return 1 if args.check and ratio < TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
