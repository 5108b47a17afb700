"""How fast and how good is the optimal matching, next to a greedy baseline on the same input?

    python bench/matching.py [--mentees 2000] [--mentors 500] [--seed 1] [--check]
    python bench/matching.py --cli [--runs 3] [--formats table json csv] [--check]

Builds a synthetic pool (deterministic for a seed): mentors with capacities
1 to 4, skills of uneven popularity (so mentees compete for the scarce ones),
goals, interests, values, languages, time zones, departments, levels and
reporting lines. Scores and constraints are computed once (``prepare``), then
each method assigns on the same input: ``optimal`` (the engine's default),
``stable`` (Gale–Shapley) and ``greedy`` (each mentee in turn takes the best
mentor who still has a place). ``--check`` exits 1 when the optimal assignment
takes 2 s or more, or scores below the greedy baseline.

``--cli`` times the real command end to end instead: the same pool written as a
participants CSV and imported into a scratch SQLite database (not timed), then
per format and run a fresh copy of that database and ``mentorflow match
propose --format F`` as a subprocess (its output read through a pipe, at
``COLUMNS=120``). Prints min and median wall time and CPU time (user + system)
per format; ``--check`` exits 1 when a median wall time reaches 2 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.domain.participants import Participant
from engine.matching.assignment import blocking_pairs, total
from engine.matching.proposals import Instance, Pool, assign, explain, prepare
from engine.policy.matching import MatchingPolicy

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LIMIT_SECONDS = 2.0
TOPICS = [f"{a} {b}" for a in ("data", "cloud", "sales", "finance", "people", "product", "supply", "legal")
          for b in ("strategy", "analysis", "operations", "architecture", "management", "negotiation",
                    "coaching", "planning", "design", "reporting")]  # fmt: skip
INTERESTS = ["running", "cycling", "chess", "cooking", "music", "theatre", "hiking", "gaming", "reading",
             "photography", "sailing", "yoga", "football", "baking", "travel", "climbing"]  # fmt: skip
VALUES = ["openness", "reliability", "curiosity", "craftsmanship", "inclusion", "autonomy", "ambition",
          "collaboration", "sustainability", "customer focus"]  # fmt: skip
STYLES = ["structured", "flexible", "hands-on", "async", "deep focus", "collaborative", "planner"]
CHANNELS = ["in person", "video", "written", "direct", "informal"]
LANGUAGES = ["nl", "en", "de", "fr", "es", "pl"]
ZONES = ["Europe/Amsterdam"] * 6 + ["Europe/London", "Europe/Warsaw", "America/New_York", "Asia/Kolkata"]
GOALS = ["lead a {t} team", "present {t} to the board", "become an expert in {t}", "move into {t}",
         "improve {t} for customers"]  # fmt: skip


def pool(mentees: int, mentors: int, seed: int) -> Pool:
    rng = random.Random(seed)
    popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(TOPICS))]

    def topics(k: int) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rng.choices(TOPICS, popularity, k=k)))

    def person(key: str, role: str, manager: str | None, level: int) -> Participant:
        first = rng.choice(LANGUAGES)
        return Participant(
            external_id=key,
            role=role,
            name=key,
            email=f"{key.lower()}@example.com",
            department=f"D{rng.randrange(12)}",
            manager_id=manager,
            level=level,
            skills=topics(rng.randint(3, 6)) if role == "mentor" else (),
            wants=topics(rng.randint(2, 4)) if role == "mentee" else (),
            goals=tuple(rng.choice(GOALS).format(t=rng.choice(TOPICS)) for _ in range(2)),
            interests=tuple(rng.sample(INTERESTS, 3)),
            values=tuple(rng.sample(VALUES, 3)),
            work_style=tuple(rng.sample(STYLES, 2)),
            communication=tuple(rng.sample(CHANNELS, 2)),
            languages=tuple(dict.fromkeys([first, "en"] if rng.random() < 0.9 else [first])),
            timezone=rng.choice(ZONES),
            capacity=rng.randint(1, 4) if role == "mentor" else 1,
        )

    mentor_keys = [f"M{j:04d}" for j in range(mentors)]
    the_mentors = [
        person(
            key,
            "mentor",
            rng.choice(mentor_keys[:j]) if j and rng.random() < 0.5 else None,
            rng.randint(3, 7),
        )
        for j, key in enumerate(mentor_keys)
    ]
    the_mentees = [
        person(
            f"E{i:05d}",
            "mentee",
            rng.choice(mentor_keys) if rng.random() < 0.3 else f"X{i}",
            rng.randint(1, 4),
        )
        for i in range(mentees)
    ]
    managers = {p.key: p.manager_id for p in (*the_mentees, *the_mentors) if p.manager_id}
    return Pool(the_mentees, the_mentors, managers=managers)


def timed_assign(instance: Instance, mode: str) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    chosen = assign(instance, mode)
    return chosen, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentees", type=int, default=2000)
    parser.add_argument("--mentors", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--cli", action="store_true", help="time `mentorflow match propose` end to end")
    parser.add_argument("--runs", type=int, default=3, help="runs per format (with --cli)")
    parser.add_argument("--formats", nargs="+", default=["table", "json", "csv"], help="with --cli")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()} {_cpu()}, {os.cpu_count()} cores, load {_load()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}"
    )
    the_pool = pool(args.mentees, args.mentors, args.seed)
    if args.cli:
        end_to_end(the_pool, args)
        return
    places = sum(m.capacity for m in the_pool.mentors)
    policy = MatchingPolicy()
    print(
        f"pool: {args.mentees} mentees, {args.mentors} mentors (capacities 1-4: {places} places), "
        f"seed {args.seed}; default matching policy (min score {policy.min_score})"
    )
    start = time.perf_counter()
    instance = prepare(the_pool, policy, NOW)
    scoring = time.perf_counter() - start
    pairs = args.mentees * args.mentors
    print(
        f"scores and constraints for all {pairs:,} pairs: {scoring:.2f} s "
        f"({int(instance.acceptable.sum()):,} acceptable)"
    )
    print(f"{'method':<9}{'time':>9}{'matched':>9}{'total score':>13}{'mean':>7}{'blocking pairs':>16}")
    results = {}
    scores = instance.scores.total
    for mode in ("optimal", "stable", "greedy"):
        chosen, seconds = timed_assign(instance, mode)
        value = total(scores, chosen)
        matched = int((chosen >= 0).sum())
        blocking = len(blocking_pairs(scores, instance.acceptable, instance.places, chosen))
        results[mode] = (chosen, seconds, value)
        mean = value / max(matched, 1)
        print(f"{mode:<9}{seconds:>7.2f} s{matched:>9}{value:>13.2f}{mean:>7.3f}{blocking:>16}")
    gain = results["optimal"][2] - results["greedy"][2]
    print(
        f"optimal over greedy: {gain:+.2f} total score ({gain / results['greedy'][2]:+.1%}) "
        "on the same input; "
        f"optimal assignment {results['optimal'][1]:.2f} s (limit {LIMIT_SECONDS:.0f} s), "
        f"with scoring {scoring + results['optimal'][1]:.2f} s"
    )
    start = time.perf_counter()
    explain(instance, results["optimal"][0])
    print(f"explanations for every mentee: {time.perf_counter() - start:.2f} s")
    if args.check and (results["optimal"][1] >= LIMIT_SECONDS or gain < -1e-9):
        sys.exit(1)


CSV_COLUMNS = (
    "external_id", "role", "name", "email", "department", "manager_id", "level", "skills", "wants",
    "goals", "interests", "values", "work_style", "communication", "languages", "timezone", "capacity",
)  # fmt: skip


def write_participants(the_pool: Pool, path: Path) -> None:
    """The pool as HR would export it (mentors first, so every reporting line names someone known)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for p in (*the_pool.mentors, *the_pool.mentees):
            values = [getattr(p, name) for name in CSV_COLUMNS]
            writer.writerow(
                ";".join(v) if isinstance(v, tuple) else "" if v is None else str(v) for v in values
            )


