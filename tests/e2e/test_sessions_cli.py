"""`mentorflow sessions plan|list|attendance` through the CLI, and a bad `sessions:` block."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import EXAMPLES, Run, snapshot
from tests.integration.session_support import SESSIONS, default_text


def _policy(tmp_path: Path, block: str) -> str:
    path = tmp_path / "sessions.yaml"
    path.write_text(default_text() + block, encoding="utf-8")
    return str(path)


def _active_program(run: Run, tmp_path: Path) -> str:
    """Two pairs in active under a policy with an intervisie for mentors and mentees, groups of two."""
    policy = _policy(tmp_path, SESSIONS.format(audience="both", size=2))
    assert run("init").code == 0
    assert run("participants", "import", str(EXAMPLES), "--policy", policy).code == 0
    for rel, mentor in (("1", "E1004"), ("2", "E1001")):
        for step in (["advance", rel, "match", "--mentor", mentor], ["advance", rel, "schedule_kickoff"],
                     ["record", "meeting", rel, "--kind", "kickoff"], ["advance", rel, "start"]):  # fmt: skip
            done = run(*step, "--policy", policy)
            assert done.code == 0, (step, done.err)
    return policy


def test_plan_invites_once_lists_and_refuses_attendance_before_the_session(run: Run, tmp_path: Path) -> None:
    policy = _active_program(run, tmp_path)
    db = tmp_path / "mentorflow.db"
    before = snapshot(db)
    dry = run("sessions", "plan", "--dry-run", "--policy", policy)
    assert dry.code == 0, dry.err
    assert "would plan 2 session group(s), 4 invitation(s)" in dry.out and "nothing was written" in dry.out
    assert snapshot(db) == before
    done = run("sessions", "plan", "--policy", policy)
    assert done.code == 0, done.err
    assert "planned 2 session group(s), 4 invitation(s)" in done.out
    again = run("sessions", "plan", "--policy", policy)
    assert again.code == 0 and "planned 0 session group(s), 0 invitation(s)" in again.out
    listed = json.loads(run("sessions", "list", "--format", "json", "--policy", policy).out)
    assert sorted(row["invited"] for row in listed) == [2, 2] and all(row["attended"] == 0 for row in listed)
    table = run("sessions", "list", "--policy", policy)
    assert table.code == 0 and "Room 4.12" in table.out and "intervisie" in table.out
    history = json.loads(run("history", "1", "--format", "json").out)
    invited = [entry for entry in history if entry["trigger"] == "session_invited"]
    assert len(invited) == 2  # its mentee and its mentor, in two groups
    assert run("audit", "verify").code == 0

    before = snapshot(db)
    tried = [
        run("sessions", "attendance", str(row["id"]), "E1004", "--attended", "--policy", policy)
        for row in listed
    ]
    assert all(done.code == 2 and "Traceback" not in done.err for done in tried)
    assert sorted("once it has begun" in done.err for done in tried) == [False, True]  # E1004's own session
    assert sorted("was not invited" in done.err for done in tried) == [False, True]  # the other group
    unknown = run("sessions", "attendance", "99", "E1004", "--attended", "--policy", policy)
    assert unknown.code == 2 and "no session 99" in unknown.err
    neither = run("sessions", "attendance", str(listed[0]["id"]), "E1004", "--policy", policy)
    assert neither.code == 2 and "--attended or --absent" in neither.err
    assert snapshot(db) == before


def test_plan_without_a_sessions_block_or_with_a_bad_until_is_refused(run: Run, tmp_path: Path) -> None:
    assert run("init").code == 0
    program = tmp_path / "mentorflow.db"
    before = snapshot(program)
    without = tmp_path / "without.yaml"
    without.write_text(default_text(), encoding="utf-8")
    none = run("sessions", "plan", "--policy", str(without))
    assert none.code == 2 and "no `sessions:` block" in none.err
    assert snapshot(program) == before


def test_a_bad_sessions_block_names_file_line_and_field(run: Run, tmp_path: Path) -> None:
    block = SESSIONS.format(audience="mentors", size=8).replace("8 weeks", "10 days").replace("15:00", "3pm")
    policy = _policy(tmp_path, block)
    done = run("policy", "validate", policy)
    assert done.code == 2 and "Traceback" not in done.err
    assert "sessions.yaml:" in done.err and "sessions.intervisie.weekday" in done.err
    assert "sessions.intervisie.at" in done.err and "is not a time of day" in done.err
    shown = run("policy", "show", _policy(tmp_path, SESSIONS.format(audience="mentors", size=8)))
    assert shown.code == 0 and "group_size: 8" in shown.out and "every: every 8 weeks" in shown.out
