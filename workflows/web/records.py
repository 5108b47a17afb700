"""The meeting, kickoff, training and help pages: what ``mentorflow record meeting`` and ``record
training`` record, confirmed by a participant, and a request for help or a pause, which tells the
coordinator (:mod:`engine.services.help`).

A meeting is recorded once: when the other side of the pair confirms the same meeting (the same
kind on the same day), or a kickoff is confirmed once one is recorded, the page says it is already
recorded and nothing is written (the service would refuse it without ``--again``). A date is the
day in the program's time zone: today is recorded as now, as the command does without ``--on``, an
earlier day as its start, as ``--on DAY`` does. A training is recorded at once, or, when the policy
sets ``links.confirm_training``, reported for a coordinator to confirm (:mod:`engine.services.training`);
while the report waits the page says so and a second submit writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from starlette.responses import HTMLResponse

from engine.clock import held_at
from engine.domain.relationships import MEETING_KINDS
from engine.errors import ConflictError, MentorflowError
from engine.services.link_pages import link_page
from engine.services.meeting_checks import kickoff_phases
from engine.services.recording import record_meeting
from engine.services.training import RECORDED, TRAINED, WAITING, open_training_report, report_training
from workflows.web.forms import parse_day
from workflows.web.pages import Visit, log

KINDS = tuple(kind for kind in MEETING_KINDS if kind != "kickoff")
"""What the meeting page offers; the kickoff has a page of its own."""


def _pair_open(visit: Visit) -> bool:
    """Whether meetings can be recorded for the pair: it has a mentor and is not closed."""
    return visit.page.mentor_id is not None and not visit.closed


def _recorded_on(visit: Visit, kind: str) -> list[datetime]:
    return [at for k, at in visit.page.meetings if k == kind]


def show_meeting(visit: Visit) -> HTMLResponse:
    if not _pair_open(visit):
        return visit.not_open()
    return _meeting_form(visit, "meeting", {}, {}, 200)


def submit_meeting(visit: Visit, form: Mapping[str, str]) -> HTMLResponse:
    if not _pair_open(visit):
        return visit.not_open()
    kind = form.get("kind", "")
    errors = _date_errors(visit, form)
    if kind not in KINDS:
        errors["kind"] = visit.t["err_kind"]
    if errors:
        return _meeting_form(visit, "meeting", form, errors, 422)
    held = parse_day(form.get("held_on"))
    assert held is not None
    if any(visit.day_of(at) == held for at in _recorded_on(visit, kind)):
        return visit.already(visit.t["meeting_already"].format(day=visit.shown(held)))
    return _record(visit, kind, held, "meeting_done", "meeting_already")


def show_kickoff(visit: Visit) -> HTMLResponse:
    refused = _kickoff_refused(visit)
    return refused if refused is not None else _meeting_form(visit, "kickoff", {}, {}, 200)


def submit_kickoff(visit: Visit, form: Mapping[str, str]) -> HTMLResponse:
    refused = _kickoff_refused(visit)
    if refused is not None:
        return refused
    errors = _date_errors(visit, form)
    if errors:
        return _meeting_form(visit, "kickoff", form, errors, 422)
    held = parse_day(form.get("held_on"))
    assert held is not None
    return _record(visit, "kickoff", held, "kickoff_done", "kickoff_already")


def _kickoff_refused(visit: Visit) -> HTMLResponse | None:
    """Already recorded (once is enough: either side may confirm it), or not possible now."""
    held = _recorded_on(visit, "kickoff")
    if held:
        return visit.already(visit.t["kickoff_already"].format(day=visit.shown(visit.day_of(max(held)))))
    if not _pair_open(visit):
        return visit.not_open()
    expected = kickoff_phases(visit.config.policy)
    if expected and visit.page.phase not in expected:
        return visit.not_open("kickoff_not_open")
    return None


def _date_errors(visit: Visit, form: Mapping[str, str]) -> dict[str, str]:
    t, held = visit.t, parse_day(form.get("held_on"))
    began = visit.day_of(visit.page.began)
    if held is None:
        return {"held_on": t["err_date"].format(example=visit.today.isoformat())}
    if held > visit.today:
        return {"held_on": t["err_future"]}
    if held < began:
        return {"held_on": t["err_early"].format(began=visit.shown(began))}
    return {}


def _record(visit: Visit, kind: str, held: date, done: str, already: str) -> HTMLResponse:
    """Record the meeting through the service; a refusal because it was recorded meanwhile is shown as
    already recorded."""
    config, page = visit.config, visit.page
    on = held_at(held, visit.now, ZoneInfo(config.program.timezone))
    try:
        record_meeting(
            config.store, config.policy, config.clock, page.relationship_id, kind, on, actor=page.actor
        )
    except ConflictError:
        return visit.not_open("busy")
    except MentorflowError as exc:
        again = link_page(config.store, config.policy, visit.opened, config.clock.now())
        if again is not None and any(k == kind and visit.day_of(at) == held for k, at in again.meetings):
            return visit.already(visit.t[already].format(day=visit.shown(held)))
        log.info("a %s meeting was not recorded: %s", kind, type(exc).__name__)
        return visit.not_open("not_recorded")
    return visit.done(visit.t[done].format(day=visit.shown(held)))


def _meeting_form(
    visit: Visit, which: str, form: Mapping[str, str], errors: Mapping[str, str], status: int
) -> HTMLResponse:
    t, began = visit.t, visit.day_of(visit.page.began)
    other = t["mentor"] if visit.page.role == "mentee" else t["mentee"]
    meeting = which == "meeting"
    summary = list(errors.items())  # each field's id is its name
    return visit.render(
        "meeting.html.j2", status, t[f"{which}_title"], errors=summary,
        intro=t["meeting_intro"].format(other=other) if meeting else t["kickoff_intro"],
        date_label=t["date_label"] if meeting else t["kickoff_label"],
        date_hint=t["date_hint"].format(began=visit.shown(began)),
        held_on=form.get("held_on", visit.today.isoformat()), began=began.isoformat(),
        today=visit.today.isoformat(), date_error=errors.get("held_on"),
        kinds=[(k, t[f"kind_{k}"]) for k in KINDS] if meeting else [], kind=form.get("kind", "check-in"),
        kind_error=errors.get("kind"), submit=t[f"{which}_submit"],
    )  # fmt: skip


def show_training(visit: Visit) -> HTMLResponse:
    confirm = visit.config.policy.confirm_training
    closed = _training_closed(visit)
    return closed or visit.render("training.html.j2", 200, visit.t["training_title"], confirm=confirm)


def submit_training(visit: Visit, form: Mapping[str, str]) -> HTMLResponse:
    """Recorded at once, or reported for the coordinator (``links.confirm_training``): the service
    decides, and says when the mentor was trained or reported meanwhile (nothing written then)."""
    closed = _training_closed(visit)
    if closed is not None:
        return closed
    config, page = visit.config, visit.page
    try:
        done = report_training(config.store, config.policy, config.clock, page.reference, page.actor)
    except ConflictError:
        return visit.not_open("busy")
    except MentorflowError as exc:
        log.info("a training was not recorded: %s", type(exc).__name__)
        return visit.not_open("not_recorded")
    if done.outcome in (TRAINED, WAITING):
        return visit.already(visit.t["training_already" if done.outcome == TRAINED else "training_waiting"])
    return visit.done(visit.t["training_done" if done.outcome == RECORDED else "training_reported"])


def _training_closed(visit: Visit) -> HTMLResponse | None:
    """Why the training page offers nothing to submit: not a mentor's link, trained already, or (when the
    policy has a coordinator confirm it) a report of theirs that waits; ``None`` when it offers the form."""
    if visit.page.role != "mentor":
        return visit.not_open("not_for_you", 403)
    if visit.page.trained:
        return visit.already(visit.t["training_already"])
    config = visit.config
    if config.policy.confirm_training and open_training_report(config.store, visit.page.participant_id):
        return visit.already(visit.t["training_waiting"])
    return None


def show_help(visit: Visit) -> HTMLResponse:
    return _help_form(visit, {}, {}, 200)


def submit_help(visit: Visit, form: Mapping[str, str]) -> HTMLResponse:
    """Tell the coordinator (and pause where the policy allows) through the same service for every
    caller; the same link's form sent again is recognised (its key is the link's issue moment)."""
    from engine.domain.lifecycle import Lifecycle
    from engine.services.help import HelpRequest, ask_for_help, request_problems

    wish, note = form.get("wish", ""), form.get("note", "")
    wrong = request_problems(visit.page.role, wish, note)  # the service's own checks, in the page's words
    errors = {name: visit.t[f"err_{name}"] for name in ("wish", "note") if name in wrong}
    if errors:
        return _help_form(visit, form, errors, 422)
    config, page = visit.config, visit.page
    key = visit.opened.link.issued_at.isoformat()
    request = HelpRequest(page.relationship_id, page.role, wish, note, key)
    try:
        done = ask_for_help(config.store, Lifecycle(config.policy), config.clock, request, actor=page.actor)
    except ConflictError:
        return visit.not_open("busy")
    except MentorflowError as exc:
        log.info("a help request was not recorded: %s", type(exc).__name__)
        return visit.not_open("not_recorded")
    if not done.recorded:
        return visit.already(visit.t["help_already"])
    said = "help_paused" if done.paused else "help_not_paused" if wish == "pause" else "help_done"
    return visit.done(visit.t[said])


def _help_form(visit: Visit, form: Mapping[str, str], errors: Mapping[str, str], status: int) -> HTMLResponse:
    from workflows.web.pages import contact

    return visit.render(
        "help.html.j2", status, visit.t["help_title"], contact=contact(visit.config),
        errors=list(errors.items()), wish=form.get("wish", "help"), wish_error=errors.get("wish"),
        note=form.get("note", ""), note_error=errors.get("note"),
    )  # fmt: skip
