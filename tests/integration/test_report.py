"""The report on a simulated year: the HTML shows every chart; each JSON figure agrees with the export."""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.reporting.build import report
from engine.store.database import open_engine
from tests.integration.report_support import differences, exported, recompute, run_program
from workflows.cli import main

CHARTS = ("funnel", "time-in-phase", "adherence", "satisfaction", "score-vs-satisfaction")
VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base", "source", "path", "rect",
        "circle", "line", "polyline"}  # fmt: skip


@pytest.fixture(scope="module")
def demo(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory, policy: Policy
) -> Iterator[tuple[Path, datetime]]:
    """A database after 300 simulated days of 40 mentees and 16 mentors (the demo's course, smaller)."""
    path = tmp_path_factory.mktemp("demo") / "mentorflow.db"
    shutil.copyfile(sqlite_template, path)
    store = open_engine(f"sqlite:///{path}")
    end = run_program(store, Lifecycle(policy), seed=7, mentees=40, mentors=16, days=300)
    store.dispose()
    yield path, end


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


class _Document(HTMLParser):
    """Every start tag with its attributes, and whether the tags nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:]}")
        else:
            self.open.pop()


def test_the_html_report_of_a_simulated_year_shows_every_chart(
    demo: tuple[Path, datetime], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, end = demo
    target = tmp_path / "report.html"

    code, _, err = _cli(capsys, "report", "--database", f"sqlite:///{db}", "--output", str(target),
                        "--as-of", f"{end:%Y-%m-%d}")  # fmt: skip

    assert code == 0, err
    html = target.read_text(encoding="utf-8")
    document = _Document()
    document.feed(html)
    document.close()
    assert document.problems == [] and document.open == []
    figures = {attrs.get("id") for tag, attrs in document.tags if tag == "figure"}
    assert figures >= {f"chart-{name}" for name in CHARTS}
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)
    assert len(svgs) == len(CHARTS)
    for svg in svgs:
        tree = ET.fromstring(svg)  # well-formed on its own
        marks = [e for e in tree.iter() if e.get("class") == "mark"]
        assert marks, svg[:200]
        assert tree.find("title") is not None
    # self-contained: nothing to fetch
    assert not [t for t, _ in document.tags if t in ("script", "link", "img", "iframe", "object")]
    assert not [a for _, attrs in document.tags for a in attrs if a in ("src", "href")]
    assert "url(" not in html and "@import" not in html


def test_every_figure_of_the_json_report_agrees_with_the_audit_export(
    demo: tuple[Path, datetime], policy: Policy, capsys: pytest.CaptureFixture[str]
) -> None:
    db, end = demo
    for day in ("2026-04-15", f"{end:%Y-%m-%d}"):  # replayed mid-way, and at the end of the year
        code, out, err = _cli(
            capsys, "report", "--database", f"sqlite:///{db}", "--format", "json", "--as-of", day
        )
        assert code == 0, err
        reported = json.loads(out)
        store = open_engine(f"sqlite:///{db}")
        try:
            records = exported(store)
        finally:
            store.dispose()
        moment = datetime.fromisoformat(reported["report"]["as_of"])
        assert reported["report"]["replayed"] is True

        expected = recompute(records, policy, moment)

        assert differences({k: v for k, v in reported.items() if k != "report"}, expected) == []
    final = reported  # the year produced data for every figure
    assert final["satisfaction"]["mentee"]["mean"]["n"] > 5
    assert final["match_score_vs_satisfaction"]["spearman"]["n"] > 5
    assert final["dropout"]["total"]["value"] > 0 and final["engagement"]["by_month"]
    assert final["goals"]["share_reached"]["value"] is not None
    served = {row["id"]: row for row in final["program_goals"]}
    assert list(served)[:4] == ["leadership", "communication", "career", "network"]  # the policy's order
    assert sum(served[g]["mentees"]["value"] for g in list(served)[:4]) > 5  # goals the mentees set
    assert sum(row["levels"]["reached"]["value"] for row in served.values()) > 0
    assert sum(row["levels"]["started"]["value"] for row in served.values()) > 0
    assert final["recommend"]["mentee"]["n"] > 0
    (peer,) = final["sessions"]["series"]  # the policy's one series, intervisie
    assert peer["series"] == "intervisie" and peer["sessions"]["value"] > 0 and peer["attended"]["value"] > 0
    said = sum(peer[key]["value"] for key in ("attended", "absent", "unknown"))
    assert said == peer["invited"]["value"] and peer["share_attended"]["value"] is not None
    by_attending = final["sessions"]["satisfaction"]
    assert by_attending["attended"]["n"] > 0 and by_attending["not_attended"]["n"] > 0


def test_the_report_agrees_with_the_export_on_each_back_end(store: Engine, policy: Policy) -> None:
    end = run_program(store, Lifecycle(policy), seed=3, mentees=8, mentors=4, days=70)
    moment = end + timedelta(hours=1)

    reported = report(store, policy, moment, as_of=moment)

    assert reported["funnel"][0]["value"] == reported["scope"]["value"] > 0
    expected = recompute(exported(store), policy, moment)
    assert differences({k: v for k, v in reported.items() if k != "report"}, expected) == []


def test_since_leaves_out_pairs_that_closed_before(demo: tuple[Path, datetime], policy: Policy) -> None:
    db, end = demo
    store = open_engine(f"sqlite:///{db}")
    try:
        everyone = report(store, policy, end, as_of=end)
        recent = report(store, policy, end, as_of=end, since=end - timedelta(days=30))
    finally:
        store.dispose()

    left_out = set(everyone["scope"]["relationships"]) - set(recent["scope"]["relationships"])
    closed = {r for row in everyone["funnel"] if row["phase"] == "closed" for r in row["relationships"]}
    assert left_out and left_out <= closed
    assert recent["report"]["since"] is not None and datetime.fromisoformat(recent["report"]["since"]) < end


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def test_a_headless_browser_opens_the_html_report_and_lays_out_every_chart(
    demo: tuple[Path, datetime], policy: Policy, tmp_path: Path
) -> None:
    """Where Chromium is installed: the page loads from the file alone and each chart has a size."""
    import subprocess

    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no Chromium on this machine: CI must install Debian's chromium")
        pytest.skip("no Chromium on this machine (apt install chromium); the SVG checks above still ran")
    db, end = demo
    page = tmp_path / "report.html"
    store = open_engine(f"sqlite:///{db}")
    try:
        from engine.reporting.render import render

        page.write_text(render(report(store, policy, end, as_of=end), "html"), encoding="utf-8")
    finally:
        store.dispose()
    script = tmp_path / "sizes.html"  # the report, plus a line that writes each chart's laid-out size
    sizes = (
        "<script>document.title = JSON.stringify([...document.querySelectorAll('svg')]"
        ".map(s => [s.getBoundingClientRect().width, s.getBoundingClientRect().height]))</script>"
    )
    script.write_text(
        page.read_text(encoding="utf-8").replace("</body>", sizes + "</body>"), encoding="utf-8"
    )
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", script.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    title = re.search(r"<title>(.*?)</title>", done.stdout, re.S)
    assert title is not None
    boxes = json.loads(title[1])
    assert len(boxes) == len(CHARTS) and all(w > 100 and h > 50 for w, h in boxes), boxes
