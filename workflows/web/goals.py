"""The goals page: the mentee's development goals, set and updated by the mentee through their link.

The page lists the pair's goals with the program goal each serves, its target date and its level. On
the mentee's link, while the pair is not closed, it has two forms, posted to the page's own address
with the form token every link form carries: one adds a goal (``action=add``: a title, optionally the
program goal it serves and a target date), one records how far the mentee got (``action=levels``: a
field ``level-<goal id>`` per goal). The mentor's link shows the goals read-only (a form posted from
it is refused, 403), and so does a closed pair's (409); nothing is written then.

The page checks a form itself first, so a wrong field comes back as the page again naming it, in the
reader's words, with nothing written: 422 for what is not valid (no title, one too long, an unknown
program goal, a target date that is not a date or is past, a level not among the four), 409 for what
the pair's goals refuse (a title it has already, one goal too many). Then
:func:`engine.services.goals.set_goals` or :func:`~engine.services.goals.record_levels` checks again
and writes the goal or the levels with their audit entries (``set_goal``, ``goal_progress``) in one
transaction, with the link's actor. What was recorded sends the browser back to the page (303), which
shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import HTMLResponse, RedirectResponse, Response

from engine.errors import ConflictError, MentorflowError
from engine.policy.program import title_in
from engine.policy.surveys import GOAL_LEVELS
from engine.services.goals import MAX_GOALS, MAX_TITLE, GoalLevel, NewGoal, record_levels, set_goals
from engine.services.link_pages import PageGoal
from workflows.web.forms import parse_day
from workflows.web.pages import Visit, log

ADD, LEVELS = "add", "levels"
"""The ``action`` of the page's two forms (the value of their submit buttons)."""


def level_field(goal_id: int) -> str:
    """The form field (and the element id) of the level of the goal ``goal_id``."""
    return f"level-{goal_id}"


def show(visit: Visit) -> HTMLResponse:
    return _page(visit, {}, {}, None, 200)


def submit(visit: Visit, form: Mapping[str, str]) -> Response:
    """A goal added or levels recorded: by the mentee only, while the pair is not closed."""
    if visit.page.role != "mentee":
        return visit.not_open("goals_mentee_only", 403)
    if visit.closed:
        return visit.not_open("goals_closed", 409)
    action = form.get("action")
    if action == ADD:
        return _add(visit, form)
    if action == LEVELS:
        return _levels(visit, form)
    return visit.not_open("not_recorded", 400)


def _add(visit: Visit, form: Mapping[str, str]) -> Response:
    title = " ".join(form.get("title", "").split())
    errors = _new_goal_errors(visit, title, form)
    if errors:
        return _page(visit, form, errors, ADD, 422)
    refusal = _title_refused(visit, title)
    if refusal is not None:
        return _page(visit, form, {"title": refusal}, ADD, 409)
    config, page = visit.config, visit.page
    served = form.get("program_goal", "").strip() or None
    goal = NewGoal(page.relationship_id, title, served, parse_day(form.get("target")), actor=page.actor)
    try:
        set_goals(config.store, config.policy, config.clock, [goal], actor=page.actor, single=True)
    except ConflictError:
        return visit.not_open("busy")
    except MentorflowError as exc:
        log.info("a development goal was not set: %s", type(exc).__name__)
        return visit.not_open("not_recorded")
    return _back(visit)


def _new_goal_errors(visit: Visit, title: str, form: Mapping[str, str]) -> dict[str, str]:
    """What is wrong with the fields of a goal to add, by field (its element's id)."""
    t, errors = visit.t, {}
    if not title:
        errors["title"] = t["err_goal_title"]
    elif len(title) > MAX_TITLE:
        errors["title"] = t["err_goal_long"].format(limit=MAX_TITLE, length=len(title))
    served = form.get("program_goal", "").strip()
    if served and served not in {goal.id for goal in visit.config.policy.program.goal_list}:
        errors["program_goal"] = t["err_program_goal"]
    target = form.get("target", "").strip()
    day = parse_day(target)
    if target and day is None:
        errors["target"] = t["err_date"].format(example=visit.today.isoformat())
    elif day is not None and day < visit.today:
        errors["target"] = t["err_target_past"]
    return errors


