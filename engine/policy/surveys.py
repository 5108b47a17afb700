"""Surveys: what a survey asks, when it goes out, how often it is reminded, as a policy defines them.

The standard surveys (``pulse``, ``final``, ``closing``) ship in
``policies/surveys.yaml``. A policy names a survey in ``{send_survey: NAME}``
(sent on entering a phase) or gives it a timed ``send: {phase, after}``; its
top-level ``surveys:`` mapping overrides a standard survey field by field
(``surveys: {pulse: {send: {phase: active, after: 4 weeks}}}`` keeps the
standard questions) and defines surveys of its own, which must give their
``title`` and ``questions``. Other code (metrics, reports) relies on the ids of
the standard questions: ``satisfaction``, ``recommend``, ``met_regularly``,
``goals`` and ``comments``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError, model_validator

from engine.errors import PolicyError
from engine.policy.fields import NAME_PATTERN, DurationText, PolicyModel
from engine.policy.problems import Loc, describe_errors, dotted, shown, unknown_name

if TYPE_CHECKING:
    from engine.policy.model import Policy

STANDARD_FILE = "surveys.yaml"
SURVEY_NAME = r"^[a-z][a-z0-9_-]*$"  # as ``{send_survey: NAME}`` accepts it
QuestionType = Literal["scale", "recommend", "yes_no", "text", "goals"]
QUESTION_TYPES: tuple[str, ...] = ("scale", "recommend", "yes_no", "text", "goals")
GOAL_LEVELS: tuple[str, ...] = ("reached", "partly", "started", "not_started")  # how far, most first
RESPONDENTS: tuple[str, ...] = ("mentee", "mentor")


class Question(PolicyModel):
    """One question: a 1-5 ``scale``, a 0-10 ``recommend`` score, ``yes_no``, free ``text``, or ``goals``.

    A ``goals`` question asks, per development goal of the mentee (their
    ``goals``, in order), how far they got: ``reached``, ``partly``, ``started`` or
    ``not_started``. Every question is required except ``text`` ones, unless
    ``required:`` says otherwise.
    """

    id: str = Field(pattern=NAME_PATTERN)
    text: str = Field(min_length=1)
    text_nl: str | None = None
    type: QuestionType
    required: bool = True

    @model_validator(mode="before")
    @classmethod
    def _free_text_is_optional(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "required" not in data:
            return {**data, "required": data.get("type") != "text"}
        return data


class SurveySend(PolicyModel):
    """A timed send: once per stay in ``phase``, when the pair has been in it for ``after``."""

    phase: str = Field(pattern=NAME_PATTERN)
    after: DurationText


class SurveyRemind(PolicyModel):
    """Reminders to whoever has not answered since the survey was sent: every ``every``, ``times`` at most."""

    every: DurationText
    times: int = Field(default=1, ge=1, le=12)


class Survey(PolicyModel):
    """A survey as it is sent: its title, its questions, and when it goes out and is reminded."""

    title: str = Field(min_length=1)
    title_nl: str | None = None
    questions: list[Question] = Field(min_length=1)
    send: SurveySend | None = None
    remind: SurveyRemind | None = None

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


class SurveyEntry(PolicyModel):
    """A survey under a policy's ``surveys:``: every field optional, each one given replaces the standard's.

    ``remind: null`` switches a standard survey's reminders off.
    """

    title: str | None = Field(default=None, min_length=1)
    title_nl: str | None = None
    questions: list[Question] | None = Field(default=None, min_length=1)
    send: SurveySend | None = None
    remind: SurveyRemind | None = None


class _StandardFile(PolicyModel):
    surveys: dict[str, Survey]


@lru_cache(maxsize=1)
def standard_surveys() -> dict[str, Survey]:
    """The standard surveys shipped in ``policies/surveys.yaml``, by name."""
    from engine.policy.yamlsafe import load_yaml_file  # YAML is imported only when a file is read

    path = Path(str(resources.files("policies").joinpath(STANDARD_FILE)))
    loaded = load_yaml_file(path)
    try:
        surveys = _StandardFile.model_validate(loaded.data).surveys
    except ValidationError as exc:
        problems = describe_errors(loaded, exc.errors(), _StandardFile)
        raise PolicyError(f"{path}: the standard surveys are not valid", problems) from None
    found = [problem for name, survey in surveys.items() for problem in _question_problems(name, survey)]
    if found:
        raise PolicyError(
            f"{path}: the standard surveys are not valid",
            [f"{path}:{loaded.line_for(loc)}: {dotted(loc)}: {message}" for loc, message in found],
        )
    return surveys


def effective_surveys(entries: Mapping[str, SurveyEntry]) -> dict[str, Survey]:
    """The standard surveys with a policy's entries laid over them (each one complete, as checked on load)."""
    surveys = dict(standard_surveys())
    for name, entry in entries.items():
        given = {field: getattr(entry, field) for field in entry.model_fields_set}
        base = surveys.get(name)
        surveys[name] = base.model_copy(update=given) if base else Survey(**given)
    return surveys


