"""Two programs in one database, as an operator meets them: refusals, status and report per policy."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.conftest import Run, paused_program, snapshot

NEW_HIRES = """external_id,role,name,email
N2001,mentee,Mila Jansen,mila.jansen@example.com
N2002,mentee,Youssef Amrani,youssef.amrani@example.com
"""
OTHERS = "(2 relationship(s) under other policies: onboarding-buddy 2; use --policy to see them)"


def test_advance_with_another_programs_policy_is_refused_with_exit_2(run: Run, program: Path) -> None:
    before = snapshot(program)

    result = run("advance", "2", "match", "--mentor", "E1006", "--policy", "onboarding-buddy")

    assert result.code == 2 and result.out == ""
    assert result.err == (
        "error: relationship 2 belongs to the program under policy 'default', not 'onboarding-buddy': "
        "run the command with --policy default\n"
    )
    assert snapshot(program) == before
    assert run("advance", "2", "match", "--mentor", "E1006").code == 0


def test_status_and_report_cover_one_program_and_mention_the_other(
    run: Run, program: Path, tmp_path: Path
) -> None:
    hires = tmp_path / "new-hires.csv"
    hires.write_text(NEW_HIRES, encoding="utf-8")
    imported = run("participants", "import", str(hires), "--policy", "onboarding-buddy")
    assert imported.code == 0 and "2 relationship(s) opened" in imported.out

    status = run("status")
    buddy = json.loads(run("status", "--policy", "onboarding-buddy", "--format", "json").out)
    report = run("report", "--format", "md")

    assert status.code == 0 and OTHERS in status.out.replace("\n", " ")
    assert buddy["policy"] == "onboarding-buddy" and buddy["other_policies"] == {"default": 14}
    assert sum(buddy["phases"].values()) == 2 and buddy["stranded"] == []
    assert report.code == 0 and f"14 relationship(s) {OTHERS}." in report.out

    listed = json.loads(run("relationships", "list", "--format", "json").out)
    assert {row["policy"] for row in listed} == {"default", "onboarding-buddy"}
    table = run("relationships", "list").out
    assert "policy" in table and "onboarding-buddy" in table


def test_a_pair_in_a_phase_the_policy_no_longer_has_is_listed_and_refused(run: Run, tmp_path: Path) -> None:
    newer = paused_program(run, tmp_path)

    status = run("status", "--policy", str(newer))
    refused = run("--policy-version-pinned", "advance", "1", "resume", "--policy", str(newer))

    shown = " ".join(status.out.split())  # the table titles wrap
    assert status.code == 0 and "Traceback" not in status.err
    assert "in a removed phase: 1" in shown and "│ 1 │ paused │" in shown
    assert "policy with-pause no longer has these phases, so the tick leaves" in shown
    assert refused.code == 2
    assert (
        "relationship 1 is in phase 'paused', which policy 'with-pause' (version 3) no longer has"
        in refused.err
    )