def mentorflow() -> list[str]:
    script = Path(sys.executable).parent / "mentorflow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "workflows.cli"]


def end_to_end(the_pool: Pool, args: argparse.Namespace) -> None:
    """``mentorflow match propose`` per format on a fresh copy of one imported database."""
    env = {**os.environ, "COLUMNS": "120", "MENTORFLOW_ACTOR": "bench"}
    for name in ("MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "MENTORFLOW_CONFIG"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-") as scratch:
        base, people = Path(scratch) / "base.db", Path(scratch) / "participants.csv"
        write_participants(the_pool, people)
        for step in (["init"], ["participants", "import", str(people)]):
            subprocess.run([*mentorflow(), *step, "--database", f"sqlite:///{base}"], env=env, check=True,
                           capture_output=True)  # fmt: skip
        print(
            f"end to end: {len(the_pool.mentees)} mentees and {len(the_pool.mentors)} mentors imported "
            f"into SQLite, default policy, {args.runs} run(s) per format, each on a fresh copy, COLUMNS=120"
        )
        print(f"{'format':<8}{'min':>8}{'median':>9}{'cpu min':>10}{'cpu median':>12}{'output':>10}")
        medians = []
        for format in args.formats:
            seconds, cpu, size = [], [], 0
            for run in range(args.runs):
                db = Path(scratch) / f"{format}-{run}.db"
                shutil.copy(base, db)
                command = [
                    *mentorflow(),
                    "match",
                    "propose",
                    "--format",
                    format,
                    "--database",
                    f"sqlite:///{db}",
                ]
                used, start = _children_cpu(), time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True, check=True)
                seconds.append(time.perf_counter() - start)
                cpu.append(_children_cpu() - used)
                size = len(done.stdout)
            medians.append(statistics.median(seconds))
            print(
                f"{format:<8}{min(seconds):>6.2f} s{medians[-1]:>7.2f} s{min(cpu):>8.2f} s"
                f"{statistics.median(cpu):>10.2f} s{size / 1000:>7.0f} kB"
            )
    print(f"limit {LIMIT_SECONDS:.0f} s per run (median)")
    if args.check and max(medians) >= LIMIT_SECONDS:
        sys.exit(1)


def _children_cpu() -> float:
    """User and system CPU seconds of the finished child processes (less noisy than wall time on a
    shared machine)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or ""


if __name__ == "__main__":
    main()
