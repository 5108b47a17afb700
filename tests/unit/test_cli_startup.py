"""While a command starts, the cyclic garbage collector runs rarely; a caller's collector is left as found."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import workflows.cli
from workflows.cli import STARTING_THRESHOLD, main, started

ROOT = Path(__file__).parents[2]


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield gc.get_threshold()
    gc.set_threshold(*before)


def test_a_command_run_in_process_leaves_the_collector_as_it_found_it(
    thresholds: tuple[int, int, int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[tuple[int, int, int]] = []
    real = workflows.cli.started

    def spy() -> None:
        seen.append(gc.get_threshold())
        real()
        seen.append(gc.get_threshold())

    monkeypatch.setattr(workflows.cli, "started", spy)
    monkeypatch.chdir(tmp_path)
    frozen = gc.get_freeze_count()
    with pytest.raises(SystemExit):  # an uninitialised store: the command started, then failed
        main(["status", "--database", f"sqlite:///{tmp_path / 'none.db'}"])
    assert seen == [(STARTING_THRESHOLD, 10, 10), thresholds]
    assert gc.get_threshold() == thresholds and gc.isenabled()
    assert gc.get_freeze_count() == frozen  # only a process that ends with the command freezes


def test_a_command_that_never_starts_its_work_restores_the_collector(
    thresholds: tuple[int, int, int],
) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert gc.get_threshold() == thresholds


def test_started_outside_a_command_changes_nothing(thresholds: tuple[int, int, int]) -> None:
    frozen = gc.get_freeze_count()
    started()
    assert gc.get_threshold() == thresholds and gc.get_freeze_count() == frozen


def test_the_process_of_a_command_freezes_what_its_start_made(tmp_path: Path) -> None:
    probe = (
        "import gc, sys\n"
        "import workflows.cli\n"
        "real = workflows.cli.started\n"
        "def spy():\n"
        "    real()\n"
        "    frozen = gc.get_freeze_count() > 10000\n"
        "    print('frozen', frozen, 'thresholds', gc.get_threshold(), file=sys.stderr)\n"
        "workflows.cli.started = spy\n"
        "sys.argv = ['mentorflow', 'policy', 'show']\n"
        "workflows.cli.main()\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("MENTORFLOW_POLICY", None)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert "frozen True thresholds (700, 10, 10)" in done.stderr, done.stderr  # Python's own thresholds
