"""``[channels.log] fsync = false``: no disk flush per line, and still no line lost or repeated when the
process dies (a line written is the kernel's); only a power cut can cost the last lines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.delivery.channels.config import channels_from
from engine.delivery.channels.log import LogChannel
from engine.domain.lifecycle import Lifecycle
from engine.errors import ConfigError
from engine.policy.model import Policy
from engine.services import delivery as outbox

from .delivery_support import EXPECTED_MATCH_MESSAGES_BOTH, RETRY, channels_of, matched_pairs, statuses
from .test_log_channel_crash import keys, kill_after_two_lines


@pytest.fixture
def pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    return matched_pairs(store, policy, lifecycle, clock)


def test_the_setting_reaches_the_channel(tmp_path: Path) -> None:
    def log(section: dict[str, object]) -> LogChannel:
        channel = channels_from({"channels": {"default": ["log"], "log": section}}, None).by_name["log"]
        assert isinstance(channel, LogChannel)
        return channel

    assert log({}).fsync is True  # on disk before it is recorded, unless the settings say otherwise
    assert log({"fsync": False}).fsync is False
    with pytest.raises(ConfigError, match=r"channels\.log\.fsync: Input should be a valid boolean"):
        log({"fsync": "sometimes"})


@pytest.mark.parametrize("fsync", [True, False])
def test_fsync_is_a_flush_per_line_or_none(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    store: Engine,
    pairs: list[int],
    clock: SimulatedClock,
    fsync: bool,
) -> None:
    flushed: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (flushed.append(fd), real(fd))[1])
    log = tmp_path / "outbox.jsonl"
    outbox.deliver_due(store, channels_of(LogChannel(log, fsync=fsync)), clock.now())
    assert len(keys(log)) == EXPECTED_MATCH_MESSAGES_BOTH
    assert len(flushed) == (EXPECTED_MATCH_MESSAGES_BOTH if fsync else 0)


_CHILD = """
import sys, time
from pathlib import Path
from engine.delivery.channels.log import LogChannel
from engine.services import delivery
from engine.store.database import open_engine
from tests.integration.delivery_support import channels_of
from datetime import datetime

class Slow(LogChannel):
    def send(self, message):
        super().send(message)
        time.sleep(0.25)  # killed here, its line written but not yet recorded, or later

url, log, now = sys.argv[1], Path(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
delivery.deliver_due(open_engine(url), channels_of(Slow(log, fsync=False)), now)
"""


def test_a_killed_delivery_without_fsync_loses_no_line(
    store: Engine, pairs: list[int], clock: SimulatedClock, tmp_path: Path
) -> None:
    log = tmp_path / "outbox.jsonl"
    kill_after_two_lines(_CHILD, store, log, clock)
    assert 2 <= sum(keys(log).values()) < EXPECTED_MATCH_MESSAGES_BOTH

    outbox.deliver_due(store, channels_of(LogChannel(log, fsync=False)), clock.now() + RETRY.lease)
    written = keys(log)
    assert len(written) == EXPECTED_MATCH_MESSAGES_BOTH  # none lost
    assert sum(written.values()) - len(written) <= 1, f"duplicated: {written}"  # the one being recorded
    assert statuses(store)["sending"] == 0
