"""How fast, and in how much memory, does `mentorflow participants import` take a large HR export?

    python bench/import.py [--sizes 10000 100000] [--runs 3] [--check]

Writes a participants CSV of N people (one mentor in five, lists, reporting
lines, time zones, as in examples/participants.csv), then per run: a fresh SQLite
database (`mentorflow init`, not timed), the import timed as a subprocess, and a
re-import of the same file (everyone unchanged). Prints the machine, the
settings, and the min and median wall time and peak RSS of each. ``--check``
exits 1 when a target is missed: 100,000 people in under 20 s and 300 MB, 10,000
in under 3 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

COLUMNS = (
    "external_id", "role", "name", "email", "department", "manager_id", "level", "skills", "wants",
    "goals", "interests", "values", "work_style", "communication", "languages", "timezone",
    "capacity", "trained",
)  # fmt: skip
DEPARTMENTS = ("Engineering", "Finance", "Operations", "HR", "Sales", "Legal", "Marketing")
SKILLS = ("coaching", "negotiation", "public speaking", "software architecture", "lean", "feedback")
INTERESTS = ("cycling", "jazz", "reading", "sailing", "cooking", "board games", "yoga")
VALUES = ("openness", "autonomy", "reliability", "inclusion", "collaboration")
STYLES = ("structured", "flexible", "collaborative", "hands-on")
CHANNELS = ("direct", "written", "video", "in person", "informal")
LANGUAGES = ("nl", "en", "de", "fr")
ZONES = ("Europe/Amsterdam", "Europe/Berlin", "Europe/London", "Europe/Oslo")
TARGETS = {100_000: (20.0, 300.0), 10_000: (3.0, None)}  # people: (seconds, MB)


def command() -> list[str]:
    script = Path(sys.executable).parent / "mentorflow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "workflows.cli"]


def pick(items: tuple[str, ...], i: int, count: int) -> str:
    return ";".join(items[(i + k) % len(items)] for k in range(count))


def person(i: int) -> list[str]:
    """Row ``i``: every fifth person a mentor; each reports to a mentor with a smaller number."""
    mentor = i % 5 == 0
    manager = f"P{(i // 50) * 5:07d}" if i >= 5 else ""
    return [
        f"P{i:07d}", "mentor" if mentor else "mentee", f"Person {i} van den Bergh",
        f"person{i}@example.com", DEPARTMENTS[i % len(DEPARTMENTS)], manager, str(3 + i % 4),
        pick(SKILLS, i, 3) if mentor else "", "" if mentor else pick(SKILLS, i, 2),
        "" if mentor else "grow into a lead role;learn to negotiate", pick(INTERESTS, i, 2),
        pick(VALUES, i, 2), pick(STYLES, i, 1), pick(CHANNELS, i, 2), pick(LANGUAGES, i, 2),
        ZONES[i % len(ZONES)], str(1 + i % 3) if mentor else "1", "yes" if mentor and i % 2 else "no",
    ]  # fmt: skip


def write_csv(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(person(i) for i in range(count))


@dataclass(frozen=True)
class Run:
    seconds: float
    megabytes: float
    cpu: float  # user + system seconds: what the wall time would be on an idle machine, roughly


def measured(args: list[str], cwd: Path) -> Run:
    """Wall time, peak RSS and CPU time of one `mentorflow ARGS` (its own rusage, from wait4)."""
    with (cwd / "out.log").open("wb") as log:
        start = time.perf_counter()
        child = subprocess.Popen([*command(), *args], cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"mentorflow {' '.join(args)} failed:\n{(cwd / 'out.log').read_text()}")
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
    return Run(seconds, usage.ru_maxrss / scale, usage.ru_utime + usage.ru_stime)


def one_size(scratch: Path, count: int, runs: int) -> tuple[list[Run], list[Run]]:
    """(first imports, re-imports) of ``count`` people, each on a fresh database."""
    people = scratch / f"people-{count}.csv"
    write_csv(people, count)
    first, again = [], []
    for n in range(runs):
        here = scratch / f"run-{count}-{n}"
        here.mkdir()
        subprocess.run([*command(), "init"], cwd=here, check=True, capture_output=True)
        first.append(measured(["participants", "import", str(people)], here))
        again.append(measured(["participants", "import", str(people)], here))
    return first, again


def summary(label: str, runs: list[Run]) -> str:
    secs, mbs, cpu = [r.seconds for r in runs], [r.megabytes for r in runs], [r.cpu for r in runs]
    return (
        f"{label:<20} wall min {min(secs):6.2f} s, median {statistics.median(secs):6.2f} s; "
        f"CPU median {statistics.median(cpu):6.2f} s; "
        f"peak RSS min {min(mbs):4.0f} MB, median {statistics.median(mbs):4.0f} MB"
    )


def missed(count: int, runs: list[Run]) -> list[str]:
    """The targets the median of ``runs`` misses."""
    seconds, megabytes = TARGETS.get(count, (None, None))
    wall, rss = statistics.median(r.seconds for r in runs), statistics.median(r.megabytes for r in runs)
    found = []
    if seconds is not None and wall >= seconds:
        found.append(f"{count:,} people: {wall:.2f} s (target: under {seconds:g} s)")
    if megabytes is not None and rss >= megabytes:
        found.append(f"{count:,} people: {rss:.0f} MB (target: under {megabytes:g} MB)")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args()
    print(
        f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"Python {platform.python_version()}"
    )
    print(f"settings: SQLite file, default policy, sizes {options.sizes}, {options.runs} runs each")
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as scratch:
        for count in options.sizes:
            first, again = one_size(Path(scratch), count, options.runs)
            print(summary(f"{count:,} import", first))
            print(summary(f"{count:,} re-import", again))
            problems += missed(count, first)
    for problem in problems:
        print(f"missed: {problem}")
    if options.check and problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
