"""Running the ``mentorflow`` command in-process, the way an operator runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.store.database import open_engine
from engine.store.tables import metadata
from tests.integration.support import without_paused_text
from workflows.cli import main

EXAMPLES = Path(__file__).parents[2] / "examples" / "participants.csv"


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``mentorflow ARGS`` in a fresh working directory; returns exit code and output."""
    monkeypatch.chdir(tmp_path)
    for name in ("MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "MENTORFLOW_CONFIG", "MENTORFLOW_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MENTORFLOW_ACTOR", "tester")
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def snapshot(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, to show a command changed nothing."""
    engine = open_engine(f"sqlite:///{db}", create=False)
    try:
        with engine.connect() as conn:
            return {
                table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))]
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


@pytest.fixture
def program(run: Run, tmp_path: Path) -> Path:
    """A database with the example participants, relationship 1 matched to E1002."""
    assert run("init").code == 0
    assert run("participants", "import", str(EXAMPLES)).code == 0
    assert run("advance", "1", "match", "--mentor", "E1002").code == 0
    return tmp_path / "mentorflow.db"


def paused_program(run: Run, tmp_path: Path) -> Path:
    """The example participants under with-pause, relationship 1 paused; the version without the phase."""
    assert run("init").code == 0
    assert run("participants", "import", str(EXAMPLES), "--policy", "with-pause").code == 0
    for step in (
        ["advance", "1", "match", "--mentor", "E1002"],
        ["advance", "1", "schedule_kickoff"],
        ["record", "meeting", "1", "--kind", "kickoff"],
        ["advance", "1", "start"],
        ["advance", "1", "pause", "--reason", "parental leave"],
    ):
        assert run(*step, "--policy", "with-pause").code == 0, step
    newer = tmp_path / "with-pause-v2.yaml"
    newer.write_text(without_paused_text(), encoding="utf-8")
    return newer
