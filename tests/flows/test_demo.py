"""``mentorflow demo``: a small program's simulated months, and a summary the other commands confirm."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
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
    _the_demo_link_opens(out, tmp_path / "demo.toml")
    _the_participants_recorded_through_their_links(url)


def _the_demo_link_opens(out: str, settings: Path) -> None:
    """The demo's last lines: a settings file (its own key, readable by its owner only) and a live link
    that opens under that file's key for the pair and purpose it names."""
    from datetime import UTC, datetime

    from engine.services.links import OpenedLink, open_link
    from engine.settings import web_settings
    from engine.store.database import open_engine

    said = out.replace("\n", "")
    assert f"MENTORFLOW_CONFIG={settings} mentorflow web" in said
    assert settings.stat().st_mode & 0o777 == 0o600
    found = re.search(r"then open (http://127\.0\.0\.1:8000/l/(survey|meeting)/(\S+))", said)
    assert found is not None, out[-600:]
    web = web_settings(settings)
    store = open_engine(f"sqlite:///{settings.with_suffix('.db')}", create=False)
    try:
        opened = open_link(store, found[3], found[2], datetime.now(UTC), web.secret_keys)
    finally:
        store.dispose()
    assert isinstance(opened, OpenedLink) and opened.role == "mentee", opened


def _the_participants_recorded_through_their_links(url: str) -> None:
    """Meetings and answers name the participant who sent them from their link; decisions do not."""
    from sqlalchemy import select

    from engine.store.database import open_engine
    from engine.store.tables import audit_entries

    store = open_engine(url, create=False)
    try:
        with store.connect() as conn:
            rows = conn.execute(select(audit_entries.c.trigger, audit_entries.c.actor)).all()
    finally:
        store.dispose()
    recorded = [actor for trigger, actor in rows if trigger in ("record_meeting", "record_survey")]
    assert recorded and all(re.fullmatch(r"participant:\S+ via link", actor) for actor in recorded)
    decided = {actor for trigger, actor in rows if trigger in ("match", "renew", "close")}
    assert "coordinator" in decided and not [actor for actor in decided if "via link" in actor]


def test_demo_replaces_its_database(cli: Cli, tmp_path: Path) -> None:
    old = tmp_path / "again.db"
    old.write_bytes(b"an earlier demo")
    code, out, err = cli(
        "demo", "--mentees", "2", "--mentors", "1", "--months", "1", "--database", f"sqlite:///{old}"
    )
    assert code == 0, err
    assert f"replacing {old}" in out.replace("\n", "")


def _mentorflow(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``mentorflow ARGS`` as an operator runs it: its own process, Prefect not imported beforehand."""
    script = Path(sys.executable).parent / "mentorflow"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "workflows.cli"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MENTORFLOW_", "PREFECT_API_URL"))}
    return subprocess.run(
        [*command, *args], cwd=cwd, env=clean | env, capture_output=True, text=True, timeout=300
    )  # fmt: skip


def test_demo_in_its_own_process_starts_and_stops_prefects_server(tmp_path: Path) -> None:
    done = _mentorflow("demo", "--mentees", "3", "--mentors", "2", "--months", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    said = " ".join(done.stdout.split())  # as wrapped to the terminal's width, rows padded
    assert "one Prefect flow run calling the flows' tasks day by day" in said
    assert (tmp_path / "mentorflow-demo-outbox.jsonl").stat().st_size > 0


def test_demo_says_so_when_prefects_server_does_not_start(tmp_path: Path) -> None:
    # a server that cannot answer within a second of its launch (it takes several to start)
    done = _mentorflow("demo", "--mentees", "2", "--mentors", "1", "--months", "1", cwd=tmp_path,
                       PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1")  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "Prefect's temporary server did not start (no answer in 1 s)" in done.stderr
    assert "PREFECT_API_URL" in done.stderr
