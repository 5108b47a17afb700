"""What does one cadence tick cost: engine work by what is due, and Prefect's overhead on top?

    python bench/tick.py [--relationships 100000] [--due 1000] [--runs 3] [--check]

Two SQLite stores, set up through the engine's batch services:

- large: ``--relationships`` relationships, of which ``--due`` are due (1%);
- small: only those ``--due`` relationships, all due.

The due ones are matched with a trained mentor an hour before the tick, so the
tick moves each to kickoff (phase change, audit entry, outbox rows); the others
were opened at the tick's moment and are due three weeks later. Each store is
copied before every measured tick, so each tick starts from the same state:

- engine: ``engine.tick.run_tick`` alone, no Prefect, in the flow's passes (a pair moved
  to kickoff is due again at once, so a second pass sets its next moment);
- flow: the ``cadence`` flow run (one task per batch of 500), wall time of the call;
- Prefect overhead: flow minus engine.

Targets: the large store's engine tick costs at most twice the small one's
(the tick reads what is due through the ``due_at`` index, not every
relationship); and Prefect's overhead does not grow with the relationships
(the same due work, so the same batches and task runs). ``--check`` exits 1
when a target is missed. Prefect runs on a temporary local server (started
once, before anything is timed) unless ``PREFECT_API_URL`` names one.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workflows.flows import environment

environment.prepare(environment.QUIET)  # Prefect's settings, before anything imports Prefect

import sqlalchemy  # noqa: E402
from population import MENTOR_CAPACITY, inserted_ids, participant_rows  # noqa: E402

from engine.clock import SimulatedClock  # noqa: E402
from engine.domain.lifecycle import Lifecycle  # noqa: E402
from engine.policy.model import Policy, load_policy, resolve_policy_path  # noqa: E402
from engine.services import advance as services  # noqa: E402
from engine.services.participants import open_relationships  # noqa: E402
from engine.services.tick import run_tick  # noqa: E402
from engine.store.database import initialise, open_engine  # noqa: E402

TICK = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
SETUP_BATCH = 5000
ENGINE_RATIO = 2.0
OVERHEAD_SLACK = 0.5  # seconds: noise allowed between the two overhead figures


def populate(path: Path, policy: Policy, total: int, due: int) -> None:
    """``total`` relationships, ``due`` of them due at TICK (matched to a trained mentor an hour before)."""
    store = open_engine(f"sqlite:///{path}")
    initialise(store)
    lifecycle = Lifecycle(policy)
    early = SimulatedClock(TICK - timedelta(days=30))
    mentors = inserted_ids(store, participant_rows(-(-due // MENTOR_CAPACITY), "mentor", early.now()))
    mentees = inserted_ids(store, participant_rows(total, "mentee", early.now()))
    due_rels: list[int] = []
    for start in range(0, due, SETUP_BATCH):
        part = mentees[start : min(start + SETUP_BATCH, due)]
        due_rels += open_relationships(store, policy, early, part, actor="bench")
    late = SimulatedClock(TICK)
    for start in range(due, total, SETUP_BATCH):
        part = mentees[start : start + SETUP_BATCH]
        open_relationships(store, policy, late, part, actor="bench")
    matching = SimulatedClock(TICK - timedelta(hours=1))
    for start in range(0, due, SETUP_BATCH):
        part = due_rels[start : start + SETUP_BATCH]
        wanted = {rel: mentors[(start + i) // MENTOR_CAPACITY] for i, rel in enumerate(part)}
        result = services.advance_many(
            store, lifecycle, matching, part, "match", actor="bench", mentors=wanted
        )
        assert not result.refused, next(iter(result.refused.values()))
    store.dispose()  # the last connection closed folds the WAL into the file, ready to copy


def fresh_copy(template: Path, scratch: Path, name: str) -> str:
    target = scratch / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def timed(work: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    result = work()
    return time.perf_counter() - began, result


def engine_tick(url: str, policy: Policy) -> tuple[float, object]:
    """``run_tick``: the passes the cadence flow makes, without Prefect."""
    store = open_engine(url)
    lifecycle = Lifecycle(policy)
    try:
        return timed(lambda: run_tick(store, lifecycle, TICK))
    finally:
        store.dispose()


def flow_tick(url: str, policy_path: str) -> tuple[float, object]:
    from workflows.flows import resources
    from workflows.flows.cadence import cadence

    try:
        return timed(lambda: cadence(database=url, policy=policy_path, now=TICK.isoformat()))
    finally:
        resources.forget_stores()


def measure(
    template: Path, scratch: Path, policy: Policy, policy_path: str, runs: int
) -> tuple[float, float]:
    """Median engine seconds and median flow seconds over ``runs`` ticks, each on a fresh copy."""
    engine_times, flow_times = [], []
    for run in range(runs):
        seconds, summary = engine_tick(fresh_copy(template, scratch, f"engine-{run}.db"), policy)
        engine_times.append(seconds)
        flow_seconds, flow_summary = flow_tick(fresh_copy(template, scratch, f"flow-{run}.db"), policy_path)
        flow_times.append(flow_seconds)
        assert summary == flow_summary, (summary, flow_summary)
    return statistics.median(engine_times), statistics.median(flow_times)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--relationships", type=int, default=100_000, metavar="N")
    parser.add_argument("--due", type=int, default=1000, metavar="N", help="due relationships in both stores")
    parser.add_argument("--runs", type=int, default=3, help="ticks measured per store (median)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def main() -> int:
    args = arguments()
    policy_path = str(resolve_policy_path(None).resolve())
    policy = load_policy(policy_path)
    import prefect

    print(
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; SQLAlchemy {sqlalchemy.__version__}; "
        f"SQLite {sqlite3.sqlite_version}; Prefect {prefect.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-tick-") as scratch_dir:
        scratch = Path(scratch_dir)
        began = time.perf_counter()
        large, small = scratch / "large.db", scratch / "small.db"
        populate(large, policy, args.relationships, args.due)
        populate(small, policy, args.due, args.due)
        setup = time.perf_counter() - began
        print(f"setup:    {args.relationships:,} + {args.due:,} relationships in {setup:.1f} s")
        warm, _ = flow_tick(fresh_copy(small, scratch, "warm-up.db"), policy_path)
        print(f"warm-up:  first flow run {warm:.1f} s (Prefect's start, not counted)")
        large_engine, large_flow = measure(large, scratch, policy, policy_path, args.runs)
        small_engine, small_flow = measure(small, scratch, policy, policy_path, args.runs)
    ratio = large_engine / small_engine
    print(
        f"engine:   {args.relationships:,} relationships, {args.due:,} due: {large_engine * 1000:7.0f} ms; "
        f"{args.due:,} relationships, all due: {small_engine * 1000:7.0f} ms; "
        f"ratio {ratio:.2f} (target <= {ENGINE_RATIO:.0f})"
    )
    large_overhead, small_overhead = large_flow - large_engine, small_flow - small_engine
    print(
        f"Prefect:  overhead of one tick (flow run minus engine work): {large_overhead * 1000:5.0f} ms with "
        f"{args.relationships:,} relationships, {small_overhead * 1000:5.0f} ms with {args.due:,} "
        f"(same due work, {-(-args.due // 500)} batch task run(s) a pass; target: within {OVERHEAD_SLACK} s)"
    )
    missed = ratio > ENGINE_RATIO or large_overhead > small_overhead + OVERHEAD_SLACK
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
