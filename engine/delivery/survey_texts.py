"""A survey's questions as a message lists them: each question's text and how to answer it, per language."""

from __future__ import annotations

from typing import Any

from engine.policy.surveys import Survey

ANSWER_FORMS = {
    "en": {
        "scale": "1 to 5",
        "recommend": "0 to 10",
        "yes_no": "yes or no",
        "goals": "for each development goal: reached, partly, started or not started",
        "text": "in your own words",
    },
    "nl": {
        "scale": "1 tot 5",
        "recommend": "0 tot 10",
        "yes_no": "ja of nee",
        "goals": "per ontwikkeldoel: bereikt, deels, begonnen of niet begonnen",
        "text": "in je eigen woorden",
    },
}


def survey_questions(survey: Survey | None, language: str) -> list[dict[str, Any]] | None:
    """The questions of ``survey`` as a message lists them, in ``language``; ``None``: not known."""
    if survey is None:
        return None
    forms = ANSWER_FORMS.get(language, ANSWER_FORMS["en"])
    return [
        {
            "id": q.id,
            "text": (q.text_nl or q.text) if language == "nl" else q.text,
            "answer": forms[q.type],
            "required": q.required,
        }
        for q in survey.questions
    ]
