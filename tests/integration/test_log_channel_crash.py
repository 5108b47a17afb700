"""The log channel records each line as it writes it: a delivery that dies mid-batch repeats no line.

Two ways to die: a channel that raises a crash (not a delivery error) after N lines, in this process;
and a delivery in a child process killed with SIGKILL while it works. After the lease, a second run
delivers the rest; every message is in the file, and (but for the one line a kill can land between
its fsync and its record) none twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.delivery.channels import Message
from engine.delivery.channels.log import LogChannel
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import delivery as outbox

from .delivery_support import EXPECTED_MATCH_MESSAGES_BOTH, RETRY, channels_of, matched_pairs, statuses

ROOT = Path(__file__).parents[2]


class Crash(BaseException):
    """The process dying: nothing in delivery handles it."""


class CrashingLog(LogChannel):
    """The log channel, dying as it is about to write its ``lines + 1``-th line."""

    def __init__(self, path: Path, lines: int) -> None:
        super().__init__(path)
        self.left = lines

    def send(self, message: Message) -> None:
        if self.left == 0:
            raise Crash
        self.left -= 1
        super().send(message)


def keys(path: Path) -> Counter[str]:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return Counter(json.loads(line)["key"] for line in text.splitlines())


@pytest.fixture
def pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    return matched_pairs(store, policy, lifecycle, clock)


@pytest.mark.parametrize("lines", [1, 2, 4])
def test_a_crash_after_some_lines_repeats_none_of_them(
    store: Engine, pairs: list[int], clock: SimulatedClock, tmp_path: Path, lines: int
) -> None:
    log = tmp_path / "outbox.jsonl"
    with pytest.raises(Crash):
        outbox.deliver_due(store, channels_of(CrashingLog(log, lines)), clock.now())
    assert sum(keys(log).values()) == lines
    # (delivery may give the rows back on its way out, or leave them claimed until their lease ends)

    outbox.deliver_due(store, channels_of(LogChannel(log)), clock.now() + RETRY.lease)
    written = keys(log)
    assert len(written) == EXPECTED_MATCH_MESSAGES_BOTH
    assert set(written.values()) == {1}, f"duplicated: {[k for k, n in written.items() if n > 1]}"
    assert statuses(store)["sending"] == 0


def test_each_line_settles_its_row_at_once(
    store: Engine, pairs: list[int], clock: SimulatedClock, tmp_path: Path
) -> None:
    log = tmp_path / "outbox.jsonl"
    seen: list[Counter[str]] = []

    class Watching(LogChannel):
        def send(self, message: Message) -> None:
            seen.append(statuses(store))  # what the store says before each line
            super().send(message)

    outbox.deliver_due(store, channels_of(Watching(log)), clock.now())
    assert [counts["delivered"] for counts in seen][-1] > 0  # rows before the last were settled already
    assert len(keys(log)) == EXPECTED_MATCH_MESSAGES_BOTH


_CHILD = """
import sys, time
from engine.delivery.channels.log import LogChannel
from engine.services import delivery
from engine.store.database import open_engine
from tests.integration.delivery_support import channels_of
from datetime import datetime

class Slow(LogChannel):
    def send(self, message):
        time.sleep(0.25)
        super().send(message)

url, log, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
delivery.deliver_due(open_engine(url), channels_of(Slow(__import__("pathlib").Path(log))), now)
"""


def kill_after_two_lines(script: str, store: Engine, log: Path, clock: SimulatedClock) -> None:
    """Run the delivery ``script`` in a child process; kill it (SIGKILL) once ``log`` holds two lines."""
    url = store.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", script, url, str(log), clock.now().isoformat()],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while sum(keys(log).values()) < 2 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.poll() is None, f"the child ended before it was killed: {child.stderr.read()!r}"  # type: ignore[union-attr]
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stderr.close()  # type: ignore[union-attr]


def test_a_delivery_killed_mid_batch_repeats_at_most_the_line_it_was_writing(
    store: Engine, pairs: list[int], clock: SimulatedClock, tmp_path: Path
) -> None:
    log = tmp_path / "outbox.jsonl"
    kill_after_two_lines(_CHILD, store, log, clock)
    before = sum(keys(log).values())
    assert 2 <= before < EXPECTED_MATCH_MESSAGES_BOTH

    outbox.deliver_due(store, channels_of(LogChannel(log)), clock.now() + RETRY.lease)
    written = keys(log)
    assert len(written) == EXPECTED_MATCH_MESSAGES_BOTH
    assert sum(written.values()) - len(written) <= 1, f"duplicated: {written}"
    assert statuses(store)["sending"] == 0
