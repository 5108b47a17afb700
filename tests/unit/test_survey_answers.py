"""Answers checked against a survey's questions and brought into one form, without a store."""

from __future__ import annotations

from typing import Any

import pytest

from engine.domain.answers import check_answers
from engine.policy.surveys import standard_surveys

FINAL = standard_surveys()["final"]


def _check(raw: dict[str, Any], goals: int = 2) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    answers, problems = check_answers(FINAL, raw, goals)
    return answers, [(p.question, p.message) for p in problems]


def test_text_and_typed_answers_are_stored_the_same_way() -> None:
    from_text = {
        "satisfaction": " 4",
        "recommend": "10",
        "met_regularly": "Nee",
        "goals": "Reached; not started",
    }
    typed = {"satisfaction": 4, "recommend": 10, "met_regularly": False, "goals": ["reached", "not_started"]}
    expected = {
        "satisfaction": 4,
        "recommend": 10,
        "met_regularly": False,
        "goals": ["reached", "not_started"],
    }
    assert _check(from_text) == (expected, [])
    assert _check(typed) == (expected, [])
    assert _check({**typed, "comments": "  Thanks!  "})[0]["comments"] == "Thanks!"
    assert _check({**typed, "goals": "Started; partly"}) == ({**expected, "goals": ["started", "partly"]}, [])


@pytest.mark.parametrize("word", ["yes", "ja", "TRUE", "no", "nee", "false"])
def test_yes_and_no_in_english_and_dutch(word: str) -> None:
    answers, problems = _check(
        {"satisfaction": 3, "recommend": 5, "met_regularly": word, "goals": []}, goals=0
    )
    assert problems == [] and answers["met_regularly"] is (word.lower() in ("yes", "ja", "true"))


@pytest.mark.parametrize(
    ("question", "value", "message"),
    [
        ("satisfaction", "7", "7 is not on the 1-5 scale (expected a whole number from 1 to 5)"),
        ("satisfaction", "0", "0 is not on the 1-5 scale"),
        ("satisfaction", 4.5, "4.5 is not on the 1-5 scale"),
        ("satisfaction", True, "true is not on the 1-5 scale"),
        ("satisfaction", "four", "four is not on the 1-5 scale"),
        ("recommend", "-1", "-1 is not a 0-10 recommend score (expected a whole number from 0 to 10)"),
        ("recommend", "11", "11 is not a 0-10 recommend score"),
        (
            "met_regularly",
            "sometimes",
            "sometimes is not yes or no (expected yes, no, ja, nee, true or false)",
        ),
        ("met_regularly", 1, "1 is not yes or no"),
        (
            "goals",
            "reached",
            "1 level(s) for 2 development goal(s) of the mentee (expected one level per goal",
        ),
        ("goals", "reached;partly;partly", "3 level(s) for 2 development goal(s)"),
        (
            "goals",
            "reached;done",
            "done is not a goal level"
            " (expected one of: reached, partly, started, not_started, separated by ;)",
        ),
        ("comments", 42, "42 is not text (expected text)"),
        ("comments", "x" * 4001, "the text is 4001 characters long (expected at most 4000)"),
    ],
)
def test_a_wrong_answer_names_its_question_and_what_was_expected(
    question: str, value: Any, message: str
) -> None:
    good = {"satisfaction": 4, "recommend": 8, "met_regularly": True, "goals": ["partly", "partly"]}
    answers, problems = _check({**good, question: value})
    assert len(problems) == 1 and problems[0][0] == question
    assert problems[0][1].startswith(message), problems[0][1]
    assert question not in answers


def test_unknown_questions_and_missing_required_answers_are_named() -> None:
    _, problems = _check({"satisfation": "4", "goals": "partly;partly", "recommend": " "})
    assert problems == [
        ("satisfation", 'unknown question "satisfation": did you mean "satisfaction"? (expected one of: '
         "satisfaction, recommend, met_regularly, goals, comments)"),
        ("satisfaction", "is not answered (expected an answer: it is required)"),
        ("recommend", "is not answered (expected an answer: it is required)"),
        ("met_regularly", "is not answered (expected an answer: it is required)"),
    ]  # fmt: skip


def test_a_mentee_without_goals_answers_no_goal_levels() -> None:
    answers, problems = _check({"satisfaction": 5, "recommend": 9, "met_regularly": "ja"}, goals=0)
    assert problems == [] and answers["goals"] == []
    _, problems = _check(
        {"satisfaction": 5, "recommend": 9, "met_regularly": "ja", "goals": "reached"}, goals=0
    )
    assert problems == [("goals", "1 level(s) for 0 development goal(s) of the mentee "
                                  "(expected one level per goal, in the order of their goals)")]  # fmt: skip