def _title_refused(visit: Visit, title: str) -> str | None:
    """Why the pair's goals refuse a goal titled ``title``: it has one so titled, or the most it may."""
    have = [" ".join(goal.title.split()).casefold() for goal in visit.page.goal_records]
    if title.casefold() in have:
        return visit.t["err_goal_twice"]
    if len(have) >= MAX_GOALS:
        return visit.t["err_goal_many"].format(limit=MAX_GOALS)
    return None


def _levels(visit: Visit, form: Mapping[str, str]) -> Response:
    """The level of each goal the form gives one for; a goal left as it was writes nothing."""
    config, page = visit.config, visit.page
    errors: dict[str, str] = {}
    changed: list[GoalLevel] = []
    for goal in page.goal_records:
        given = form.get(level_field(goal.id))
        if given is None or given == goal.level:
            continue
        if given not in GOAL_LEVELS:
            errors[level_field(goal.id)] = visit.t["err_level"]
        else:
            changed.append(GoalLevel(page.relationship_id, goal.id, given, actor=page.actor))
    if errors:
        return _page(visit, form, errors, LEVELS, 422)
    if not changed:
        return _back(visit)
    try:
        record_levels(config.store, config.policy, config.clock, changed, actor=page.actor, single=True)
    except ConflictError:
        return visit.not_open("busy")
    except MentorflowError as exc:
        log.info("a goal's level was not recorded: %s", type(exc).__name__)
        return visit.not_open("not_recorded")
    return _back(visit)


def _back(visit: Visit) -> Response:
    """Back to the page (303), which shows what was recorded."""
    return RedirectResponse(f"{visit.config.prefix}/l/{visit.opened.purpose}/{visit.token}", status_code=303)


def _page(
    visit: Visit, form: Mapping[str, str], errors: Mapping[str, str], which: str | None, status: int
) -> HTMLResponse:
    """The page, with what was entered in the form ``which`` and what is wrong with it."""
    t, page = visit.t, visit.page
    mentee, closed = page.role == "mentee", visit.closed
    editable = mentee and not closed
    entered = form if which == ADD else {}
    program = [(goal.id, title_in(goal, visit.language)) for goal in visit.config.policy.program.goal_list]
    goals = [
        _shown(visit, goal, form if which == LEVELS else {}, errors, dict(program))
        for goal in page.goal_records
    ]
    full = len(goals) >= MAX_GOALS and which != ADD
    return visit.render(
        "goals.html.j2", status, t["goals_title" if mentee else "goals_title_mentor"],
        errors=list(errors.items()), intro=t["goals_intro" if mentee else "goals_intro_mentor"],
        note=t["goals_closed"] if closed else None if mentee else t["goals_read_only"],
        goals=goals, editable=editable, adding=editable and not full,
        full=t["goals_full"].format(limit=MAX_GOALS) if editable and full else None,
        levels=[(level, t[level]) for level in GOAL_LEVELS], program_goals=program,
        title_hint=t["goal_title_hint"].format(limit=MAX_TITLE), limit=MAX_TITLE,
        today=visit.today.isoformat(),
        new_title=entered.get("title", ""), title_error=errors.get("title"),
        program_goal=entered.get("program_goal", ""), program_goal_error=errors.get("program_goal"),
        target=entered.get("target", ""), target_error=errors.get("target"),
    )  # fmt: skip


def _shown(
    visit: Visit, goal: PageGoal, form: Mapping[str, str], errors: Mapping[str, str], program: dict[str, str]
) -> dict[str, Any]:
    """A goal as the page shows it: its program goal's title in the reader's language (its id if the
    policy names it no longer), its target date as people read it, its level (as posted, on a form
    shown again)."""
    t, name = visit.t, level_field(goal.id)
    served = program.get(goal.program_goal, goal.program_goal) if goal.program_goal else None
    target = visit.shown(goal.target_date) if goal.target_date else None
    about = [t["goal_serves"].format(goal=served)] if served else []
    about += [t["goal_target"].format(day=target)] if target else []
    return {
        "id": goal.id, "title": goal.title, "program_goal": served, "target": target,
        "about": " · ".join(about), "level": goal.level, "level_text": t.get(goal.level, goal.level),
        "field": name, "value": form.get(name, goal.level), "error": errors.get(name),
    }  # fmt: skip
