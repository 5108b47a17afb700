"""``mentorflow tick``: one cadence run and one delivery; a second at the same moment does nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import EXAMPLES, snapshot
from tests.integration.support import without_paused_text

pytestmark = pytest.mark.flows

Cli = Callable[..., tuple[int, str, str]]
LOG_CHANNEL = '[channels]\ndefault = ["log"]\n'


def test_tick_twice_at_the_same_moment_changes_and_sends_nothing_the_second_time(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "mentorflow.toml").write_text(LOG_CHANNEL, encoding="utf-8")
    assert cli("init")[0] == 0
    assert cli("participants", "import", str(EXAMPLES))[0] == 0
    assert cli("advance", "1", "match", "--mentor", "E1002")[0] == 0  # a trained mentor: kickoff is next
    moment = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")

    code, out, err = cli("tick", "--now", moment)
    assert code == 0, err
    assert "schedule_kickoff 1" in out
    assert "escalation(s)" in out and " 0 escalation(s)" not in out  # the unmatched, after 21 days
    log = tmp_path / "mentorflow-outbox.jsonl"
    sent = log.read_text(encoding="utf-8").splitlines()
    assert sent, "the first tick delivers what it caused"
    before = snapshot(tmp_path / "mentorflow.db")

    code, out, err = cli("tick", "--now", moment)
    assert code == 0, err
    assert "0 due relationship(s) examined" in out
    assert "0 outbox row(s) due" in out
    assert snapshot(tmp_path / "mentorflow.db") == before
    assert log.read_text(encoding="utf-8").splitlines() == sent


def test_tick_refuses_an_uninitialised_store_before_starting_prefect(cli: Cli) -> None:
    code, _, err = cli("tick")
    assert code == 2
    assert "mentorflow init" in err


def test_tick_with_a_policy_ticks_its_program_only_and_names_pairs_in_a_removed_phase(
    cli: Cli, tmp_path: Path
) -> None:
    (tmp_path / "mentorflow.toml").write_text(LOG_CHANNEL, encoding="utf-8")
    assert cli("init")[0] == 0
    assert cli("participants", "import", str(EXAMPLES), "--policy", "with-pause")[0] == 0
    hires = tmp_path / "new-hires.csv"
    hires.write_text("role,name,email\nmentee,Mila Jansen,mila.jansen@example.com\n", encoding="utf-8")
    assert cli("participants", "import", str(hires), "--policy", "onboarding-buddy")[0] == 0
    for step in (
        ["advance", "1", "match", "--mentor", "E1002"],
        ["advance", "1", "schedule_kickoff"],
        ["record", "meeting", "1", "--kind", "kickoff"],
        ["advance", "1", "start"],
        ["advance", "1", "pause", "--reason", "parental leave"],
    ):
        assert cli(*step, "--policy", "with-pause")[0] == 0, step
    newer = tmp_path / "with-pause-v2.yaml"
    newer.write_text(without_paused_text(), encoding="utf-8")
    before = snapshot(tmp_path / "mentorflow.db")
    moment = (datetime.now(UTC) + timedelta(days=100)).strftime("%Y-%m-%dT%H:%M")

    code, out, err = cli("--policy-version-pinned", "tick", "--now", moment, "--policy", str(newer))

    assert code == 0, err
    assert "13 due relationship(s) examined" in out  # the 13 unmatched; not the paused pair, not the new hire
    assert "1 relationship(s) are in a phase the policy no longer has: paused 1" in out
    after = snapshot(tmp_path / "mentorflow.db")
    assert [row for row in after["relationships"] if row[0] in (1, 15)] == [
        row for row in before["relationships"] if row[0] in (1, 15)
    ]


def test_without_a_prefect_api_tick_runs_in_its_own_process_without_importing_prefect(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.e2e.test_flow_commands_light import PROBE, ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORFLOW_"))}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect-home"), "PYTHONPATH": str(ROOT)}
    (tmp_path / "mentorflow.toml").write_text(LOG_CHANNEL, encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", PROBE, *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    assert run("init").returncode == 0
    assert run("participants", "import", str(EXAMPLES)).returncode == 0
    done = run("tick")
    assert "working in this process" in done.stderr  # the progress line, before the work
    assert "PREFECT False" in done.stderr, done.stderr
    assert "0 due relationship(s) examined" in done.stdout
    assert "delivery: 0 outbox row(s) due" in done.stdout and done.returncode == 0
