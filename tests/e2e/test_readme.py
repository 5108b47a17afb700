"""The README's walkthrough, run command by command with the installed console script."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def _mentorflow() -> list[str]:
    script = Path(sys.executable).parent / "mentorflow"
    return [str(script)] if script.exists() else [sys.executable, "-m", "workflows.cli"]


def walkthrough() -> list[tuple[list[str], int]]:
    """Each `mentorflow` line of the walkthrough section, with the exit code it should have."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## A relationship from intake to closed", 1)[1].split("\n## ", 1)[0]
    commands = []
    for line in re.findall(r"^mentorflow .*$", section, flags=re.MULTILINE):
        command, _, comment = line.partition("#")
        expected = 2 if "refused" in comment else 0
        commands.append((shlex.split(command)[1:], expected))
    return commands


def test_readme_walkthrough(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORFLOW_")}
    env["PYTHONPATH"] = str(ROOT)
    (tmp_path / "examples").symlink_to(ROOT / "examples")

    def mentorflow(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_mentorflow(), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
        )

    assert mentorflow("init").returncode == 0
    steps = walkthrough()
    assert len(steps) >= 8
    for args, expected in steps:
        done = mentorflow(*args)
        assert done.returncode == expected, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr

    history = json.loads(mentorflow("history", "1", "--format", "json").stdout)
    assert [(e["trigger"], e["to_phase"]) for e in history] == [
        ("create", "intake"),
        ("match", "matched"),
        ("schedule_kickoff", "kickoff"),
        ("record_meeting", "kickoff"),  # the kickoff meeting, recorded in the phase it was held in
        ("start", "active"),
        ("record_meeting", "active"),
        ("retract", "active"),  # the check-in logged in error, retracted by a new entry
        ("close", "closed"),
    ]
    assert history[-1]["reason"] == "mentee moved to another company"
    again = json.loads(mentorflow("history", "15", "--format", "json").stdout)
    assert [(e["trigger"], e["to_phase"]) for e in again] == [("create", "intake")]
    second = json.loads(mentorflow("history", "2", "--format", "json").stdout)
    assert [e["trigger"] for e in second] == ["create", "match", "replace_mentor"]
    exported = (tmp_path / "history.jsonl").read_text(encoding="utf-8").splitlines()
    # 14 relationships created, then relationship 1's 7 entries, relationship 15's creation and
    # relationship 2's match and replaced mentor
    assert len(exported) == 14 + 7 + 1 + 2


def test_commands_that_run_no_flow_stay_light(tmp_path: Path) -> None:
    """`--help` and `history` import neither Prefect nor SQLAlchemy nor pydantic: they start fast."""
    probe = (
        "import sys\n"
        "from workflows.cli import main\n"
        "try:\n    main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('prefect', 'sqlalchemy', 'pydantic') if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([*_mentorflow(), "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    subprocess.run(
        [*_mentorflow(), "participants", "import", str(ROOT / "examples" / "participants.csv")],
        cwd=tmp_path, env=env, check=True, capture_output=True,
    )  # fmt: skip
    for args in (["--help"], ["history", "1"]):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert "HEAVY []" in done.stderr, (args, done.stderr)
