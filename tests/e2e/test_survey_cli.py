"""Survey answers through the command line: one respondent's, or a whole CSV file, checked before written."""

from __future__ import annotations

import json
from pathlib import Path

from engine.policy.model import shipped_policies
from tests.e2e.conftest import Run, snapshot


def _in_review(run: Run, tmp_path: Path) -> str:
    """Relationship 1 (Zoë Çelik, two development goals) in review, under a policy without the six months."""
    policy = tmp_path / "quick.yaml"
    text = shipped_policies()["default"].read_text("utf-8")
    policy.write_text(text.replace("after: program.duration, auto: true}", "}"), encoding="utf-8")
    for args in (
        ["advance", "1", "schedule_kickoff"],
        ["record", "meeting", "1", "--kind", "kickoff"],
        ["advance", "1", "start"],
        ["advance", "1", "review"],
    ):
        done = run("--policy-version-pinned", *args, "--policy", str(policy))  # a version of its own
        assert done.code == 0, (args, done.err)
    return str(policy)


def test_a_survey_answer_that_does_not_fit_is_refused_and_a_good_one_recorded(
    run: Run, program: Path, tmp_path: Path
) -> None:
    policy = _in_review(run, tmp_path)
    before = snapshot(program)
    answers = ["-a", "recommend=9", "-a", "met_regularly=ja", "-a", "goals=reached;partly"]

    bad = run("record", "survey", "1", "--by", "mentee", "-a", "satisfaction=9", *answers, "--policy", policy)

    assert bad.code == 2 and "Traceback" not in bad.err
    assert "final survey of the mentee: satisfaction: 9 is not on the 1-5 scale" in bad.err
    assert snapshot(program) == before

    good = run(
        "record", "survey", "1", "--by", "mentee", "-a", "satisfaction=5", *answers, "--policy", policy
    )
    assert good.code == 0, good.err
    history = json.loads(run("history", "1", "--format", "json").out)
    answer = next(e for e in reversed(history) if e["trigger"] == "record_survey")
    assert answer["actor"] == "tester" and history[-1]["trigger"] == "goal_progress"  # the goals it moved
    assert answer["data"]["survey"]["answers"] == {
        "satisfaction": 5, "recommend": 9, "met_regularly": True, "goals": ["reached", "partly"]
    }  # fmt: skip
    assert "final survey answered by the mentee" in run("history", "1").out


def test_a_survey_file_is_recorded_all_or_nothing_naming_row_and_column(
    run: Run, program: Path, tmp_path: Path
) -> None:
    policy = _in_review(run, tmp_path)
    answers = tmp_path / "answers.csv"
    header = "relationship,respondent,satisfaction,recommend,met_regularly,goals,comments"
    answers.write_text(
        f"{header}\n1,mentee,4,8,yes,reached;partly,Fijn traject\n1,mentor,4,8,yes,reached,\n",
        encoding="utf-8",
    )
    before = snapshot(program)

    bad = run("record", "surveys", str(answers), "--policy", policy)

    assert bad.code == 2 and "Traceback" not in bad.err
    assert f"{answers}:row 3: column goals: 1 level(s) for 2 development goal(s) of the mentee" in bad.err
    assert snapshot(program) == before

    answers.write_text(answers.read_text("utf-8").replace(",reached,", ",reached;reached,"), encoding="utf-8")
    good = run("record", "surveys", str(answers), "--policy", policy)
    assert good.code == 0, good.err
    assert "2 survey response(s) recorded" in good.out
    assert run("audit", "verify").code == 0
