"""How fast do commands that run no flow start? Prints the min and median wall time of each.

    python bench/startup.py [--runs 7]

Creates a scratch database with the example participants, then times
`mentorflow --help`, `mentorflow history 1` and, for contrast, `mentorflow status`; then
`mentorflow tick` with nothing due on a database of 1,000 relationships (no Prefect API
configured: the flows' work runs in the command's own process).
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
        subprocess.run([*command(), *args], cwd=cwd, check=True, capture_output=True, env=no_api())
        samples.append(time.perf_counter() - start)
    return min(samples), statistics.median(samples)


def thousand(scratch: str) -> str:
    """A directory holding a database of 1,000 relationships (mentees just imported: nothing due yet)
    and a mentorflow.toml with the log channel; one tick has delivered their welcome messages."""
    here = Path(scratch) / "thousand"
    here.mkdir()
    (here / "mentorflow.toml").write_text('[channels]\ndefault = ["log"]\n', encoding="utf-8")
    rows = [f"M{i:05d},mentee,Mentee {i},mentee{i}@example.com" for i in range(1000)]
    people = here / "people.csv"
    people.write_text("external_id,role,name,email\n" + "\n".join(rows) + "\n", encoding="utf-8")
    for args in (["init"], ["participants", "import", str(people)], ["tick"]):
        subprocess.run([*command(), *args], cwd=here, check=True, capture_output=True, env=no_api())
    return str(here)


def no_api() -> dict[str, str]:
    """The environment without a Prefect API: ``tick`` runs in its own process."""
    return {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}


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
        big = thousand(scratch)
        cases = [(["--help"], scratch, ""), (["history", "1"], scratch, ""), (["status"], scratch, "")]
        cases.append((["tick"], big, " (1,000 relationships, nothing due)"))
        for args, cwd, note in cases:
            fastest, median = timed(args, cwd, runs)
            print(
                f"mentorflow {' '.join(args):<12} min {fastest * 1000:6.0f} ms, "
                f"median {median * 1000:6.0f} ms over {runs} runs{note}"
            )


if __name__ == "__main__":
    main()