def survey_problems(policy: Policy) -> list[tuple[Loc, str]]:
    """What is wrong with the surveys a policy defines and sends, each with its place in the file."""
    standard = standard_surveys()
    problems: list[tuple[Loc, str]] = []
    for name, entry in policy.surveys.items():
        missing = [f"`{f}:`" for f in ("title", "questions") if getattr(entry, f) is None]
        if name not in standard and missing:
            problems.append(
                (
                    ("surveys", name),
                    f"{shown(name)} is not a standard survey, so it needs its own {' and '.join(missing)} "
                    f"(standard surveys: {', '.join(standard)})",
                )
            )
        elif entry.questions is not None:
            problems += _question_problems(name, entry)
    if problems:
        return problems
    surveys = effective_surveys(policy.surveys)
    return _sending_problems(policy, surveys)


def _question_problems(name: str, survey: Survey | SurveyEntry) -> list[tuple[Loc, str]]:
    seen: set[str] = set()
    problems: list[tuple[Loc, str]] = []
    for index, question in enumerate(survey.questions or ()):
        if question.id in seen:
            loc: Loc = ("surveys", name, "questions", index, "id")
            problems.append((loc, f"{shown(question.id)} is asked twice (expected each question id once)"))
        seen.add(question.id)
    return problems


def _sending_problems(policy: Policy, surveys: Mapping[str, Survey]) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    on_entering: dict[str, set[str]] = {}
    for phase_name, phase in policy.phases.items():
        for index, call in enumerate(phase.on_enter):
            if call.name != "send_survey":
                continue
            sent = str(getattr(call.param, "survey", ""))
            loc: Loc = ("phases", phase_name, "on_enter", index, "send_survey")
            if sent not in surveys:
                problems.append((loc, unknown_name("survey", sent, sorted(surveys))))
                continue
            on_entering.setdefault(sent, set()).add(phase_name)
            if phase.terminal and surveys[sent].remind is not None:
                problems.append((_where(policy, sent, "remind", loc), _no_reminders(sent, phase_name)))
    for name in policy.surveys:
        if name not in on_entering and surveys[name].send is None:
            problems.append(
                (
                    ("surveys", name),
                    f"{name} is defined but never sent, so nobody could answer it (expected "
                    f"{{send_survey: {name}}} in a phase's on_enter, or `send: {{phase: P, after: D}}` here)",
                )
            )
    for name, survey in surveys.items():
        if survey.send is None:
            continue
        where = _where(policy, name, "send", ("surveys", name))
        problems += [((*where, "phase"), message) for message in _send_phase_problems(policy, name, survey)]
        if survey.send.phase in on_entering.get(name, set()):
            problems.append(
                (
                    (*where, "phase"),
                    f"{name} is already sent on entering {survey.send.phase} "
                    f"(expected either this timed send or {{send_survey: {name}}} there, not both)",
                )
            )
    return problems


def _send_phase_problems(policy: Policy, name: str, survey: Survey) -> list[str]:
    assert survey.send is not None
    phase = survey.send.phase
    if phase not in policy.phases:
        return [unknown_name("phase", phase, list(policy.phases))]
    if policy.phases[phase].terminal:
        return [
            f"{shown(phase)} is a terminal phase (expected a phase that is not terminal: "
            "nothing is due in a terminal phase, so no timed survey can go out there)"
        ]
    return []


def _where(policy: Policy, survey: str, field: str, fallback: Loc) -> Loc:
    """The survey's own field in the policy file if the policy sets it there, else ``fallback``."""
    entry = policy.surveys.get(survey)
    if entry is not None and field in entry.model_fields_set:
        return ("surveys", survey, field)
    return fallback


def _no_reminders(survey: str, phase: str) -> str:
    return (
        f"{survey} has reminders, but it is sent on entering the terminal phase {phase} "
        "(expected no `remind:`: nothing is due in a terminal phase, so no reminder can go out)"
    )
