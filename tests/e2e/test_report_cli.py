"""``mentorflow report`` and ``mentorflow insights`` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Run, snapshot

ROOT = Path(__file__).parents[2]


def test_json_report_lists_the_relationships_behind_each_figure(run: Run, program: Path) -> None:
    result = run("report", "--format", "json")

    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["scope"]["value"] == 14 and data["scope"]["relationships"] == list(range(1, 15))
    matched = next(row for row in data["funnel"] if row["phase"] == "matched")
    assert matched["value"] == 1 and matched["relationships"] == [1]
    assert data["satisfaction"]["mentee"]["mean"]["value"] is None  # nobody answered: no data, not 0
    assert data["report"]["replayed"] is False


def test_markdown_and_html_carry_the_same_figures(run: Run, program: Path, tmp_path: Path) -> None:
    md = run("report", "--format", "md")
    html = run("report", "--output", str(tmp_path / "report.html"))

    assert md.code == 0 and md.out.startswith("# Mentoring program report")
    assert "| matched | 1 | 1 |" in md.out and "14 relationship(s)" in md.out
    assert html.code == 0 and html.out == "" and "report.html: html report on 14 relationship(s)" in html.err
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg ") == 5
    assert "no satisfaction answers yet" in page


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["--as-of", "2026-02-30"], "--as-of: '2026-02-30' is not a date"),
        (["--since", "yesterday"], "--since: 'yesterday' is not a date"),
        (["--format", "pdf"], "--format: 'pdf' is not one of html, md, json"),
        (["--since", "2026-03-01", "--as-of", "2026-02-01"], "--since: 2026-03-01 is after --as-of"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    run: Run, program: Path, tmp_path: Path, args: list[str], expect: str
) -> None:
    before = snapshot(program)
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()

    result = run("report", "--output", str(target), *args)

    assert result.code == 2 and expect in result.err, result.err
    assert "Traceback" not in result.err
    assert list(target.parent.iterdir()) == []
    assert snapshot(program) == before


def test_an_output_that_cannot_be_written_is_an_error(run: Run, program: Path, tmp_path: Path) -> None:
    result = run("report", "--output", str(tmp_path / "missing" / "report.html"))

    assert result.code == 2 and "--output: cannot write" in result.err


def test_a_report_on_an_uninitialised_store_says_what_to_do(run: Run) -> None:
    result = run("report")

    assert result.code == 2 and "mentorflow init" in result.err


def test_insights_speak_in_sentences_and_as_json(run: Run, program: Path, tmp_path: Path) -> None:
    text = run("insights")
    data = run("insights", "--format", "json", "--output", str(tmp_path / "insights.json"))

    assert text.code == 0, text.err
    assert "Matching\n  Not enough outcomes to judge the matching criteria yet" in text.out
    assert "Phases that stall" in text.out and "Pairs that need attention now" in text.out
    assert data.code == 0
    found = json.loads((tmp_path / "insights.json").read_text(encoding="utf-8"))
    assert found["relationships"] == 14 and found["suggested_weights"] is None
    assert [s["criterion"] for s in found["criteria"]][:1] == ["skills"]  # unjudged: in policy order


@pytest.mark.parametrize("command", ["report", "insights"])
def test_report_and_insights_do_not_import_prefect(tmp_path: Path, command: str) -> None:
    probe = (
        "import sys\n"
        "from workflows.cli import main\n"
        "try:\n    main(sys.argv[1:])\n"
        "except SystemExit:\n    pass\n"
        "print('PREFECT', 'prefect' in sys.modules, file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORFLOW_")}
    env["PYTHONPATH"] = str(ROOT)
    subprocess.run([sys.executable, "-m", "workflows.cli", "init"], cwd=tmp_path, env=env, check=True,
                   capture_output=True)  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", probe, command, "--output", str(tmp_path / "out")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "PREFECT False" in done.stderr, done.stderr
    assert (tmp_path / "out").exists()
