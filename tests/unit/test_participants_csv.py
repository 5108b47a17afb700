"""Participants as HR exports them: the model and the all-or-nothing CSV import."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.domain.participants import CSV_COLUMNS, Participant
from engine.errors import MAX_PROBLEMS, ParticipantsError
from engine.files.participants import parse_participants_csv, parse_participants_text

EXAMPLE = Path(__file__).parents[2] / "examples" / "participants.csv"
DESIGN_HEADER = (
    "external_id,role,name,email,department,manager_id,level,skills,wants,goals,interests,"
    "values,work_style,communication,languages,timezone,capacity,trained"
)
JAN = "mentor,Jan Jansen,jan@example.com"


def csv_text(*rows: str, header: str = "role,name,email") -> str:
    return "\n".join([header, *rows]) + "\n"


def parse(*rows: str, header: str = "role,name,email") -> list[Participant]:
    return parse_participants_text(csv_text(*rows, header=header), "people.csv")


def problems(text: str) -> list[str]:
    with pytest.raises(ParticipantsError) as caught:
        parse_participants_text(text, "people.csv")
    return caught.value.problems


def only_problem(*rows: str, header: str = "role,name,email") -> str:
    found = problems(csv_text(*rows, header=header))
    assert len(found) == 1, found
    return found[0]


# The shipped example


def test_csv_columns_are_the_header_of_the_design() -> None:
    # status (active, leave, left) and qualities (personal qualities) are optional, and came later
    assert ",".join(CSV_COLUMNS) == DESIGN_HEADER + ",status,qualities"


def test_example_file_has_every_column_and_parses_to_14_mentees_and_6_mentors() -> None:
    assert EXAMPLE.read_text("utf-8").splitlines()[0] == DESIGN_HEADER + ",qualities"

    participants = parse_participants_csv(EXAMPLE)

    assert Counter(p.role for p in participants) == {"mentee": 14, "mentor": 6}
    assert len({p.key for p in participants}) == 20
    mentors = [p for p in participants if p.role == "mentor"]
    assert {p.capacity for p in mentors} <= {1, 2, 3}
    assert {p.trained for p in mentors} == {True, False}


def test_example_file_keeps_unicode_names() -> None:
    names = {p.name for p in parse_participants_csv(EXAMPLE)}

    expected = {"Zoë Çelik", "Jeroen van den Bergh", "Fatima El Amrani", "Søren Ødegaard"}
    assert expected <= names


# Values


def test_only_required_columns_give_defaults() -> None:
    [jan] = parse(JAN)

    assert jan == Participant(role="mentor", name="Jan Jansen", email="jan@example.com")
    assert (jan.external_id, jan.level, jan.timezone, jan.skills) == (None, None, None, ())
    assert (jan.capacity, jan.trained) == (1, False)


def test_key_is_external_id_if_set_else_email() -> None:
    with_id, without_id = parse(
        f"E1,{JAN}", ",mentee,Zoë Çelik,zoe@example.com", header="external_id,role,name,email"
    )

    assert with_id.key == "E1"
    assert without_id.key == "zoe@example.com"


def test_header_names_are_trimmed_and_case_insensitive() -> None:
    [jan] = parse(JAN, header=" Role ,NAME,Email")

    assert jan.email == "jan@example.com"


def test_cells_are_trimmed_and_email_lower_cased() -> None:
    [jan] = parse(" mentor ,  Jan Jansen , Jan.Jansen+Mentor@Example.COM ")

    assert (jan.name, jan.email) == ("Jan Jansen", "jan.jansen+mentor@example.com")


@pytest.mark.parametrize("role", ["Mentor", " MENTOR", "mentor "])
def test_role_is_case_insensitive_and_trimmed(role: str) -> None:
    [jan] = parse(f"{role},Jan,jan@example.com")

    assert jan.role == "mentor"


def test_lists_are_split_on_semicolons_trimmed_and_empty_items_dropped() -> None:
    header = "role,name,email,skills,languages"
    [jan] = parse(f"{JAN}, python ; ;code review;, nl ", header=header)

    assert jan.skills == ("python", "code review")
    assert jan.languages == ("nl",)


@pytest.mark.parametrize("word", ["true", "YES", "y", "1", "Ja", " ja "])
def test_trained_accepts_yes_words(word: str) -> None:
    [jan] = parse(f"{JAN},{word}", header="role,name,email,trained")

    assert jan.trained is True


@pytest.mark.parametrize("word", ["false", "No", "N", "0", "NEE", ""])
def test_trained_accepts_no_words_and_empty(word: str) -> None:
    [jan] = parse(f"{JAN},{word}", header="role,name,email,trained")

    assert jan.trained is False


def test_empty_capacity_is_one_and_empty_level_is_none() -> None:
    [jan] = parse(f"{JAN},,", header="role,name,email,capacity,level")

    assert (jan.capacity, jan.level) == (1, None)


def test_numbers_and_zones_are_read() -> None:
    [jan, zoe] = parse(
        f"{JAN},3,5,Europe/Amsterdam",
        "mentee,Zoë,zoe@example.com,0,0,UTC",
        header="role,name,email,capacity,level,timezone",
    )

    assert (jan.capacity, jan.level, jan.timezone) == (3, 5, "Europe/Amsterdam")
    assert (zoe.capacity, zoe.level, zoe.timezone) == (0, 0, "UTC")


def test_a_quoted_multiline_value_is_one_cell() -> None:
    [zoe] = parse('mentee,"Zoë Çelik\n\n",zoe@example.com')  # trailing line breaks are trimmed

    assert zoe.name == "Zoë Çelik"


def test_a_line_break_inside_a_value_is_refused_with_row_and_column() -> None:
    assert only_problem('mentee,"Eve\r\nBcc: x@example.com",eve@example.com') == (
        "people.csv: row 1 (line 2): column 'name': \"Eve\\r\\nBcc: x@example.com\" "
        "holds a line break (expected a single line)"
    )


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes("\ufeff".encode() + csv_text("mentee,Zoë Çelik,zoe@example.com").encode())

    [zoe] = parse_participants_csv(path)

    assert zoe.name == "Zoë Çelik"


def test_blank_lines_are_skipped() -> None:
    assert len(parse("", JAN, "  ", "mentee,Zoë,zoe@example.com", "")) == 2


# Problems in a row


def test_a_problem_names_file_row_line_column_and_value() -> None:
    good = [f"mentee,Person {n},p{n}@example.com" for n in range(1, 7)]

    assert only_problem(*good, "mentee,Jan,jan@") == (
        "people.csv: row 7 (line 8): column 'email': "
        '"jan@" is not an email address (expected name@example.com): there must be something after the @-sign'
    )


def test_line_numbers_count_multiline_values_and_blank_lines() -> None:
    rows = ['mentee,"Zoë Çelik\n\n",zoe@example.com', "", "mentee,Jan,jan@"]

    assert only_problem(*rows).startswith("people.csv: row 2 (line 6): ")


@pytest.mark.parametrize(
    "email",
    ["jan@", "jan", "@example.com", "jan@example", "jan@@example.com", "jan doe@example.com",
     "jan@example.c", ".jan@example.com", "jan..d@example.com", "jan@-example.com"],
)  # fmt: skip
def test_bad_email_addresses_are_refused(email: str) -> None:
    assert "is not an email address (expected name@example.com)" in only_problem(f"mentor,Jan,{email}")


@pytest.mark.parametrize("email", ["o'brien@example.co.uk", "jan_2@mail.example-corp.nl"])
def test_good_email_addresses_are_accepted(email: str) -> None:
    assert parse(f"mentor,Jan,{email}")[0].email == email


def test_an_international_address_is_kept_in_its_normalised_form() -> None:
    # NFD "é" (e + combining accent) and an upper-case domain: stored as NFC, lower case
    assert parse("mentor,José,JOSE\u0301.MÜLLER@EXÄMPLE.COM")[0].email == "josé.müller@exämple.com"
    assert parse("mentor,Jan,jan@xn--exmple-cua.com")[0].email == "jan@exämple.com"


def test_two_spellings_of_one_address_are_one_email() -> None:
    found = problems(csv_text("mentor,Jan,jan@xn--exmple-cua.com", "mentor,Jan,JAN@exämple.com"))
    assert any("is already used by row 1" in problem for problem in found), found


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("Ann\x00e", "U+0000"), ("Ann\te", "U+0009"), ("Ann\x1be", "U+001B")],
)
def test_control_characters_are_refused_with_row_and_column(cell: str, shown: str) -> None:
    problem = only_problem(f"mentor,{cell},ann@example.com")
    assert problem.startswith("people.csv: row 1 (line 2): column 'name': ")
    assert problem.endswith(f"holds the control character {shown} (expected plain text)")


@pytest.mark.parametrize("column", ["department", "external_id", "manager_id", "skills"])
def test_control_characters_are_refused_in_every_text_column(column: str) -> None:
    problem = only_problem("mentor,Ann,ann@example.com,a\u2028b", header=f"role,name,email,{column}")
    assert f"column '{column}'" in problem and "holds a line break" in problem


@pytest.mark.parametrize(("column", "longest"), [("name", 200), ("external_id", 100),
                                                 ("department", 200), ("manager_id", 100)])  # fmt: skip
def test_values_longer_than_their_column_are_refused(column: str, longest: int) -> None:
    cells = {"role": "mentor", "name": "Ann", "email": "ann@example.com", column: "x" * (longest + 1)}
    problem = only_problem(",".join(cells.values()), header=",".join(cells))
    assert (
        f"column '{column}'" in problem
        and f"is {longest + 1} characters long (at most {longest} are stored)" in problem
    )


@pytest.mark.parametrize("column", ["level", "capacity"])
def test_integers_beyond_the_store_are_refused(column: str) -> None:
    problem = only_problem("mentor,Ann,ann@example.com,2147483648", header=f"role,name,email,{column}")
    assert f"column '{column}': \"2147483648\" is too large (at most 2147483647)" in problem


def test_unknown_role_says_which_values_are_allowed() -> None:
    assert only_problem("coach,Jan,jan@example.com").endswith(
        """column 'role': "coach" is not a role (allowed: mentor, mentee)"""
    )


@pytest.mark.parametrize(
    ("row", "column"),
    [(",Jan,jan@example.com", "role"), ("mentor, ,jan@example.com", "name"), ("mentor,Jan,", "email")],
)  # fmt: skip
def test_required_values_must_be_present(row: str, column: str) -> None:
    assert f"column '{column}': is empty (expected " in only_problem(row)


def test_a_short_row_lacks_its_required_values() -> None:
    assert "column 'email': is empty" in only_problem("mentor,Jan")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("capacity", "three", '"three" is not a whole number'),
        ("capacity", "-1", '"-1" must be 0 or more'),
        ("level", "-2", '"-2" must be 0 or more'),
        ("level", "senior", '"senior" is not a whole number'),
        ("level", "2.5", '"2.5" is not a whole number'),
        ("trained", "maybe", '"maybe" is not yes or no'),
        ("timezone", "Europe/Amsterdan", "is not a known time zone (did you mean Europe/Amsterdam?)"),
        ("timezone", "Mars/Olympus", "is not a known time zone (expected a name such as"),
        ("timezone", "Europe", "is not a known time zone"),
        ("timezone", "../etc/passwd", "is not a known time zone"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_in_operator_words(column: str, value: str, message: str) -> None:
    problem = only_problem(f"{JAN},{value}", header=f"role,name,email,{column}")

    assert problem.startswith(f"people.csv: row 1 (line 2): column '{column}': ")
    assert message in problem


def test_a_mentees_capacity_is_still_validated() -> None:
    row = "mentee,Zoë,zoe@example.com,lots"

    assert "is not a whole number" in only_problem(row, header="role,name,email,capacity")


def test_manager_cannot_be_the_participant_themself() -> None:
    problem = only_problem(f"E7,{JAN},E7", header="external_id,role,name,email,manager_id")

    assert problem == (
        "people.csv: row 1 (line 2): column 'manager_id': "
        '"E7" is the participant\'s own external_id (nobody can be their own manager)'
    )


def test_a_row_with_more_fields_than_the_header_is_refused() -> None:
    assert only_problem(f"{JAN},extra") == (
        "people.csv: row 1 (line 2): 4 fields but the header has 3 columns"
        " (quote a value that contains a comma)"
    )


def test_duplicate_email_names_both_rows_whatever_the_case() -> None:
    problem = only_problem(JAN, "mentee,Zoë,zoe@example.com", "mentee,Jan again, JAN@example.com")

    assert problem == (
        "people.csv: row 3 (line 4): column 'email': \"JAN@example.com\" is already used by row 1 (line 2)"
    )


def test_duplicate_external_id_names_both_rows() -> None:
    header = "external_id,role,name,email"
    problem = only_problem(f"E1,{JAN}", "E1,mentee,Zoë,zoe@example.com", header=header)

    assert problem.endswith("""column 'external_id': "E1" is already used by row 1 (line 2)""")


def test_rows_without_external_id_are_not_duplicates() -> None:
    header = "external_id,role,name,email"

    assert len(parse(f",{JAN}", ",mentee,Zoë,zoe@example.com", header=header)) == 2


def test_every_problem_in_the_file_is_reported_in_row_order() -> None:
    found = problems(
        csv_text(
            "boss,Jan,jan@example.com,1",
            "mentee,Zoë,zoe@,-1",
            "mentee,Ann,JAN@example.com,x",
            header="role,name,email,level",
        )
    )

    assert [p.split(": column ")[0] for p in found] == [
        "people.csv: row 1 (line 2)",
        "people.csv: row 2 (line 3)",
        "people.csv: row 2 (line 3)",
        "people.csv: row 3 (line 4)",
        "people.csv: row 3 (line 4)",
    ]


def test_problems_are_capped_at_50_with_a_count_of_the_rest() -> None:
    with pytest.raises(ParticipantsError) as caught:
        rows = [f"mentor,Jan,jan{n}@" for n in range(60)]
        parse_participants_text(csv_text(*rows), "people.csv")

    assert len(caught.value.problems) == MAX_PROBLEMS + 1
    assert caught.value.problems[-1] == "... and 10 more problems"
    assert caught.value.message == "people.csv: participants not imported, 60 problems"


def test_pydantic_wording_never_reaches_the_operator() -> None:
    header = ",".join(CSV_COLUMNS)
    row = "E1,boss,,x,HR,E1,-1,,,,,,,,,Nowhere/Town,many,perhaps"
    with pytest.raises(ParticipantsError) as caught:
        parse_participants_text(csv_text(row, header=header), "people.csv")

    text = str(caught.value)
    assert len(caught.value.problems) == 8
    for leak in ("Input should", "validation error", "pydantic", "Value error", "[type="):
        assert leak not in text


# Problems with the file


def test_empty_file_is_refused() -> None:
    assert problems("")[0].startswith("people.csv: line 1: file is empty (expected a header: ")
    assert "file is empty" in problems(" \n\n")[0]


def test_header_without_rows_is_refused() -> None:
    assert problems("role,name,email\n\n") == [
        "people.csv: no participants in file (only the header, line 1)"
    ]


def test_a_file_without_header_is_refused() -> None:
    [problem] = problems(csv_text("E2,mentee,Zoë,zoe@example.com", header=f"E1,{JAN}"))

    assert problem.startswith("people.csv: line 1: no header (expected column names: external_id,")


def test_unknown_column_suggests_the_name_meant() -> None:
    assert only_problem(JAN, header="role,name,emial") == (
        "people.csv: line 1: unknown column 'emial' (did you mean 'email'?)"
    )


def test_unknown_column_without_a_near_name_lists_the_known_ones() -> None:
    problem = only_problem(f"{JAN},0612345678", header="role,name,email,phone")  # strict: refused

    assert problem.startswith("people.csv: line 1: unknown column 'phone' (known: external_id, ")


def test_missing_required_column_is_refused() -> None:
    assert only_problem("mentor,Jan", header="role,name") == (
        "people.csv: line 1: missing required column 'email'"
    )


def test_duplicate_and_unnamed_columns_are_refused() -> None:
    found = problems(csv_text(f"{JAN},jan2@example.com,", header="role,name,email,Email,"))

    assert found == [
        "people.csv: line 1: column 'email' appears twice (columns 3 and 4)",
        "people.csv: line 1: column 5 has no name",
    ]


def test_semicolon_separated_file_is_read() -> None:
    [jan] = parse_participants_text("role;name;email\nmentor;Jan;jan@example.com\n", "people.csv")

    assert (jan.role, jan.name, jan.email) == ("mentor", "Jan", "jan@example.com")


def test_an_unclosed_quote_names_the_line_it_starts_on() -> None:
    [problem] = problems(csv_text(JAN, 'mentee,"Zoë,zoe@example.com', JAN))

    assert problem.startswith("people.csv: line 3: a quoted value that starts in this row is never")


def test_a_file_not_in_utf8_names_each_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    text = csv_text(JAN, "mentee,Zoë Çelik,zoe@example.com", "mentee,Søren,soren@example.com")
    path.write_bytes(text.encode("latin-1"))

    with pytest.raises(ParticipantsError) as caught:
        parse_participants_csv(path)

    assert caught.value.problems == [
        f"{path}: line 3: not UTF-8 (byte 0xEB at position 10);"
        ' save the file as UTF-8 (in Excel: "CSV UTF-8")',
        f"{path}: line 4: not UTF-8 (byte 0xF8 at position 9);"
        ' save the file as UTF-8 (in Excel: "CSV UTF-8")',
    ]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"

    with pytest.raises(ParticipantsError) as caught:
        parse_participants_csv(path)

    assert caught.value.message == f"{path}: no such file"


def test_a_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ParticipantsError, match="is a directory, not a CSV file") as caught:
        parse_participants_csv(tmp_path)

    assert str(tmp_path) in caught.value.message


def test_the_error_message_names_the_file_and_the_count() -> None:
    with pytest.raises(ParticipantsError) as caught:
        parse_participants_text(csv_text("mentor,Jan,jan@"), "people.csv")

    assert caught.value.message == "people.csv: participants not imported, 1 problem"
    assert caught.value.exit_code == 2


# The model


def test_participant_is_frozen_and_forbids_unknown_fields() -> None:
    jan = Participant(role="mentor", name="Jan", email="jan@example.com")

    with pytest.raises(ValidationError):
        jan.name = "Piet"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Participant.model_validate({"role": "mentor", "name": "Jan", "email": "j@x.nl", "age": 3})


def test_participant_takes_python_lists_and_normalises_them() -> None:
    jan = Participant(
        role="mentor", name="Jan", email="Jan@Example.com", skills=[" python ", ""], trained="ja"
    )

    assert (jan.email, jan.skills, jan.trained) == ("jan@example.com", ("python",), True)
