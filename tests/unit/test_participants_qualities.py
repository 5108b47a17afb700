"""The optional ``qualities`` column of the participants CSV: read when there, nothing when not."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import ParticipantsError
from engine.files.participants import read_participants, read_participants_text
from engine.simulation import generate_program, participants_csv
from engine.simulation.people import QUALITIES

EXAMPLE = Path(__file__).parents[2] / "examples" / "participants.csv"
HEADER = "external_id,role,name,email,qualities"


def test_the_column_gives_each_person_their_qualities_in_order() -> None:
    rows = ["E1,mentor,Jan,jan@example.com,Patience; empathy ;;reliability", "E2,mentee,Zoë,zoe@example.com,"]
    read = read_participants_text("\n".join([HEADER, *rows]) + "\n", "people.csv")

    jan, zoe = read.people
    assert jan.qualities == ("Patience", "empathy", "reliability")
    assert zoe.qualities == ()  # an empty cell: none
    assert "qualities" in read.columns  # a re-import sets them, an empty cell clears them


def test_a_file_without_the_column_reads_as_before() -> None:
    read = read_participants_text(
        "external_id,role,name,email\nE1,mentor,Jan,jan@example.com\n", "people.csv"
    )

    [jan] = read.people
    assert jan.qualities == ()
    assert "qualities" not in read.columns  # a re-import leaves the stored qualities as they are
    assert "qualities" not in jan.model_fields_set
    assert read.warning is None


def test_the_column_may_stand_anywhere_and_with_a_semicolon_delimiter() -> None:
    read = read_participants_text(
        "qualities;role;name;email\npatience,humour;mentor;Jan;jan@example.com\n", "x.csv"
    )

    assert read.people[0].qualities == ("patience,humour",)  # the list separator is ';', in quotes or not


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ('"patience\r\nBcc: x@example.com"', "holds a line break (expected a single line)"),
        ('"patience\x07"', "holds the control character U+0007 (expected plain text)"),
    ],
)
def test_a_bad_quality_names_file_row_and_column(cell: str, problem: str) -> None:
    text = f"{HEADER}\nE1,mentor,Jan,jan@example.com,empathy\nE2,mentee,Zoë,zoe@example.com,{cell}\n"

    with pytest.raises(ParticipantsError) as refused:
        read_participants_text(text, "people.csv")

    [found] = refused.value.problems
    assert found.startswith("people.csv: row 2 (line 3): column 'qualities': ")
    assert found.endswith(problem)


def test_a_misspelt_column_is_ignored_with_a_warning_or_refused_when_strict() -> None:
    text = "role,name,email,qualitys\nmentor,Jan,jan@example.com,patience\n"

    read = read_participants_text(text, "people.csv")
    with pytest.raises(ParticipantsError) as refused:
        read_participants_text(text, "people.csv", strict=True)

    assert read.people[0].qualities == ()
    assert read.warning is not None and "ignoring unknown column(s) 'qualitys'" in read.warning
    assert refused.value.problems == [
        "people.csv: line 1: unknown column 'qualitys' (did you mean 'qualities'?)"
    ]


def test_the_example_file_gives_everyone_qualities() -> None:
    read = read_participants(EXAMPLE)

    assert "qualities" in read.columns
    assert all(p.qualities for p in read.people)
    mentors = [p for p in read.people if p.role == "mentor"]
    assert all(len(p.qualities) >= 3 for p in mentors)  # what a mentor brings


def test_simulated_people_have_qualities_drawn_from_the_seed() -> None:
    first, again, other = (
        generate_program(7, 30, 10),
        generate_program(7, 30, 10),
        generate_program(8, 30, 10),
    )

    assert [p.qualities for p in first.participants] == [p.qualities for p in again.participants]
    assert [p.qualities for p in first.participants] != [p.qualities for p in other.participants]
    for person in first.participants:
        assert set(person.qualities) <= set(QUALITIES)
        assert 2 <= len(person.qualities) <= 4 if person.role == "mentor" else 1 <= len(person.qualities) <= 2
    exported = read_participants_text(participants_csv(first.participants), "demo.csv")
    assert [p.qualities for p in exported.people] == [p.qualities for p in first.participants]
