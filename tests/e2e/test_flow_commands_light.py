"""Commands that run no flow never import Prefect, though ``tick``, ``serve`` and ``demo`` are registered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PROBE = (
    "import sys\n"
    "from workflows.cli import main\n"
    "try:\n    main(sys.argv[1:])\n"
    "except SystemExit:\n    pass\n"
    "print('PREFECT', 'prefect' in sys.modules, file=sys.stderr)\n"
)


@pytest.mark.parametrize(
    "args",
    [["--help"], ["tick", "--help"], ["serve", "--help"], ["demo", "--help"], ["status"], ["init"]],
)
def test_no_prefect_without_a_flow(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MENTORFLOW_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "PREFECT False" in done.stderr, (args, done.stderr)


def test_tick_on_an_uninitialised_store_fails_before_prefect_starts(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MENTORFLOW_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "tick"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "mentorflow init" in done.stderr
    assert "PREFECT False" in done.stderr
