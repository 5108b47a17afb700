"""``status`` and ``insights`` say since when a pair has waited, and since when it is overdue.

An overdue check-in's ``since`` is the start of the silence, as the reminders say it: the last meeting,
or, for a pair that has not met in its phase, the entry into the phase. ``due`` is the moment the
reminder fell due (``remind_after`` later). A passed deadline's ``since`` is the entry into the phase.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import recording
from engine.store.database import open_engine
from tests.conftest import START
from tests.e2e.conftest import Run
from tests.integration.support import TRAINED_MENTOR, fire, import_examples

DAY = timedelta(days=1)
REMIND_AFTER = timedelta(weeks=3)  # the default policy's active cadence
MET = START + 5 * DAY  # relationship 1's last meeting, a check-in in active
ENTERED = START + DAY  # relationship 2 entered active then, and has not met since
AS_OF = "2026-02-02"  # both reminders due (2026-01-31 and 2026-01-27), no escalation yet


@pytest.fixture
def quiet_pairs(run: Run, tmp_path: Path, policy: Policy, lifecycle: Lifecycle) -> None:
    """Relationships 1 and 2 active since START and START + 1 day; 1 met at MET; the rest in intake."""
    assert run("init").code == 0
    store = open_engine(f"sqlite:///{tmp_path / 'mentorflow.db'}", create=False)
    clock = SimulatedClock(START)
    try:
        first, second = import_examples(store, policy, clock)[:2]
        for rel in (first, second):
            fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
            fire(store, lifecycle, clock, rel, "schedule_kickoff")
            recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
        fire(store, lifecycle, clock, first, "start")
        clock.set(ENTERED)  # the kickoff meeting of relationship 2 was before its stay in active
        fire(store, lifecycle, clock, second, "start")
        clock.set(MET)
        recording.record_meeting(store, policy, clock, first, "check-in", None, actor="pair")
    finally:
        store.dispose()


def _moments(item: dict[str, Any]) -> tuple[str, str, datetime, datetime]:
    return (
        item["what"],
        item["action"],
        datetime.fromisoformat(item["since"]),
        datetime.fromisoformat(item["due"]),
    )


def test_status_json_says_since_the_last_meeting_or_the_entry_and_when_the_reminder_fell_due(
    run: Run, quiet_pairs: None
) -> None:
    result = run("status", "--as-of", AS_OF, "--format", "json")

    assert result.code == 0, result.err
    overdue = {item["relationship"]: item for item in json.loads(result.out)["overdue"]}
    assert _moments(overdue[1]) == ("check-in", "remind", MET, MET + REMIND_AFTER)
    assert _moments(overdue[2]) == ("check-in", "remind", ENTERED, ENTERED + REMIND_AFTER)
    # still in intake: its deadline (21 days, escalate) passed; waiting since the import
    assert _moments(overdue[3]) == ("deadline", "escalate", START, START + 21 * DAY)


def test_status_table_shows_the_start_of_the_silence_and_the_moment_it_fell_due(
    run: Run, quiet_pairs: None
) -> None:
    result = run("status", "--as-of", AS_OF)

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    header = next(line for line in lines if "since" in line and "due" in line)
    assert header.index("since") < header.index("due") < header.index("action")
    (first,) = [line for line in lines if "check-in" in line and "2026-01-10" in line]
    assert "2026-01-31" in first and first.index("2026-01-10") < first.index("2026-01-31")
    (second,) = [line for line in lines if "check-in" in line and "2026-01-06" in line]
    assert "2026-01-27" in second and second.index("2026-01-06") < second.index("2026-01-27")


def test_insights_json_says_since_the_start_of_the_silence_and_when_it_fell_due(
    run: Run, quiet_pairs: None
) -> None:
    result = run("insights", "--as-of", AS_OF, "--format", "json")

    assert result.code == 0, result.err
    attention = {item["relationship"]: item for item in json.loads(result.out)["attention"]}
    for rel, since in ((1, MET), (2, ENTERED)):
        (item,) = attention[rel]["overdue"]
        assert item["kind"] == "check-in" and item["action"] == "remind"
        assert datetime.fromisoformat(item["since"]) == since
        assert datetime.fromisoformat(item["due"]) == since + REMIND_AFTER
    assert datetime.fromisoformat(attention[1]["last_meeting"]) == MET


def test_insights_text_says_no_meeting_since_the_last_one_or_since_the_entry(
    run: Run, quiet_pairs: None
) -> None:
    result = run("insights", "--as-of", AS_OF)

    assert result.code == 0, result.err
    text = " ".join(result.out.split())
    assert "active): no meeting since 2026-01-10, overdue since 2026-01-31 (reminded)." in text
    assert (
        "active): no meeting since entering active on 2026-01-06, overdue since 2026-01-27 (reminded)."
        in text
    )
    assert "intake): in intake since 2026-01-05, its deadline passed 7 day(s) ago (escalate)." in text
