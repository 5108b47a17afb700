"""Settings file lines and cron fields (engine.services.config_lines), and the demo's English plurals."""

from __future__ import annotations

import pytest

from engine.services.config_lines import cron_problem, key_lines
from workflows.cli.demo_report import counted

TEXT = """\
# a comment = not a key
[database]
url = "sqlite:///x.db"   # trailing comment

[channels]
default = [
  "email",   # url = "not a key"
]
routes = {notify_pair = ["email"], escalate = ["webhook"]}
text = \"\"\"
host = not a key either
\"\"\"

[channels.email]
"from" = "a@b.c"
server.port = 25
"""


def test_every_header_and_key_has_its_line_and_nothing_inside_strings_or_arrays_counts() -> None:
    lines = key_lines(TEXT)
    assert lines[("database",)] == 2 and lines[("database", "url")] == 3
    assert lines[("channels", "default")] == 6
    assert lines[("channels", "routes")] == 9
    assert lines[("channels", "routes", "escalate")] == 9
    assert lines[("channels", "email")] == 14 and lines[("channels", "email", "from")] == 15
    assert lines[("channels", "email", "server", "port")] == 16
    assert ("url",) not in lines and ("channels", "host") not in lines and ("a comment",) not in lines


@pytest.mark.parametrize(
    "good", ["0 7 * * *", "*/5 * * * *", "0 8 * * 1-5", "0,30 6-18/2 1 jan-dec mon", "0 0 * * 7"]
)
def test_good_cron_expressions_pass(good: str) -> None:
    assert cron_problem(good) is None


@pytest.mark.parametrize(
    ("bad", "said"),
    [
        ("0 7 * *", "4 field(s), expected five"),
        ("60 7 * * *", 'minute "60": "60" is out of range (expected 0-59)'),
        ("0 7 0 * *", 'day of month "0": "0" is out of range (expected 1-31)'),
        ("0 7 * 13 *", "month"),
        ("0 7 * * 8", "weekday"),
        ("*/0 * * * *", 'the step "0" is not a whole number above 0'),
        ("0 18-6 * * *", 'the range "18-6" runs backwards'),
        ("0 seven * * *", '"seven" is not a number, a range or *'),
    ],
)
def test_bad_cron_expressions_say_which_field_is_wrong(bad: str, said: str) -> None:
    problem = cron_problem(bad)
    assert problem is not None and said in problem


def test_the_demo_counts_in_english() -> None:
    assert counted(1, "relationship") == "1 relationship"
    assert counted(2, "relationship") == "2 relationships"
    assert counted(0, "entry", "entries") == "0 entries"
    assert counted(1, "person", "people") == "1 person"
