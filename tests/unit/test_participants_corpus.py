"""The corpus of bad participant CSVs: each is refused with one problem an operator can act on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from engine.errors import ParticipantsError
from engine.files.participants import parse_participants_csv

CORPUS = Path(__file__).parents[1] / "corpus" / "participants"
EXPECTED: dict[str, str] = tomllib.loads((CORPUS / "expected.toml").read_text("utf-8"))["parse"]


def test_every_corpus_file_is_listed_and_every_listed_file_exists() -> None:
    on_disk = {path.name for path in CORPUS.glob("*.csv")}
    assert on_disk == set(EXPECTED)
    assert len(on_disk) >= 12


@pytest.mark.parametrize(("name", "fragment"), sorted(EXPECTED.items()))
def test_corpus_file_is_refused_with_one_clear_problem(name: str, fragment: str) -> None:
    path = CORPUS / name

    with pytest.raises(ParticipantsError) as caught:
        parse_participants_csv(path)

    error = caught.value
    assert error.exit_code == 2
    assert len(error.problems) == 1, error.problems
    problem = error.problems[0]
    assert problem.startswith(f"{path}: ")
    assert name in error.message
    assert re.search(r"\b(row|line) \d+\b", problem), problem
    assert fragment in problem
    assert "pydantic" not in str(error).lower()
    assert "Input should" not in str(error)
