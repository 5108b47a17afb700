"""``mentorflow tick``: one cadence run and one delivery; a second at the same moment does nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.conftest import EXAMPLES, snapshot

pytestmark = pytest.mark.flows

Cli = Callable[..., tuple[int, str, str]]


def test_tick_twice_at_the_same_moment_changes_and_sends_nothing_the_second_time(
    cli: Cli, tmp_path: Path
) -> None:
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
