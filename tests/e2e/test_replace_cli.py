"""`advance … match` held to the hard constraints, `--override`, and `match replace`, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Run, snapshot

# relationship 1: Zoë (her manager is Anouk, E1006), matched to E1002 by `program`; 2: Thijs (Fatima's report)


def test_a_manual_match_against_a_constraint_exits_2_naming_the_flag_and_writes_nothing(
    run: Run, program: Path
) -> None:
    before = snapshot(program)

    line = run("advance", "2", "match", "--mentor", "E1002")  # Fatima is Thijs's manager
    assert line.code == 2
    assert "is the mentee's manager (reporting_line)" in line.err
    assert "--override reporting_line with a --reason" in line.err
    unknown = run("advance", "2", "match", "--mentor", "E1002", "--override", "same_site", "--reason", "x")
    assert (
        unknown.code == 2 and "unknown constraint 'same_site' (known: capacity, reporting_line" in unknown.err
    )
    no_reason = run("advance", "2", "match", "--mentor", "E1002", "--override", "reporting_line")
    assert no_reason.code == 2 and "--reason: say why the constraint is overridden" in no_reason.err
    assert snapshot(program) == before

    done = run(
        "advance", "2", "match", "--mentor", "E1002", "--override", "reporting_line", "--reason", "HR agreed"
    )
    assert done.code == 0, done.err
    history = json.loads(run("history", "2", "--format", "json").out)
    assert history[-1]["data"]["override"]["constraints"] == ["reporting_line"]
    assert history[-1]["data"]["override"]["reason"] == "HR agreed"


def test_match_replace_corrects_a_match_and_refusals_exit_2_unchanged(run: Run, program: Path) -> None:
    before = snapshot(program)
    same = run("match", "replace", "1", "--mentor", "E1002", "--reason", "oops")
    assert same.code == 2 and "is already the mentor of relationship 1" in same.err
    line = run("match", "replace", "1", "--mentor", "E1006", "--reason", "oops")
    assert line.code == 2 and "--override reporting_line" in line.err
    waiting = run("match", "replace", "2", "--mentor", "E1001", "--reason", "oops")
    assert waiting.code == 2 and "is in 'intake'" in waiting.err
    assert snapshot(program) == before

    done = run("match", "replace", "1", "--mentor", "E1004", "--reason", "wrong pair", "--actor", "lead")
    assert done.code == 0, done.err
    assert "relationship 1: mentor E1002 -> E1004 in 'matched'" in done.out
    history = json.loads(run("history", "1", "--format", "json").out)
    assert history[-1]["trigger"] == "replace_mentor" and history[-1]["actor"] == "lead"
    assert history[-1]["data"]["old_mentor"] == "E1002" and history[-1]["data"]["mentor"] == "E1004"
    table = run("history", "1")
    assert "replace_mentor" in table.out and "wrong pair" in table.out
    assert run("audit", "verify").code == 0
    outbox = run("outbox", "list", "--format", "json")
    assert outbox.code == 0
    listed = run("relationships", "list", "--format", "json")
    assert json.loads(listed.out)[0]["mentor"] == "Marieke de Vries"
