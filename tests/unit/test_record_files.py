"""Files of what happened (trainings, kickoffs, survey answers): read whole, every problem named."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.errors import InputError
from engine.files.records import read_kickoffs, read_survey_answers, read_trainings
from engine.services.recording import SurveyResponse


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "file.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_trainings_are_the_mentor_column(tmp_path: Path) -> None:
    assert read_trainings(_file(tmp_path, "mentor,note\nE1001,done\n\nsoren@example.com,\n")) == [
        "E1001",
        "soren@example.com",
    ]


def test_a_file_without_the_column_says_what_it_needs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="lacks mentor"):
        read_trainings(_file(tmp_path, "name\nJeroen\n"))


def test_kickoffs_read_dates_in_the_program_time_zone(tmp_path: Path) -> None:
    rows = read_kickoffs(_file(tmp_path, "relationship,held_on\n3,2026-02-01\n4,\n"), "Europe/Amsterdam")
    assert rows == [(3, datetime(2026, 2, 1, 12, tzinfo=ZoneInfo("Europe/Amsterdam"))), (4, None)]


def test_every_bad_row_is_named_and_nothing_is_returned(tmp_path: Path) -> None:
    path = _file(tmp_path, "relationship,respondent,survey,satisfaction\n1,mentee,,5\nx,manager,final,2\n")
    with pytest.raises(InputError) as error:
        read_survey_answers(path)
    assert error.value.problems == [
        f"{path}:row 3: column relationship: 'x' is not a relationship id (a number)",
        f"{path}:row 3: column respondent: 'manager' is not mentor or mentee",
    ]


def test_survey_answers_keep_the_other_columns_and_their_row(tmp_path: Path) -> None:
    path = _file(tmp_path, "relationship,respondent,survey,satisfaction,comments\n1,Mentee,,5,\n")
    assert read_survey_answers(path) == [
        SurveyResponse(1, "final", "mentee", {"satisfaction": "5"}, f"{path}:row 2")
    ]
