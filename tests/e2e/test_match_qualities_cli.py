"""`mentorflow match` with personal qualities: a column and a line of explanation where the policy weighs
them, nothing new where it does not."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .conftest import EXAMPLES, Run

BUDDY = ("--policy", "onboarding-buddy")  # weighs the qualities (2)


def _line(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if name in line)


def test_propose_shows_the_qualities_column_and_explain_its_line(run: Run) -> None:
    assert run("init").code == 0
    assert run("participants", "import", str(EXAMPLES), *BUDDY).code == 0

    done = run("match", "propose", *BUDDY)

    assert done.code == 0, done.err
    header = _line(done.out, "┃ rel")
    assert header.index("tz") < header.index("qual") < header.index("status")
    lotte = _line(done.out, "Lotte Smit")
    qual = [cell.strip() for cell in header.split("┃")].index("qual")
    assert "Daniel Okafor" in lotte and lotte.split("│")[qual].strip() == "1.00"  # enthusiasm, honesty
    assert "qual: qualities the mentee looks for that the mentor brings" in " ".join(done.out.split())

    explained = run("match", "explain", "4")
    assert explained.code == 0, explained.err
    row = _line(explained.out, "personal qualities")
    assert "│ 2 " in row and "1.00" in row and "qualities 2/2 enthusiasm, honesty" in row


def test_propose_as_csv_has_the_qualities_column(run: Run) -> None:
    assert run("init").code == 0
    assert run("participants", "import", str(EXAMPLES), *BUDDY).code == 0

    rows = list(csv.DictReader(io.StringIO(run("match", "propose", "--format", "csv", *BUDDY).out)))

    lotte = next(r for r in rows if r["mentee_key"] == "E1104")
    assert (lotte["mentor"], lotte["qualities"]) == ("Daniel Okafor", "1.0")
    assert list(rows[0])[7:14] == ["skills", "goals_and_interests", "compatibility", "language", "timezone",
                                   "qualities", "status"]  # fmt: skip


def test_a_policy_without_the_weight_shows_no_qualities(run: Run, tmp_path: Path) -> None:
    unweighed = tmp_path / "buddy-v1.yaml"
    text = (Path(__file__).parents[2] / "policies" / "onboarding-buddy.yaml").read_text(encoding="utf-8")
    unweighed.write_text(text.replace(", qualities: 2}", "}"), encoding="utf-8")
    assert run("init").code == 0
    assert run("participants", "import", str(EXAMPLES), "--policy", str(unweighed)).code == 0

    done = run("match", "propose", "--policy", str(unweighed))

    assert done.code == 0, done.err
    assert "qual" not in _line(done.out, "┃ rel") and "qual:" not in done.out
    assert "personal qualities" not in run("match", "explain", "4").out


def test_a_file_without_the_column_imports_as_before(run: Run, tmp_path: Path) -> None:
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    plain = tmp_path / "people.csv"
    plain.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n", encoding="utf-8")
    assert "qualities" not in plain.read_text(encoding="utf-8")
    assert run("init").code == 0

    done = run("participants", "import", str(plain))

    assert done.code == 0, done.err
    assert "20 new, 0 updated, 0 unchanged" in done.out
    again = run("participants", "import", str(EXAMPLES))
    assert "0 new, 20 updated, 0 unchanged" in again.out  # the qualities arrive
    assert "0 new, 0 updated, 20 unchanged" in run("participants", "import", str(plain)).out  # and stay


def test_a_bad_quality_is_refused_naming_file_row_and_column(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "people.csv"
    bad.write_text('role,name,email,qualities\nmentor,Jan,jan@example.com,"patience\x07"\n', encoding="utf-8")
    assert run("init").code == 0

    done = run("participants", "import", str(bad))

    assert done.code == 2
    assert f"{bad}: row 1 (line 2): column 'qualities': " in done.err
    assert "holds the control character U+0007 (expected plain text)" in done.err
