"""The attendance page of a personal link (purpose ``session``): did the person attend their group
sessions? It lists the sessions they were invited to through the pair of the link; for each that has
begun and has nothing recorded, two buttons (attended, not attended) record it through
:func:`engine.services.sessions.record_attendance`, the service ``mentorflow sessions attendance`` uses,
as ``participant:<external id> via link``. What was recorded is shown as such, and nothing is written
again; a correction is the coordinator's (``--correct``).
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo

from starlette.responses import HTMLResponse

from engine.errors import ConflictError, MentorflowError
from engine.services.session_pages import SessionItem, session_items
from engine.services.sessions import record_attendance
from workflows.web.pages import Visit, log

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Group sessions",
        "intro": "Did you attend? Let the program know for each session that has taken place.",
        "none": "You were not invited to a group session through this link.",
        "yes": "I attended",
        "no": "I did not attend",
        "upcoming": "This session has not taken place yet: come back to this page afterwards.",
        "attended": "Recorded: you attended.",
        "absent": "Recorded: you did not attend.",
        "done": "Thank you: it is recorded that you {what} the session of {day}.",
        "did": "attended",
        "did_not": "did not attend",
        "already": "Your attendance at this session is already recorded; nothing was changed.",
        "at": "at",
    },
    "nl": {
        "title": "Groepssessies",
        "intro": "Was je erbij? Laat het het programma weten voor elke sessie die heeft plaatsgevonden.",
        "none": "Je bent via deze link niet uitgenodigd voor een groepssessie.",
        "yes": "Ik was erbij",
        "no": "Ik was er niet bij",
        "upcoming": "Deze sessie heeft nog niet plaatsgevonden: kom daarna terug op deze pagina.",
        "attended": "Vastgelegd: je was erbij.",
        "absent": "Vastgelegd: je was er niet bij.",
        "done": "Dank je: vastgelegd is dat je {what} bij de sessie van {day}.",
        "did": "er was",
        "did_not": "er niet was",
        "already": "Of je bij deze sessie was, is al vastgelegd; er is niets veranderd.",
        "at": "om",
    },
}


def _texts(visit: Visit) -> dict[str, str]:
    return TEXTS.get(visit.language, TEXTS["en"])


def _items(visit: Visit) -> list[SessionItem] | None:
    config = visit.config
    return session_items(config.store, config.policy, visit.opened, visit.now, visit.language)


def show(visit: Visit) -> HTMLResponse:
    items = _items(visit)
    if items is None:
        return visit.not_open("refusal_revoked", 410)
    return _page(visit, items)


def submit(visit: Visit, form: Mapping[str, str]) -> HTMLResponse:
    items = _items(visit)
    if items is None:
        return visit.not_open("refusal_revoked", 410)
    wanted = form.get("session", "")
    item = next((i for i in items if wanted.isdigit() and i.session_id == int(wanted)), None)
    answer = form.get("attended")
    if item is None or not item.begun or answer not in ("yes", "no"):
        return visit.not_open()
    s = _texts(visit)
    if item.attended is not None:
        return visit.already(s["already"])
    config, page = visit.config, visit.page
    try:
        record_attendance(
            config.store, config.policy, config.clock, item.session_id, page.reference, answer == "yes",
            actor=page.actor,
        )  # fmt: skip
    except ConflictError:
        return visit.not_open("busy")
    except MentorflowError as exc:
        again = next((i for i in _items(visit) or [] if i.session_id == item.session_id), None)
        if again is not None and again.attended is not None:
            return visit.already(s["already"])
        log.info("an attendance was not recorded: %s", type(exc).__name__)
        return visit.not_open("not_recorded")
    what = s["did"] if answer == "yes" else s["did_not"]
    return visit.done(s["done"].format(what=what, day=visit.shown(visit.day_of(item.starts_at))))


def _page(visit: Visit, items: list[SessionItem]) -> HTMLResponse:
    s, zone = _texts(visit), ZoneInfo(visit.config.program.timezone)
    shown = []
    for item in items:
        start = item.starts_at.astimezone(zone)
        recorded = None if item.attended is None else s["attended" if item.attended else "absent"]
        shown.append({
            "id": item.session_id, "title": item.title, "place": item.place, "begun": item.begun,
            "when": f"{visit.shown(start.date())} {s['at']} {start:%H:%M}", "recorded": recorded,
        })  # fmt: skip
    return visit.render("session.html.j2", 200, s["title"], s=s, items=shown)
