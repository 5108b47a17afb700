"""`mentorflow match` as a coordinator uses it on the example participants."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from .conftest import EXAMPLES, Run, snapshot


@pytest.fixture
def imported(run: Run, tmp_path: Path) -> Path:
    assert run("init").code == 0
    assert run("participants", "import", str(EXAMPLES)).code == 0
    return tmp_path / "mentorflow.db"


def test_propose_prints_a_table_a_coordinator_can_act_on(run: Run, imported: Path) -> None:
    done = run("match", "propose")

    assert done.code == 0, done.err
    out = done.out
    assert "match run 1: policy default (optimal), 14 mentee(s) waiting, 6 mentor(s)" in out
    lotte = next(line for line in out.splitlines() if "Lotte Smit" in line)
    assert "Daniel Okafor" in lotte and "0.99" in lotte and "pending" in lotte
    assert "not matched: 4" in out
    zoe = next(line for line in out.splitlines() if "Zoë Çelik" in line)
    assert "best score 0.36 (Søren Ødegaard)" in zoe and "Jeroen van den Bergh (0.69)" in zoe
    assert "total score 6.49 over 10 pair(s)" in out
    assert "next: mentorflow match explain REL" in out


def test_explain_says_why_the_mentees_manager_is_not_their_mentor(run: Run, imported: Path) -> None:
    run("match", "propose")

    thijs = run("match", "explain", "2")  # wants financial planning: only Fatima, his manager, offers it

    assert thijs.code == 0, thijs.err
    assert "relationship 2: Thijs Bakker (E1102) -> Marieke de Vries (E1004): score 0.42" in thijs.out
    assert "stakeholder management" in thijs.out
    fatima = next(line for line in thijs.out.splitlines() if "Fatima El Amrani (E1002)" in line)
    assert "0.95" in fatima and "in the mentee's reporting line: is the mentee's manager" in fatima

    zoe = run("match", "explain", "1")
    assert "relationship 1: Zoë Çelik (E1101): no mentor proposed" in zoe.out
    assert "why: best score 0.36 (Søren Ødegaard) is below the minimum 0.40" in zoe.out
    assert "2 levels above the mentee" in zoe.out


def test_approval_matches_the_pair_with_the_proposal_in_the_history(run: Run, imported: Path) -> None:
    run("match", "propose")

    done = run("match", "approve", "4", "--actor", "Hanna (HR)")

    assert done.code == 0, done.err
    assert done.out == "relationship 4: approved and matched\n"
    entry = json.loads(run("history", "4", "--format", "json").out)[-1]
    assert (entry["trigger"], entry["actor"], entry["to_phase"]) == ("match", "Hanna (HR)", "matched")
    assert entry["data"]["proposal"]["approved_by"] == "Hanna (HR)"
    assert entry["data"]["proposal"]["breakdown"]["skills"] == {"score": 1.0, "weight": 3.0}
    assert run("audit", "verify").code == 0
    assert "approved by Hanna (HR)" in run("match", "explain", "4").out


def test_reject_needs_a_reason_and_a_rejected_proposal_cannot_be_approved(run: Run, imported: Path) -> None:
    run("match", "propose")
    assert run("match", "reject", "4").code == 2  # --reason is required

    assert run("match", "reject", "4", "--reason", "Daniel is leaving").code == 0

    refused = run("match", "approve", "4")
    assert refused.code == 2
    assert "relationship 4: no pending proposal for relationship 4" in refused.err
    assert "rejected: Daniel is leaving" in run("match", "explain", "4").out


def test_approve_wants_ids_or_a_score_and_writes_nothing_without_them(run: Run, imported: Path) -> None:
    run("match", "propose")
    before = snapshot(imported)

    for args in ([], ["4", "--all-above", "0.5"]):
        done = run("match", "approve", *args)
        assert done.code == 2
        assert "give relationship ids or --all-above SCORE" in done.err
    assert snapshot(imported) == before

    above = run("match", "approve", "--all-above", "0.75")
    assert above.out.count("approved and matched") == 4


def test_propose_as_json_and_csv(run: Run, imported: Path) -> None:
    document = json.loads(run("match", "propose", "--format", "json").out)
    assert (document["proposed"], document["unmatched"], document["blocking_pairs"]) == (10, 4, 1)
    first = document["proposals"][0]
    assert first["explanation"]["mentee"]["name"] == "Zoë Çelik"

    rows = list(csv.DictReader(io.StringIO(run("match", "propose", "--format", "csv").out)))
    assert len(rows) == 14
    lotte = next(r for r in rows if r["mentee_key"] == "E1104")
    assert (lotte["mentor"], lotte["skills"], lotte["status"], lotte["run"]) == (
        "Daniel Okafor",
        "1.0",
        "pending",
        "2",
    )


def test_explain_of_an_unknown_relationship_or_before_any_run(run: Run, imported: Path) -> None:
    missing = run("match", "explain", "999")
    assert (missing.code, missing.err) == (
        2,
        "error: no relationship 999 (see `mentorflow relationships list`)\n",
    )
    early = run("match", "explain", "1")
    assert early.code == 2
    assert "has no matching proposal yet (run `mentorflow match propose`)" in early.err


def _table_rows(out: str) -> list[list[str]]:
    """The body lines of each boxed table in ``out``."""
    tables: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("┏"):
            tables.append([])
        elif tables and line.startswith("│"):
            tables[-1].append(line)
    return tables


def test_propose_shows_the_first_rows_and_says_how_many_more_and_how_to_see_them(
    run: Run, imported: Path
) -> None:
    done = run("match", "propose", "--limit", "5")

    assert done.code == 0, done.err
    proposed, unmatched = _table_rows(done.out)
    assert len(proposed) == 5 and len(unmatched) == 4
    more = [line for line in done.out.splitlines() if line.startswith("... and")]
    assert more == [
        "... and 5 more pair(s) (--limit 0 or --all shows every row; --format json or csv writes them all)"
    ]
    assert "total score 6.49 over 10 pair(s)" in done.out  # the summary counts every row, shown or not

    two = run("match", "propose", "--limit", "2").out
    assert [len(rows) for rows in _table_rows(two)] == [2, 2]
    assert "... and 8 more pair(s)" in two and "... and 2 more mentee(s) not matched" in two


@pytest.mark.parametrize("args", [(), ("--limit", "0"), ("--all",), ("--limit", "10")], ids=" ".join)
def test_propose_shows_every_row_when_they_fit_the_limit_or_all_are_asked_for(
    run: Run, imported: Path, args: tuple[str, ...]
) -> None:
    done = run("match", "propose", *args)

    assert done.code == 0, done.err
    assert [len(rows) for rows in _table_rows(done.out)] == [10, 4]
    assert "more pair(s)" not in done.out and "more mentee(s)" not in done.out


def test_json_and_csv_hold_every_proposal_whatever_the_limit(run: Run, imported: Path) -> None:
    document = json.loads(run("match", "propose", "--format", "json", "--limit", "1").out)
    assert len(document["proposals"]) == 14
    rows = list(csv.DictReader(io.StringIO(run("match", "propose", "--format", "csv", "--limit", "1").out)))
    assert len(rows) == 14


def test_a_negative_limit_is_refused_and_nothing_is_written(run: Run, imported: Path) -> None:
    before = snapshot(imported)

    done = run("match", "propose", "--limit", "-1")

    assert done.code == 2
    assert "--limit" in done.err and "Traceback" not in done.err
    assert snapshot(imported) == before
