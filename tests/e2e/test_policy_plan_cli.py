"""``mentorflow policy plan``: exit 0 for a safe plan, 1 for one that strands pairs or sends too much,
2 for bad input; ``--format json``; the database as it was."""

from __future__ import annotations

import json
from pathlib import Path

from engine.policy.model import shipped_policies
from tests.e2e.conftest import Run, paused_program, snapshot

DEFAULT = Path(shipped_policies()["default"]).read_text(encoding="utf-8")


def test_a_plan_of_the_same_policy_is_safe(run: Run, program: Path, tmp_path: Path) -> None:
    same = tmp_path / "same.yaml"
    same.write_text(DEFAULT, encoding="utf-8")
    before = snapshot(program)

    shown = run("policy", "plan", str(same), "--as-of", "2027-01-01")
    document = run("policy", "plan", str(same), "--as-of", "2027-01-01", "--format", "json")

    assert shown.code == 0, shown.err
    assert "no change" in shown.out and "stranded: none" in shown.out and "safe:" in shown.out
    assert document.code == 0
    plan = json.loads(document.out)
    assert plan["changed"] is False and plan["changes"] == [] and plan["safe"] is True
    assert plan["next_tick"]["new"] == plan["next_tick"]["current"]
    assert plan["next_tick"]["new"]["moved"]["by_trigger"]["schedule_kickoff"]["relationships"] == [1]
    assert snapshot(program) == before


def test_a_message_limit_exits_1(run: Run, program: Path, tmp_path: Path) -> None:
    newer = tmp_path / "new.yaml"
    newer.write_text(DEFAULT.replace("duration: 6 months", "duration: 4 months"), encoding="utf-8")

    result = run(
        "policy", "plan", str(newer), "--as-of", "2027-01-01", "--max-messages", "1", "--format", "json"
    )

    assert result.code == 1
    plan = json.loads(result.out)
    assert [c["line"] for c in plan["changes"]] == ["program.duration: 6 months → 4 months"]
    assert plan["safe"] is False and "more than the 1 allowed" in plan["concerns"][0]
    assert plan["next_tick"]["new"]["messages"]["count"] > 1


def test_a_plan_that_strands_pairs_exits_1(run: Run, tmp_path: Path) -> None:
    newer = paused_program(run, tmp_path)
    before = snapshot(tmp_path / "mentorflow.db")

    shown = run("policy", "plan", str(newer), "--policy", "with-pause")
    document = run("policy", "plan", str(newer), "--policy", "with-pause", "--format", "json")

    assert shown.code == 1 and "Traceback" not in shown.err
    assert "phase paused removed" in shown.out
    assert "relationship 1 in paused" in shown.out and "not safe" in shown.out
    assert document.code == 1
    assert json.loads(document.out)["stranded"][0] | {"since": None} == {
        "relationship": 1,
        "phase": "paused",
        "since": None,
    }
    assert snapshot(tmp_path / "mentorflow.db") == before


def test_bad_input_exits_2(run: Run, program: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(DEFAULT.replace("policy: default", "policy: other"), encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(DEFAULT.replace("every 2 weeks", "every fortnite"), encoding="utf-8")

    missing = run("policy", "plan", str(tmp_path / "missing.yaml"))
    renamed = run("policy", "plan", str(other))
    invalid = run("policy", "plan", str(broken))
    wrong_format = run("policy", "plan", str(other), "--format", "xml")

    for result in (missing, renamed, invalid, wrong_format):
        assert result.code == 2 and "Traceback" not in result.err, result.err
    assert "the new policy is named 'other', the program's 'default'" in renamed.err
    assert f"{broken}:" in invalid.err and "phases.active.cadence.check_in" in invalid.err
