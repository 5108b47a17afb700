"""The survey page: the policy's survey as a form, recorded as ``mentorflow record survey`` records it.

The survey is the one the link names, else the latest one sent to this person in the pair's current
phase that they have not answered. Answers are checked by the engine's own rules first, so a wrong
one comes back as the form again (422) naming each question, with nothing written; then
:func:`engine.services.recording.record_survey` checks them again and writes the answer and its
audit entry in one transaction, as the command does.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import HTMLResponse

from engine.domain.answers import check_answers
from engine.errors import ConflictError, MentorflowError
from engine.policy.surveys import Survey
from engine.services.link_pages import link_page
from engine.services.recording import record_survey
from workflows.web.forms import posted_answers, problem_text, survey_fields
from workflows.web.pages import Visit, log


def chosen(visit: Visit, posted: str | None = None) -> tuple[str, str | None]:
    """(``open``, ``already`` or ``closed``; the survey) for this visit; ``posted``: the form's survey."""
    page = visit.page
    wanted = visit.opened.link.survey or posted or (page.open_surveys[0] if page.open_surveys else None)
    if wanted is None:
        return ("already", page.answered_surveys[0]) if page.answered_surveys else ("closed", None)
    if wanted not in visit.config.policy.survey_definitions:
        return "closed", None
    if wanted in page.answered_surveys:
        return "already", wanted
    return ("open", wanted) if wanted in page.open_surveys else ("closed", wanted)


def show(visit: Visit) -> HTMLResponse:
    state, name = chosen(visit)
    if state == "already":
        return visit.already(visit.t["survey_already"])
    if state == "closed" or name is None:
        return visit.not_open("survey_not_open")
    return _form(visit, name, {}, {}, 200)


def submit(visit: Visit, form: Mapping[str, str]) -> HTMLResponse:
    state, name = chosen(visit, form.get("survey"))
    if state == "already":
        return visit.already(visit.t["survey_already"])
    if state == "closed" or name is None:
        return visit.not_open("survey_not_open")
    survey = visit.config.policy.survey_definitions[name]
    raw = posted_answers(survey, visit.page.goals, form)
    _, problems = check_answers(survey, raw, len(visit.page.goals))
    if problems:
        errors = {p.question: problem_text(survey, p, raw, visit.t) for p in problems}
        return _form(visit, name, form, errors, 422)
    config, page = visit.config, visit.page
    try:
        record_survey(
            config.store, config.policy, config.clock, page.relationship_id, name, page.role, raw,
            actor=page.actor,
        )  # fmt: skip
    except ConflictError:
        return visit.not_open("busy")
    except MentorflowError as exc:
        return _not_recorded(visit, name, exc)
    return visit.done(visit.t["survey_done"])


def _not_recorded(visit: Visit, name: str, exc: MentorflowError) -> HTMLResponse:
    """The service refused: answered meanwhile (say so), or something else (say it was not recorded)."""
    again = link_page(visit.config.store, visit.config.policy, visit.opened, visit.config.clock.now())
    if again is not None and name in again.answered_surveys:
        return visit.already(visit.t["survey_already"])
    log.info("a survey answer was not recorded: %s", type(exc).__name__)
    return visit.not_open("not_recorded")


def _form(
    visit: Visit, name: str, form: Mapping[str, str], errors: Mapping[str, str], status: int
) -> HTMLResponse:
    survey: Survey = visit.config.policy.survey_definitions[name]
    fields = survey_fields(survey, visit.page.goals, visit.language, visit.t, form, errors)
    summary = [(f"q-{qid}", text) for qid, text in errors.items()]
    title = (survey.title_nl or survey.title) if visit.language == "nl" else survey.title
    return visit.render("survey.html.j2", status, title, questions=fields, errors=summary, survey=name)
