"""The forms of the participant pages: their anti-forgery token, a survey's fields, a meeting's date.

A form carries a token bound to the link it was shown for (an HMAC of the link's token under a key
derived from the newest link key, for this use only): a form posted to a link's address without
having been shown there, e.g. from another site, is refused. The link itself is the credential and
the pages set no cookies, so there is no session for another site to ride on; the token, the
``Origin`` check and ``Referrer-Policy: same-origin`` close what is left (see README "mentorflow web").

A survey's answers are read from the form into what ``mentorflow record survey`` receives (text per
question, a list of levels for ``goals``) and checked by the engine's own
:func:`engine.domain.answers.check_answers`; only the wording of a problem is the page's own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from engine.domain.answers import MAX_TEXT, AnswerProblem
from engine.policy.surveys import GOAL_LEVELS, Question, Survey

_FORM_LABEL = b"mentorflow.web.form-token"
_SCALE = [str(n) for n in range(1, 6)]
_RECOMMEND = [str(n) for n in range(11)]


def form_token(keys: tuple[str, ...], token: str) -> str:
    """The anti-forgery token of the forms shown for the link ``token`` (under the newest key)."""
    return _mac(keys[0], token)


def form_token_ok(keys: tuple[str, ...], token: str, given: object) -> bool:
    """Whether ``given`` is the form token of ``token`` under one of ``keys`` (a form shown before a
    key rotation still posts)."""
    if not isinstance(given, str) or not given.isascii():
        return False
    return any(hmac.compare_digest(given, _mac(key, token)) for key in keys)


def _mac(key: str, token: str) -> str:
    derived = hmac.new(key.encode("utf-8"), _FORM_LABEL, hashlib.sha256).digest()
    mac = hmac.new(derived, token.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode("ascii")


def goal_field(question: Question, index: int) -> str:
    """The form field of the level of the mentee's ``index``-th goal."""
    return f"{question.id}.{index}"


def posted_answers(survey: Survey, goals: Sequence[str], form: Mapping[str, str]) -> dict[str, object]:
    """The answers of a posted survey form, as ``record survey`` takes them (a blank one is no answer)."""
    raw: dict[str, object] = {}
    for question in survey.questions:
        if question.type == "goals":
            levels = [form.get(goal_field(question, i), "") for i in range(len(goals))]
            raw[question.id] = levels if any(level.strip() for level in levels) else None
        else:
            raw[question.id] = form.get(question.id)
    return raw


def survey_fields(
    survey: Survey,
    goals: Sequence[str],
    language: str,
    t: Mapping[str, str],
    form: Mapping[str, str],
    errors: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The questions of ``survey`` as the form shows them, in ``language``, with what was entered."""
    fields = []
    for q in survey.questions:
        fields.append({
            "id": q.id, "type": q.type, "required": q.required, "limit": MAX_TEXT,
            "text": (q.text_nl or q.text) if language == "nl" else q.text,
            "options": _options(q, t), "value": form.get(q.id, ""), "error": errors.get(q.id),
            "goals": [
                {"name": name, "field": goal_field(q, i), "value": form.get(goal_field(q, i), "")}
                for i, name in enumerate(goals)
            ],
        })  # fmt: skip
    return fields


def _options(question: Question, t: Mapping[str, str]) -> list[tuple[str, str]]:
    if question.type == "scale":
        return [(n, n) for n in _SCALE]
    if question.type == "recommend":
        return [(n, n) for n in _RECOMMEND]
    if question.type == "yes_no":
        return [("yes", t["yes"]), ("no", t["no"])]
    if question.type == "goals":
        return [(level, t[level]) for level in GOAL_LEVELS]
    return []


def problem_text(
    survey: Survey, problem: AnswerProblem, raw: Mapping[str, object], t: Mapping[str, str]
) -> str:
    """What the page says about ``problem`` of the answers ``raw``: that one is missing, or what it
    should be."""
    question = survey.question(problem.question)
    if question is None:
        return t["not_recorded"]
    given = raw.get(question.id)
    if given is None or (isinstance(given, str) and not given.strip()):
        return t["required"]
    if question.type == "text":
        return t["err_text"].format(limit=MAX_TEXT)
    return t[f"err_{question.type}"]


def parse_day(text: str | None) -> date | None:
    """A date as a date field sends it (``2026-03-02``); ``None`` for anything else."""
    value = (text or "").strip()
    if len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
