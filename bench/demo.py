"""How long does ``mentorflow demo`` take? Prints the machine, its load, each run's wall and CPU time.

    python bench/demo.py [--runs 3] [--check] [-- DEMO OPTIONS]

Each run is ``mentorflow demo`` (150 mentees, 60 mentors, a year, unless options after ``--`` say
otherwise) in a fresh temporary directory, as a subprocess with the default settings and no Prefect
API configured (the demo starts its own temporary server, as it does for an operator). CPU time is
the user + system time of the demo and of the children it waited for (Prefect's temporary server
among them). On a shared machine the CPU time says more than the wall time; both are shown with
their min and median.
With ``--check`` the exit code is 1 when the median wall time is above the target (20 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TARGET_SECONDS = 20.0


@dataclass(frozen=True)
class Sample:
    """One run of the demo: its wall time and the CPU time it and its children used, in seconds."""

    wall: float
    cpu: float


def command() -> list[str]:
    script = Path(sys.executable).parent / "mentorflow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "workflows.cli"]


def environment(cache: str) -> dict[str, str]:
    """No Prefect API, no settings of the caller's, a scratch cache."""
    dropped = ("PREFECT_API_URL", "MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "MENTORFLOW_SETTINGS")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return env | {"XDG_CACHE_HOME": cache, "COLUMNS": "100"}


def run_once(options: list[str]) -> Sample:
    """``mentorflow demo OPTIONS`` in a fresh directory; its wall time and its children's CPU time."""
    with tempfile.TemporaryDirectory(prefix="mentorflow-bench-demo-") as here:
        env = environment(str(Path(here) / "cache"))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [*command(), "demo", *options], cwd=here, capture_output=True, text=True, env=env
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"mentorflow demo failed ({done.returncode}):\n{done.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(wall, cpu)


def machine() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    python = platform.python_version()
    return f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {python}, load {load}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs (at least 3)")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 when the median wall is above {TARGET_SECONDS:g} s"
    )
    parser.add_argument("options", nargs="*", help="options for `mentorflow demo` (after --)")
    args = parser.parse_args()
    runs = max(args.runs, 3)
    print(f"machine: {machine()}")
    samples = []
    for n in range(1, runs + 1):
        sample = run_once(args.options)
        samples.append(sample)
        load = os.getloadavg()[0]
        print(f"run {n}: wall {sample.wall:6.2f} s  cpu {sample.cpu:6.2f} s  (load {load:.2f})", flush=True)
    walls, cpus = [s.wall for s in samples], [s.cpu for s in samples]
    wall = statistics.median(walls)
    print(f"wall: min {min(walls):.2f} s, median {wall:.2f} s (target {TARGET_SECONDS:g} s)")
    cpu = statistics.median(cpus)
    print(f"cpu (user+sys of the demo and its children): min {min(cpus):.2f} s, median {cpu:.2f} s")
    print(f"machine after: {machine()}")
    return 1 if args.check and wall > TARGET_SECONDS else 0


if __name__ == "__main__":
    raise SystemExit(main())
