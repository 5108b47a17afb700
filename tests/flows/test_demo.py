"""``mentorflow demo``: a small program's simulated months, and a summary the other commands confirm."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.flows

Cli = Callable[..., tuple[int, str, str]]
FUNNEL_ROW = re.compile(r"^\s*(intake|matched|kickoff|active|review|closed)\s+(\d+)\s+(\d+)\s*$")


def test_small_demo_agrees_with_status_and_verify(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    code, out, err = cli(
        "demo", "--mentees", "20", "--mentors", "8", "--months", "3", "--seed", "3", "--database", url
    )
    assert code == 0, err
    assert "Traceback" not in out + err
    now = {m[1]: int(m[3]) for line in out.splitlines() if (m := FUNNEL_ROW.match(line))}
    assert sum(now.values()) >= 20

    code, status_out, err = cli("status", "--database", url, "--format", "json")
    assert code == 0, err
    status = json.loads(status_out)
    assert {phase: n for phase, n in status["phases"].items()} == {p: now.get(p, 0) for p in status["phases"]}
    overdue = re.search(r"Overdue now: (\d+) item", out)
    assert overdue is not None and int(overdue[1]) == len(status["overdue"])

    code, verify_out, err = cli("audit", "verify", "--database", url)
    assert code == 0, err
    checked = re.search(r"(\d+) relationship\(s\), (\d+) entries checked", verify_out)
    shown = re.search(r"Audit history: (\d+) relationships?, (\d+) entr(?:y|ies)", out)
    assert checked is not None and shown is not None and checked.groups() == shown.groups()
    digest = re.search(r"heads digest (sha256:\w+)", verify_out)
    assert digest is not None and digest[1] in out.replace("\n", "")
    assert f"mentorflow status --database {url}" in out.replace("\n", "")
    assert (tmp_path / "demo-outbox.jsonl").exists()

    assert f"mentorflow report --database {url}" in out.replace("\n", "")
    code, report_out, err = cli("report", "--database", url, "--format", "json")
    assert code == 0, err
    funnel = json.loads(report_out)["funnel"]
    assert {row["phase"]: row["current"]["value"] for row in funnel} == {p: now.get(p, 0) for p in now}


def test_demo_replaces_its_database(cli: Cli, tmp_path: Path) -> None:
    old = tmp_path / "again.db"
    old.write_bytes(b"an earlier demo")
    code, out, err = cli(
        "demo", "--mentees", "2", "--mentors", "1", "--months", "1", "--database", f"sqlite:///{old}"
    )
    assert code == 0, err
    assert f"replacing {old}" in out.replace("\n", "")
