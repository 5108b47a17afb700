"""Does delivery cost grow with the relationships, or only with the messages it sends?

    python bench/delivery.py [--small 10000] [--large 1000000] [--messages 6000] [--runs 3] [--keep] [--check]

Two SQLite stores, built with bulk inserts (setup, never timed), that differ only in
how many relationships they hold:

- small: ``--small`` relationships;
- large: ``--large`` relationships.

In both, the first ``--messages / 2`` relationships are active pairs with a mentor,
and each pair has two pending ``remind`` rows in the outbox (mentee and mentor):
``--messages`` messages due. The rest wait in intake, as most of a large program does.

Each run copies the store and delivers every due row as ``mentorflow tick`` does
(``deliver_due`` for the policy, 200 rows a claim, until nothing is left) through a
channel that only records what it is given, so no network is timed. The figure is
the wall time of the whole delivery; min and median of ``--runs`` runs per store.

Target: the large store's median is at most 1.2 times the small one's (delivery reads
the rows it sends and their pairs by key, not every relationship of the program).
``--check`` exits 1 when it is missed. The stores are built under /tmp; ``--keep``
keeps them there and reuses them on the next run with the same sizes (a 1M store
takes a few minutes to build).
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy
from population import person_row
from sqlalchemy import Engine, insert

from engine.delivery.channels import Channels, Message, ProgramInfo
from engine.domain.effects import outbox_row
from engine.services.delivery import DeliverySummary, deliver_due
from engine.store.database import SCHEMA_REVISION, UnitOfWork, initialise, open_engine
from engine.store.tables import outbox, participants, relationships

NOW = datetime(2025, 3, 3, 7, 0, tzinfo=UTC)
POLICY = "default"
CHUNK = 20_000
CLAIM = 200  # rows per claim, as `mentorflow tick` delivers
TARGET = 1.2
CACHE = Path(tempfile.gettempdir()) / "mentorflow-bench-delivery"


class RecordingChannel:
    """A channel that keeps count of what it is given and sends nothing."""

    name = "log"
    buffered = False
    delivered_as = "recorded by the benchmark"

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: Message) -> None:
        self.sent += 1

    def sync(self) -> None:
        return None


def _people(start: int, stop: int, role: str) -> list[dict[str, Any]]:
    when = NOW - timedelta(days=60)
    return [person_row(i, role, when, capacity=1, trained=role == "mentor") for i in range(start, stop)]


def _relationships(start: int, stop: int, pairs: int, mentors: int) -> list[dict[str, Any]]:
    opened = NOW - timedelta(days=60)
    return [
        {
            "id": i,
            "mentee_id": i,
            "mentor_id": (mentors + i) if i <= pairs else None,  # mentors get ids after the mentees
            "policy_name": POLICY,
            "phase": "active" if i <= pairs else "intake",
            "phase_entered_at": opened,
            "due_at": NOW + timedelta(days=7),
            "version": 1,
            "audit_seq": 1,
            "audit_head": "0" * 64,
            "created_at": opened,
        }
        for i in range(start, stop)
    ]


def _reminders(pairs: int) -> list[dict[str, Any]]:
    since = (NOW - timedelta(days=21)).isoformat()
    params = {"phase": "active", "kind": "check-in", "since": since}
    return [
        outbox_row(rel, f"rel:{rel}:bench:remind:{who}", "remind", {**params, "recipient": who}, NOW)
        for rel in range(1, pairs + 1)
        for who in ("mentee", "mentor")
    ]


def build(path: Path, total: int, messages: int) -> None:
    """A store of ``total`` relationships with ``messages`` due messages, written in bulk."""
    pairs = messages // 2
    store = open_engine(f"sqlite:///{path}")
    initialise(store)
    with UnitOfWork(store) as uow:
        for start in range(1, total + 1, CHUNK):
            stop = min(start + CHUNK, total + 1)
            uow.conn.execute(insert(participants), _people(start, stop, "mentee"))
        uow.conn.execute(insert(participants), _people(total + 1, total + pairs + 1, "mentor"))
        for start in range(1, total + 1, CHUNK):
            stop = min(start + CHUNK, total + 1)
            uow.conn.execute(insert(relationships), _relationships(start, stop, pairs, total))
        uow.conn.execute(insert(outbox), _reminders(pairs))
        uow.commit()
    with store.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    store.dispose()  # the last connection closed folds the WAL into the file, ready to copy


def template(total: int, messages: int, keep: bool, scratch: Path) -> tuple[Path, float]:
    """The built store for these sizes (reused from the cache with ``keep``), and the seconds it took."""
    name = f"delivery-{SCHEMA_REVISION}-{total}-{messages}.db"
    cached = CACHE / name
    if keep and cached.is_file():
        return cached, 0.0
    target = cached if keep else scratch / name
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    began = time.perf_counter()
    build(target, total, messages)
    return target, time.perf_counter() - began


def deliver_all(store: Engine) -> tuple[DeliverySummary, int]:
    """Deliver every due row of the policy, a claim at a time; what was done and the messages handed over."""
    channel = RecordingChannel()
    channels = Channels({"log": channel}, ("log",), {}, ProgramInfo())
    total = DeliverySummary()
    while True:
        done = deliver_due(store, channels, NOW, limit=CLAIM, policy_name=POLICY)
        if not done.claimed:
            return total, channel.sent
        total = total.merged(done)


def measure(built: Path, scratch: Path, runs: int, messages: int) -> list[float]:
    times = []
    for run in range(runs):
        copy = scratch / f"run-{run}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(built, copy)
        store = open_engine(f"sqlite:///{copy}", create=False)
        try:
            began = time.perf_counter()
            summary, sent = deliver_all(store)
            times.append(time.perf_counter() - began)
        finally:
            store.dispose()
        assert sent == messages and summary.delivered == messages, (sent, summary)
        copy.unlink()
    return times


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000, metavar="N", help="relationships, small store")
    parser.add_argument(
        "--large", type=int, default=1_000_000, metavar="N", help="relationships, large store"
    )
    parser.add_argument("--messages", type=int, default=6000, metavar="N", help="due messages in both (even)")
    parser.add_argument("--runs", type=int, default=3, help="deliveries measured per store (at least 3)")
    parser.add_argument(
        "--keep", action="store_true", help=f"keep the built stores in {CACHE} and reuse them"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args()
    if args.messages < 2 or args.messages % 2 or args.messages // 2 > args.small:
        parser.error(f"--messages: {args.messages} must be even, and at most twice --small ({args.small})")
    if args.runs < 3:
        parser.error(f"--runs: {args.runs} is too few for a median (at least 3)")
    return args


def main() -> int:
    args = arguments()
    print(
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}; SQLAlchemy {sqlalchemy.__version__}; "
        f"SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"settings: {args.messages:,} due messages ({args.messages // 2:,} pairs x mentee and mentor), "
        f"{CLAIM} rows a claim, recording channel, schema {SCHEMA_REVISION}, {args.runs} runs per store"
    )
    medians = {}
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-delivery-") as scratch_dir:
        scratch = Path(scratch_dir)
        for total in (args.small, args.large):
            built, seconds = template(total, args.messages, args.keep, scratch)
            setup = f"built in {seconds:.1f} s" if seconds else f"reused {built}"
            times = measure(built, scratch, args.runs, args.messages)
            medians[total] = statistics.median(times)
            print(
                f"{total:>10,} relationships: min {min(times) * 1000:7.0f} ms, "
                f"median {medians[total] * 1000:7.0f} ms ({setup})"
            )
    ratio = medians[args.large] / medians[args.small]
    print(f"ratio: {ratio:.2f} (large median / small median; target <= {TARGET})")
    return 1 if args.check and ratio > TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
