"""CSV cells a spreadsheet cannot run, Markdown text that cannot carry HTML (engine/reporting/cells.py)."""

from __future__ import annotations

import csv
import io

import pytest

from engine.reporting.cells import csv_cell, csv_record, csv_row, markdown_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Zoë Çelik", "Zoë Çelik"),
        ("a=b", "a=b"),
        ("", ""),
        ("'already text", "'already text"),
    ],
)
def test_text_that_would_start_a_formula_gets_a_leading_quote(value: str, expected: str) -> None:
    assert csv_cell(value) == expected


def test_numbers_and_empty_values_are_written_as_they_are() -> None:
    assert csv_row([-3, 0.5, None, True]) == [-3, 0.5, None, True]
    assert csv_record({"id": -1, "reason": "=1+1"}) == {"id": -1, "reason": "'=1+1"}


def test_a_neutralised_row_reads_back_through_the_csv_module() -> None:
    out = io.StringIO()
    csv.writer(out).writerow(csv_row(['=HYPERLINK("x","y")', "a,b", "line\nbreak"]))
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ['\'=HYPERLINK("x","y")', "a,b", "line\nbreak"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("R&D", "R&amp;D"),
        ("a | b", "a \\| b"),
        ("[click](javascript:alert(1))", "\\[click\\](javascript:alert(1))"),
        ("two\nlines", "two lines"),
        ("back\\slash", "back\\\\slash"),
        ("Zoë moved to Malmö", "Zoë moved to Malmö"),
    ],
)
def test_markdown_text_escapes_html_and_table_markup(value: str, expected: str) -> None:
    assert markdown_text(value) == expected
