"""How fast do commands that run no flow start? Prints the min and median wall time of each.

    python bench/startup.py [--runs 7]

Creates a scratch database with the example participants, then times
`mentorflow --help`, `mentorflow history 1` and, for contrast, `mentorflow status`.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def command() -> list[str]:
    script = Path(sys.executable).parent / "mentorflow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "workflows.cli"]


def timed(args: list[str], cwd: str, runs: int) -> tuple[float, float]:
    """The fastest and the median wall time of ``runs`` runs of ``mentorflow ARGS``, in seconds."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*command(), *args], cwd=cwd, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return min(samples), statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([*command(), "init"], cwd=scratch, check=True, capture_output=True)
        subprocess.run(
            [*command(), "participants", "import", str(ROOT / "examples" / "participants.csv")],
            cwd=scratch,
            check=True,
            capture_output=True,
        )
        for args in (["--help"], ["history", "1"], ["status"]):
            fastest, median = timed(args, scratch, runs)
            print(
                f"mentorflow {' '.join(args):<12} min {fastest * 1000:6.0f} ms, "
                f"median {median * 1000:6.0f} ms over {runs} runs"
            )


if __name__ == "__main__":
    main()
