"""At 80 columns every table fits, and every time a command prints is in the program's zone, one format.

The default policy's zone is Europe/Amsterdam: in January its times read ``CET``. JSON keeps
ISO 8601 with the offset.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.e2e.conftest import EXAMPLES, Run

SHOWN = re.compile(r"\b20\d\d-\d\d-\d\d \d\d:\d\d (CET|CEST)\b")
ISO = re.compile(r"^20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
TABLE_COMMANDS = [
    ("outbox", "list"),
    ("match", "propose"),
    ("match", "explain", "1"),
    ("match", "explain", "4"),
    ("history", "1"),
    ("relationships", "list"),
    ("status",),
    ("participants", "list"),
    ("participants", "history", "E1001"),
]


@pytest.fixture
def narrow(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The example program after a tick (its escalations pending: no channel) and a match run, at 80."""
    assert run("init").code == 0
    assert run("participants", "import", str(EXAMPLES)).code == 0
    assert run("tick", "--now", "2027-01-15").code == 2  # no channel configured: the messages stay pending
    assert run("match", "propose").code == 0
    monkeypatch.setenv("COLUMNS", "80")
    return run


def _tables(out: str) -> list[list[str]]:
    """The lines of each boxed table in ``out``."""
    tables: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("┏"):
            tables.append([])
        if tables and line[:1] in "┏┃┡│└":
            tables[-1].append(line)
    return tables


@pytest.mark.parametrize("args", TABLE_COMMANDS, ids=" ".join)
def test_every_table_fits_80_columns_one_line_per_row(narrow: Run, args: tuple[str, ...]) -> None:
    result = narrow(*args)
    assert result.code == 0, result.err
    assert _tables(result.out), result.out
    for line in result.out.splitlines():
        assert cell_len(line) <= 80, line
    for table in _tables(result.out):
        # one header line: no header word was split over two lines
        assert table[0].startswith("┏") and table[1].startswith("┃") and table[2].startswith("┡"), table
        assert all(line.startswith("│") for line in table[3:-1]), table


def test_a_row_is_one_line_and_a_long_cell_ends_in_an_ellipsis(narrow: Run) -> None:
    table = narrow("match", "propose")
    proposed = narrow("match", "propose", "--format", "json")
    rows = json.loads(proposed.out)["proposals"]
    paired = [row for row in rows if row["mentor_id"] is not None]
    longest = max((row["explanation"]["mentor"]["name"] for row in paired), key=len)
    body = _tables(table.out)[0][3:-1]
    assert len(body) == len(paired)  # no row wrapped onto a second line
    shown = "".join(body)
    assert longest not in shown and f"{longest[:10]}" in shown  # Jeroen van den Bergh, cut at 80
    assert "…" in shown


def test_dropped_columns_are_named_in_one_line_and_json_has_them(narrow: Run) -> None:
    table = narrow("outbox", "list")
    hidden = [line for line in table.out.splitlines() if "hidden" in line]
    assert len(hidden) == 1 and "--format json shows all" in hidden[0], table.out
    names = re.search(r"hidden: (.*);", hidden[0])
    assert names is not None
    header = _tables(table.out)[0][1]
    for name in names.group(1).split(", "):
        assert name not in header
    assert "tries" in names.group(1)
    rows = json.loads(narrow("outbox", "list", "--format", "json").out)
    assert {"attempts", "next_attempt_at", "last_error"} <= set(rows[0])


def test_wide_terminal_shows_every_column(narrow: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    result = narrow("outbox", "list")
    assert "hidden" not in result.out
    assert all(name in result.out for name in ("tries", "next try", "last error"))


def test_times_carry_the_zone_in_one_format(narrow: Run) -> None:
    tick = narrow("tick", "--now", "2027-01-15T09:30")
    assert "tick at 2027-01-15 09:30 CET:" in tick.out
    status = narrow("status", "--as-of", "2027-01-15")
    assert "as of 2027-01-15 23:59 CET (replayed)" in status.out
    history = narrow("history", "1")
    assert SHOWN.search(_tables(history.out)[0][3]), history.out
    outbox = narrow("outbox", "list")
    assert "2027-01-15 00:00 CET" in _tables(outbox.out)[0][3], outbox.out
    insights = narrow("insights", "--as-of", "2027-01-15")
    assert "as of 2027-01-15 23:59 CET." in insights.out
    relationships = narrow("relationships", "list")
    assert SHOWN.search(_tables(relationships.out)[0][3]), relationships.out
    for out in (status.out, history.out, outbox.out, insights.out, relationships.out):
        assert "UTC" not in out and "Europe/Amsterdam" not in out


def test_json_keeps_iso_8601_with_the_offset(narrow: Run) -> None:
    history = json.loads(narrow("history", "1", "--format", "json").out)
    outbox = json.loads(narrow("outbox", "list", "--format", "json").out)
    status = json.loads(narrow("status", "--as-of", "2027-01-15", "--format", "json").out)
    relationships = json.loads(narrow("relationships", "list", "--format", "json").out)
    moments = [history[0]["at"], outbox[0]["next_attempt_at"], status["as_of"], relationships[0]["due_at"]]
    for moment in moments:
        assert ISO.match(moment), moment
