"""Surveys in a policy: the standard ones, a policy's overrides and its own, and every load error.

The first version of the default policy (tests/design_policy.py) has 35
lines; a ``surveys:`` section appended to it starts at line 36, so the lines below
count from there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from engine.errors import PolicyError
from engine.policy.durations import Duration
from engine.policy.model import Policy, load_policy_text
from engine.policy.survey_plans import SurveyPlan
from engine.policy.surveys import SurveyRemind, standard_surveys
from tests.design_policy import DESIGN_BLOCK, DESIGN_DIGEST

SOURCE = "policies/team.yaml"
DEFAULT = DESIGN_BLOCK  # the surveys below are added to the design's policy, whose lines stay put
WEEK = Duration(seconds=7 * 86400)
NOT_FOR_OPERATORS = ("Input should", "Value error", "Field required", "pydantic", "type=", "[key]")
WHAT_WAS_EXPECTED = re.compile(r"\((expected|try|standard surveys)|: did you mean")


def _with(surveys: str, *edits: tuple[str, str]) -> str:
    text = DEFAULT
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text + surveys


def _load(text: str) -> Policy:
    return load_policy_text(text, SOURCE)


def _problem(text: str) -> str:
    with pytest.raises(PolicyError) as caught:
        _load(text)
    assert len(caught.value.problems) == 1, caught.value.problems
    problem = caught.value.problems[0]
    assert not [word for word in NOT_FOR_OPERATORS if word in str(caught.value)], str(caught.value)
    assert WHAT_WAS_EXPECTED.search(problem), f"say what was expected: {problem}"
    return problem


# --- the standard surveys -----------------------------------------------------------------------


def test_the_standard_surveys_ask_what_metrics_and_reports_rely_on() -> None:
    surveys = standard_surveys()
    ids = {name: [(q.id, q.type) for q in survey.questions] for name, survey in surveys.items()}
    assert ids == {
        "pulse": [("satisfaction", "scale"), ("met_regularly", "yes_no"), ("comments", "text")],
        "final": [
            ("satisfaction", "scale"),
            ("recommend", "recommend"),
            ("met_regularly", "yes_no"),
            ("goals", "goals"),
            ("comments", "text"),
        ],
        "closing": [("satisfaction", "scale"), ("recommend", "recommend"), ("comments", "text")],
    }
    assert surveys["final"].remind == SurveyRemind(every=WEEK, times=2)
    assert surveys["pulse"].remind == SurveyRemind(every=WEEK, times=1)
    assert surveys["closing"].remind is None  # sent on entering `closed`, where nothing is due
    assert all(survey.send is None for survey in surveys.values())
    assert all(q.text and q.text_nl for survey in surveys.values() for q in survey.questions)


def test_free_text_is_optional_and_everything_else_required_unless_said_otherwise() -> None:
    final = standard_surveys()["final"]
    assert {q.id: q.required for q in final.questions} == {
        "satisfaction": True, "recommend": True, "met_regularly": True, "goals": True, "comments": False
    }  # fmt: skip
    policy = _load(
        _with(
            "surveys:\n  exit:\n    title: Exit\n    questions:\n"
            "      - {id: why, type: text, text: Why, required: true}\n"
            "      - {id: score, type: scale, text: Score, required: false}\n",
            ("{send_survey: closing}", "{send_survey: exit}"),
        )
    )
    assert {q.id: q.required for q in policy.survey_definitions["exit"].questions} == {
        "why": True, "score": False
    }  # fmt: skip


def test_the_surveys_file_is_package_data_and_not_a_policy() -> None:
    from engine.policy.model import shipped_policies

    assert "surveys" not in shipped_policies()
    assert Path(__file__).resolve().parents[2].joinpath("policies", "surveys.yaml").is_file()


# --- a policy's own surveys ------------------------------------------------------------------------


def test_an_override_replaces_only_the_fields_it_gives() -> None:
    policy = _load(_with("surveys:\n  pulse:\n    send: {phase: active, after: 4 weeks}\n"))
    pulse = policy.survey_definitions["pulse"]
    assert pulse.questions == standard_surveys()["pulse"].questions
    assert pulse.remind == standard_surveys()["pulse"].remind
    assert pulse.send is not None and (pulse.send.phase, str(pulse.send.after)) == ("active", "4 weeks")
    assert policy.survey_plans["active"] == (SurveyPlan("pulse", pulse.send.after, pulse.remind),)
    assert policy.survey_definitions["final"] == standard_surveys()["final"]


def test_reminders_can_be_switched_off_and_changed() -> None:
    policy = _load(
        _with(
            "surveys:\n  final:\n    remind: null\n"
            "  pulse:\n    send: {phase: active, after: 4 weeks}\n    remind: {every: 3 days, times: 3}\n"
        )
    )
    assert policy.survey_definitions["final"].remind is None
    three_days = Duration(seconds=3 * 86400)
    assert policy.survey_definitions["pulse"].remind == SurveyRemind(every=three_days, times=3)


def test_a_policy_without_surveys_keeps_its_version_and_one_with_surveys_shows_them_in_full() -> None:
    plain = _load(DEFAULT)
    assert "surveys" not in plain.normalised()
    shipped = (Path(__file__).resolve().parents[2] / "policies" / "default.yaml").read_text("utf-8")
    assert "surveys" not in _load(shipped).normalised()  # the shipped default has none either
    assert plain.digest == DESIGN_DIGEST  # the version it had before policies could have surveys
    with_pulse = _load(_with("surveys:\n  pulse:\n    send: {phase: active, after: 1 month}\n"))
    shown = with_pulse.normalised()["surveys"]
    assert list(shown) == ["pulse"]
    assert [q["id"] for q in shown["pulse"]["questions"]] == ["satisfaction", "met_regularly", "comments"]
    assert shown["pulse"]["send"] == {"phase": "active", "after": "1 month"}
    again = _load(yaml.safe_dump(with_pulse.normalised(), sort_keys=False, allow_unicode=True))
    assert again.digest == with_pulse.digest != plain.digest
    other = _load(_with("surveys:\n  pulse:\n    send: {phase: active, after: 5 weeks}\n"))
    assert other.digest != with_pulse.digest


# --- load errors: file, line, field, what was expected ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "path", "fragment"),
    [
        (
            _with("", ("{send_survey: final}", "{send_survey: fnial}")),
            23,
            "phases.review.on_enter[0].send_survey",
            'unknown survey "fnial": did you mean "final"? (expected one of: closing, final, pulse)',
        ),
        (
            _with("surveys:\n  exit:\n    remind: {every: 1 week}\n"),
            37,
            "surveys.exit",
            '"exit" is not a standard survey, so it needs its own `title:` and `questions:`',
        ),
        (
            _with("surveys:\n  pulse:\n    send: {phase: actve, after: 4 weeks}\n"),
            38,
            "surveys.pulse.send.phase",
            'unknown phase "actve": did you mean "active"?',
        ),
        (
            _with("surveys:\n  pulse:\n    send: {phase: closed, after: 4 weeks}\n"),
            38,
            "surveys.pulse.send.phase",
            '"closed" is a terminal phase (expected a phase that is not terminal',
        ),
        (
            _with("surveys:\n  final:\n    send: {phase: review, after: 1 week}\n"),
            38,
            "surveys.final.send.phase",
            "final is already sent on entering review (expected either this timed send or {send_survey:",
        ),
        (
            _with("surveys:\n  closing:\n    remind: {every: 1 week, times: 1}\n"),
            38,
            "surveys.closing.remind",
            "closing has reminders, but it is sent on entering the terminal phase closed (expected no",
        ),
        (
            _with("surveys:\n  pulse:\n    send: {phase: active, after: 4}\n"),
            38,
            "surveys.pulse.send.after",
            '4 is not a duration: say which unit (try "4 days" or "4 weeks")',
        ),
        (
            _with("surveys:\n  pulse:\n    remind: {every: 1 week, times: 0}\n"),
            38,
            "surveys.pulse.remind.times",
            "0 is out of range (expected 1 or more)",
        ),
        (
            _with("surveys:\n  pulse:\n    questions:\n      - {id: score, type: stars, text: Score}\n"),
            39,
            "surveys.pulse.questions[0].type",
            '"stars" is not allowed (expected "scale", "recommend", "yes_no", "text" or "goals")',
        ),
        (
            _with("surveys:\n  pulse:\n    questions:\n      - {id: Score, type: scale, text: Score}\n"),
            39,
            "surveys.pulse.questions[0].id",
            '"Score" is not a valid name (expected lower-case letters, digits, _, starting with a letter)',
        ),
        (
            _with("surveys:\n  pulse:\n    questions:\n      - {id: score, type: scale, txet: Score}\n"),
            39,
            "surveys.pulse.questions[0].txet",
            'unknown key "txet": did you mean "text"? (expected one of: id, text, text_nl, type, required)',
        ),
        (
            _with(
                "surveys:\n  pulse:\n    questions:\n"
                "      - {id: score, type: scale, text: Score}\n"
                "      - {id: score, type: yes_no, text: Again}\n"
            ),
            40,
            "surveys.pulse.questions[1].id",
            '"score" is asked twice (expected each question id once)',
        ),
        (
            _with("surveys:\n  pulse:\n    qustions: []\n"),
            38,
            "surveys.pulse.qustions",
            'unknown key "qustions": did you mean "questions"?',
        ),
        (
            _with("", ("{trigger: renew, from:", "{trigger: record_survey, from:")),
            33,
            "transitions[4].trigger",
            '"record_survey" is reserved for the audit entries of recorded meetings and survey answers',
        ),
    ],
    ids=[
        "unknown survey sent",
        "own survey without questions",
        "timed send to an unknown phase",
        "timed send in a terminal phase",
        "timed send and on_enter in one phase",
        "reminders in a terminal phase",
        "duration without unit",
        "reminded zero times",
        "unknown question type",
        "question id not a name",
        "misspelt question key",
        "question asked twice",
        "misspelt survey key",
        "reserved trigger",
    ],
)
def test_a_survey_problem_names_file_line_field_and_what_was_expected(
    text: str, line: int, path: str, fragment: str
) -> None:
    problem = _problem(text)
    assert problem.startswith(f"{SOURCE}:{line}: {path}: "), problem
    assert fragment in problem, problem


def test_a_survey_the_policy_defines_but_never_sends_is_an_error_naming_its_line() -> None:
    with pytest.raises(PolicyError, match=r"surveys\.pulse: pulse is defined but never sent"):
        _load(_with("surveys:\n  pulse:\n    remind: {every: 3 days, times: 3}\n"))
