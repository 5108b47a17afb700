"""The program's flows one after the other: intake, matching, training, kickoff, cadence, evaluation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.store import goals as goal_store
from engine.store import reads
from engine.store.database import initialise, open_engine
from tests.e2e.conftest import EXAMPLES
from tests.integration.support import default_with_matching

pytestmark = pytest.mark.flows
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _at(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def _csv(path: Path, header: str, rows: list[str]) -> str:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return str(path)


def _in(url: str, phase: str) -> list[int]:
    store = open_engine(url)
    try:
        return [row["id"] for row in reads.relationships_list(store, phase)]
    finally:
        store.dispose()


def _goal_counts(url: str, rel_ids: list[int]) -> dict[int, int]:
    store = open_engine(url)
    try:
        with store.connect() as conn:
            return {rel: len(goals) for rel, goals in goal_store.mentee_goals(conn, rel_ids).items()}
    finally:
        store.dispose()


def test_a_cohort_goes_from_import_to_closed_through_the_flows(tmp_path: Path) -> None:
    from workflows.flows.cadence import cadence
    from workflows.flows.evaluation import evaluation
    from workflows.flows.intake import intake
    from workflows.flows.kickoff import kickoff
    from workflows.flows.matching import matching
    from workflows.flows.training import training

    url = f"sqlite:///{tmp_path / 'program.db'}"
    store = open_engine(url)
    initialise(store)
    store.dispose()
    policy = tmp_path / "auto.yaml"
    policy.write_text(default_with_matching("matching:\n  auto_approve_at: 0.3\n"), encoding="utf-8")
    where = {"database": url, "policy": str(policy)}

    imported = intake(file=str(EXAMPLES), now=_at(0), **where)
    assert len(imported.relationships_opened) == 14
    proposed = matching(now=_at(0), **where)
    assert proposed.approved  # above auto_approve_at: matched without the coordinator
    matched = _in(url, "matched")
    assert sorted(matched) == sorted(proposed.approved)

    mentors = _csv(tmp_path / "trained.csv", "mentor", ["E1001", "E1002", "E1003", "E1004", "E1005", "E1006"])
    assert training(file=mentors, now=_at(1), **where) >= len(matched)
    assert cadence(now=_at(1), **where).advanced.get("schedule_kickoff") == len(matched)

    held = _csv(tmp_path / "kickoffs.csv", "relationship,held_on", [f"{rel}," for rel in matched])
    assert kickoff(file=held, now=_at(3), **where) == len(matched)
    assert cadence(now=_at(3), **where).advanced.get("start") == len(matched)

    later = (T0 + timedelta(days=3)).replace(month=T0.month + 6) + timedelta(hours=1)
    assert cadence(now=later.isoformat(), **where).advanced.get("review") == len(matched)
    goals = _goal_counts(url, matched)
    answers = [
        f"{rel},{who},final,4,8,yes,{';'.join(['partly'] * goals[rel])}"
        for rel in matched
        for who in ("mentee", "mentor")
    ]
    header = "relationship,respondent,survey,satisfaction,recommend,met_regularly,goals"
    surveys = _csv(tmp_path / "surveys.csv", header, answers)
    assert evaluation(file=surveys, now=later.isoformat(), **where).advanced.get("close") == len(matched)
    assert sorted(_in(url, "closed")) == sorted(matched)


def test_a_bad_file_names_its_line_and_records_nothing(tmp_path: Path) -> None:
    from engine.errors import InputError
    from workflows.flows.kickoff import kickoff

    url = f"sqlite:///{tmp_path / 'program.db'}"
    store = open_engine(url)
    initialise(store)
    store.dispose()
    bad = _csv(tmp_path / "kickoffs.csv", "relationship,held_on", ["1,2026-01-05", "two,yesterday"])
    with pytest.raises(InputError) as error:
        kickoff(file=bad, database=url, now=_at(0))
    assert f"{bad}:3: relationship" in error.value.problems[0]
    assert any("held_on" in problem for problem in error.value.problems)
