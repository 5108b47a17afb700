"""`mentorflow goals set | progress | list` through the CLI: a coordinator sets and follows up goals."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Run, snapshot


def test_a_coordinator_sets_a_goal_moves_it_on_and_lists_it(run: Run, program: Path) -> None:
    done = run("goals", "set", "1", "Present at the all-hands", "--serves", "communication",
               "--target", "2999-01-31")  # fmt: skip
    assert done.code == 0, done.err
    goal = done.out.split("goal ")[1].split()[0]
    assert run("goals", "progress", "1", goal, "Started").code == 0
    again = run("goals", "progress", "1", goal, "started")
    assert again.code == 0 and "nothing recorded" in again.out
    listed = run("goals", "list", "1", "--format", "json")
    assert listed.code == 0, listed.err
    rows = {str(row["id"]): row for row in json.loads(listed.out)}
    mine = rows[goal]
    assert (mine["title"], mine["program_goal"], mine["target_date"], mine["status"]) == (
        "Present at the all-hands", "communication", "2999-01-31", "started"
    )  # fmt: skip
    assert len(rows) == 3  # the two goals of the file, and this one
    table = run("goals", "list")
    assert table.code == 0 and "development goal(s)" in table.out
    history = run("history", "1", "--format", "json")
    assert history.out.count('"goal_progress"') == 1
    shown = run("history", "1").out
    assert f"goal {goal} set (serves communication)" in shown and f"goal {goal}: started" in shown
    assert run("audit", "verify").code == 0


def test_bad_goals_are_refused_with_what_is_wrong_and_change_nothing(run: Run, program: Path) -> None:
    before = snapshot(program)
    for args, fragment in [
        (("set", "1", "x", "--serves", "nope"), "unknown program goal 'nope'"),
        (("set", "1", "x", "--target", "31-01-2999"), "--target: '31-01-2999' is not a date"),
        (("set", "1", "x", "--target", "2001-01-01"), "is in the past"),
        (("set", "1", "   "), "has no title"),
        (("set", "99", "x"), "no relationship 99"),
        (("progress", "1", "1", "done"), "'done' is not a goal level"),
        (("progress", "1", "999", "started"), "has no goal 999"),
        (("list", "99"), "no relationship 99"),
    ]:
        refused = run("goals", *args)
        assert refused.code == 2, (args, refused)
        assert fragment in refused.err, (args, refused.err)
        assert "Traceback" not in refused.err
    assert snapshot(program) == before
