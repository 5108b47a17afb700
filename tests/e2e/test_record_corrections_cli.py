"""`record retract`, `record meeting --again` and `record training --revoke` through the CLI."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Run, snapshot


def test_a_meeting_is_retracted_and_refusals_change_nothing(run: Run, program: Path) -> None:
    assert run("advance", "1", "schedule_kickoff").code == 0
    assert run("record", "meeting", "1", "--kind", "kickoff").code == 0
    before = snapshot(program)
    twice = run("record", "meeting", "1", "--kind", "kickoff")
    assert twice.code == 2 and "already recorded" in twice.err and "--again" in twice.err
    assert snapshot(program) == before
    history = run("history", "1", "--format", "json")
    assert history.code == 0
    seq = 4  # created, matched, kickoff, the meeting
    done = run("record", "retract", "1", str(seq), "--reason", "wrong pair", "--actor", "coordinator")
    assert done.code == 0, done.err
    assert "retracted" in done.out
    before = snapshot(program)
    for args in (("1", str(seq)), ("1", "1"), ("1", "99")):
        refused = run("record", "retract", *args, "--reason", "x")
        assert refused.code == 2, refused
        assert refused.err.strip()
    assert snapshot(program) == before
    start = run("advance", "1", "start")
    assert start.code == 2 and "kickoff" in start.err
    assert run("record", "meeting", "1", "--kind", "kickoff").code == 0
    assert run("record", "meeting", "1", "--kind", "kickoff", "--again").code == 0
    assert run("audit", "verify").code == 0


def test_a_meeting_in_the_wrong_phase_or_the_future_is_refused(run: Run, program: Path) -> None:
    before = snapshot(program)
    wrong = run("record", "meeting", "1", "--kind", "kickoff")
    assert wrong.code == 2 and "expects a kickoff only in" in wrong.err
    future = run("record", "meeting", "1", "--kind", "check-in", "--on", "2999-01-01")
    assert future.code == 2 and "future" in future.err
    early = run("record", "meeting", "1", "--kind", "check-in", "--on", "2000-01-01")
    assert early.code == 2 and "before the relationship began" in early.err
    assert snapshot(program) == before


def test_a_training_is_revoked_with_an_actor(run: Run, program: Path) -> None:
    assert run("record", "training", "E1003", "--actor", "trainer").code == 0
    revoked = run("record", "training", "E1003", "--revoke", "--actor", "coordinator")
    assert revoked.code == 0 and "revoked" in revoked.out
    before = snapshot(program)
    again = run("record", "training", "E1003", "--revoke")
    assert again.code == 2 and "not trained" in again.err
    assert snapshot(program) == before
    rows = snapshot(program)["participant_entries"]
    assert any("training_revoked" in row and "coordinator" in row for row in rows)
