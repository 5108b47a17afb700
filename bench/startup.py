"""How fast do commands that run no flow start? Prints the min and median wall time of each, and its target.

    python bench/startup.py [--runs 7] [--check]

Creates scratch databases, then times `mentorflow --help`, `history 1`, `status` and
`relationships list`; `advance` (a real phase change: a different relationship is closed each
run) and `record meeting` (a real meeting, for a different matched relationship each run); then
`tick` with nothing due on a database of 1,000 relationships (no Prefect API configured: the
flows' work runs in the command's own process). Each command runs once untimed first (the first
run after a policy changes loads it in full and caches it, and compiles mentorflow's bytecode, as an
installed package has it, into the scratch folder). Besides wall time, each command's fastest CPU time
(user + system) is shown: on a machine shared with other work it moves less than the wall time. With
``--check`` the exit code is 1 when the fastest run of a command misses its target.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MENTOR = "T0001"


@dataclass(frozen=True)
class Case:
    """A command to time: its arguments for run ``n`` (0 is the untimed first run), where, its target."""

    label: str
    args: Callable[[int], list[str]]
    cwd: str
    target: float | None  # seconds; None: shown for contrast only
    note: str = ""


def command() -> list[str]:
    script = Path(sys.executable).parent / "mentorflow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "workflows.cli"]


def environment(cache: str) -> dict[str, str]:
    """No Prefect API (``tick`` runs in its own process), the default settings, a scratch cache, and
    bytecode written (to the scratch folder) even where the shell says not to: timing a compile per run
    would measure what no installed copy does."""
    dropped = ("PREFECT_API_URL", "MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return env | {"XDG_CACHE_HOME": cache, "PYTHONPYCACHEPREFIX": str(Path(cache) / "bytecode")}


def mentorflow(args: list[str], cwd: str, env: dict[str, str]) -> None:
    done = subprocess.run([*command(), *args], cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"mentorflow {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")


def timed(case: Case, runs: int, env: dict[str, str]) -> tuple[float, float, float]:
    """The fastest and the median wall time of ``runs`` runs (after one untimed run), and the fastest
    CPU time, in seconds."""
    mentorflow(case.args(0), case.cwd, env)
    samples, cpu = [], []
    for n in range(1, runs + 1):
        before, start = _children_cpu(), time.perf_counter()
        mentorflow(case.args(n), case.cwd, env)
        samples.append(time.perf_counter() - start)
        cpu.append(_children_cpu() - before)
    return min(samples), statistics.median(samples), min(cpu)


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def program(scratch: str, name: str, mentees: int, env: dict[str, str], *, mentor: bool = False) -> str:
    """A folder with a database of ``mentees`` mentees (each with a relationship in intake), a trained
    mentor with room for all of them if asked, and a mentorflow.toml with the log channel."""
    here = Path(scratch) / name
    here.mkdir()
    (here / "mentorflow.toml").write_text('[channels]\ndefault = ["log"]\n', encoding="utf-8")
    rows = [f"M{i:05d},mentee,Mentee {i},mentee{i}@example.com,," for i in range(mentees)]
    if mentor:
        rows.append(f"{MENTOR},mentor,Tess Mentor,mentor@example.com,{mentees},true")
    people = here / "people.csv"
    people.write_text("external_id,role,name,email,capacity,trained\n" + "\n".join(rows) + "\n", "utf-8")
    for args in (["init"], ["participants", "import", str(people)]):
        mentorflow(args, str(here), env)
    return str(here)


def cases(scratch: str, runs: int, env: dict[str, str]) -> list[Case]:
    """The commands to time. The work database: relationships 1..runs+1 are matched (a meeting is
    recorded for one of them each run), relationships above that are closed one per run."""
    small = program(scratch, "small", 14, env)
    work = program(scratch, "work", 2 * (runs + 1) + 5, env, mentor=True)
    for rel in range(1, runs + 2):
        mentorflow(["advance", str(rel), "match", "--mentor", MENTOR], work, env)
    big = program(scratch, "thousand", 1000, env)
    mentorflow(["tick"], big, env)  # the welcome messages delivered: nothing is due now
    closed = runs + 2
    return [
        Case("--help", lambda n: ["--help"], small, 0.2),
        Case("history 1", lambda n: ["history", "1"], small, 0.2),
        Case("status", lambda n: ["status"], small, 0.3),
        Case("relationships list", lambda n: ["relationships", "list"], small, 0.3),
        Case(
            "advance REL close",
            lambda n: ["advance", str(closed + n), "close", "--reason", "benchmark"],
            work,
            0.3,
            " (a different relationship each run)",
        ),
        Case(
            "record meeting REL",
            lambda n: ["record", "meeting", str(n + 1), "--kind", "check-in"],
            work,
            0.3,
            " (a different pair each run)",
        ),
        Case("tick", lambda n: ["tick"], big, None, " (1,000 relationships, nothing due)"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (at least 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a command misses its target")
    options = parser.parse_args()
    if options.runs < 3:
        parser.error("--runs: at least 3 (for a median worth the name)")
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores, "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python {platform.python_version()}"
    )
    print(f"settings: SQLite scratch databases, the default policy, log channel; {options.runs} runs each")
    missed = []
    with tempfile.TemporaryDirectory() as scratch:
        env = environment(str(Path(scratch) / "cache"))
        for case in cases(scratch, options.runs, env):
            fastest, median, cpu = timed(case, options.runs, env)
            verdict = "" if case.target is None else f", target {case.target * 1000:.0f} ms"
            if case.target is not None and fastest > case.target:
                verdict += " MISSED"
                missed.append(case.label)
            print(
                f"mentorflow {case.label:<20} min {fastest * 1000:6.0f} ms, "
                f"median {median * 1000:6.0f} ms, cpu {cpu * 1000:4.0f} ms{verdict}{case.note}"
            )
    if missed:
        print(f"missed (fastest run over its target): {', '.join(missed)}")
    if options.check and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
