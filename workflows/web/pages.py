"""Opening a personal link's page and submitting its form: the checks every page shares.

A page opens only for a link that :func:`engine.services.links.open_link` opens for the purpose in
the address; any refusal (tampered 400, expired 410, revoked 410, wrong purpose 403, wrong person
403) is a plain page with that status that says what to do, and nothing is written. A form is
accepted only from the page of its link (same origin, the link's form token). What a page records
goes through the services ``mentorflow record`` uses, with the actor
``participant:<external id> via link``; something already recorded is shown as such (200) and
nothing is written again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import HTMLResponse, Response

from engine.delivery.links import PURPOSES, Refusal
from engine.delivery.messages import language_for
from engine.services.link_pages import LinkPage, link_page
from engine.services.links import OpenedLink, open_link
from workflows.web.config import WebConfig
from workflows.web.forms import form_token, form_token_ok
from workflows.web.render import html
from workflows.web.texts import day, texts

log = logging.getLogger("mentorflow.web")


@dataclass(frozen=True)
class Visit:
    """A page opened by a link that opened: who it is for, in which language, at which moment."""

    config: WebConfig
    token: str
    opened: OpenedLink
    page: LinkPage
    language: str
    now: datetime

    @property
    def t(self) -> dict[str, str]:
        return texts(self.language)

    def day_of(self, moment: datetime) -> date:
        """The day of ``moment`` in the program's time zone."""
        return moment.astimezone(ZoneInfo(self.config.program.timezone)).date()

    @property
    def today(self) -> date:
        return self.day_of(self.now)

    @property
    def closed(self) -> bool:
        """Whether the pair is in a terminal phase of its policy: what it did can no longer change."""
        return self.page.phase in self.config.policy.terminal_phases

    def shown(self, value: date) -> str:
        return day(value, self.language)

    def render(self, template: str, status: int, title: str, **context: Any) -> HTMLResponse:
        form = {"form_token": form_token(self.config.keys, self.token)}
        return html(template, status, {**frame(self.config, self.language, title), **form, **context})

    def message(
        self, title: str, text: str, status: int = 200, contact: dict[str, str | None] | None = None
    ) -> HTMLResponse:
        return self.render("message.html.j2", status, title, message=text, kind=None, contact=contact)

    def already(self, text: str) -> HTMLResponse:
        """Something was recorded before: said so, with 200, and nothing written again."""
        return self.message(self.t["already_title"], text, 200)

    def done(self, text: str) -> HTMLResponse:
        return self.message(self.t["done_title"], text, 200)

    def not_open(self, text_key: str = "not_open", status: int = 409) -> HTMLResponse:
        return self.message(self.t["refused_title"], self.t[text_key], status, contact=contact(self.config))


Show = Callable[[Visit], HTMLResponse]
Submit = Callable[[Visit, Mapping[str, str]], Response]
"""A form's handler: a page, or (the goals page) a 303 back to the page that shows what it changed."""


def frame(config: WebConfig, language: str, title: str) -> dict[str, Any]:
    """What every page's frame shows: its language, title, the program's name, where the stylesheet is."""
    t = texts(language)
    program = config.program.name if config.program.name != "Mentoring program" else t["program"]
    return {"lang": language, "t": t, "title": title, "program": program, "prefix": config.prefix}


def contact(config: WebConfig) -> dict[str, str | None]:
    return {"name": config.program.coordinator_name, "email": config.program.coordinator_email}


def refused(config: WebConfig, language: str, text_key: str, status: int) -> HTMLResponse:
    """A plain page with ``status`` that says why nothing opened and what to do; nothing is written."""
    t = texts(language)
    context = {**frame(config, language, t["refused_title"]), "message": t[text_key], "kind": "refusal"}
    return html("message.html.j2", status, {**context, "contact": None})


def too_many(config: WebConfig, language: str, retry_after: int) -> HTMLResponse:
    """429: too many requests from this client's address (:mod:`workflows.web.limits`); says to wait,
    with ``Retry-After`` in seconds, and nothing is written."""
    response = refused(config, language, "rate_limited", 429)
    response.headers["retry-after"] = str(retry_after)
    return response


def requested_language(config: WebConfig, accept_language: str | None) -> str:
    """For a page that does not know whose it is: the browser's first language we have, else the
    program's."""
    tags = [part.split(";")[0].strip() for part in (accept_language or "").split(",")]
    return language_for([tag for tag in tags if tag], config.program.language)


def open_visit(
    config: WebConfig, token: str, purpose: str, accept_language: str | None
) -> Visit | HTMLResponse:
    """The visit of a link that opens the page of ``purpose`` now; the refusal page otherwise."""
    language = requested_language(config, accept_language)
    if purpose not in PURPOSES:
        return refused(config, language, "not_found", 404)
    now = config.clock.now()
    opened = open_link(config.store, token, purpose, now, config.keys, config.policy.link_lifetime)
    if isinstance(opened, Refusal):
        return refused(config, language, f"refusal_{opened.kind}", opened.status)
    page = link_page(config.store, config.policy, opened, now)
    if page is None:
        return refused(config, language, "refusal_wrong_person", Refusal("wrong_person").status)
    return Visit(config, token, opened, page, language_for(page.languages, config.program.language), now)


def same_origin(config: WebConfig, headers: Mapping[str, str]) -> bool:
    """Whether a form was posted from this site: an ``Origin`` if sent must be the site's own, and the
    browser must not call the request cross-site. An opaque ``Origin: null`` (a browser hiding where a
    form came from, as under ``Referrer-Policy: no-referrer``) passes only where the browser itself
    says ``Sec-Fetch-Site: same-origin``."""
    origin, site = headers.get("origin"), headers.get("sec-fetch-site")
    if origin == "null":
        return site == "same-origin"
    if origin is not None and origin.lower() != config.origin:
        return False
    return (site or "same-origin") in ("same-origin", "none")


def show(config: WebConfig, token: str, purpose: str, headers: Mapping[str, str]) -> HTMLResponse:
    """GET of a link's page."""
    visit = open_visit(config, token, purpose, headers.get("accept-language"))
    if isinstance(visit, HTMLResponse):
        return visit
    return _pages()[purpose][0](visit)


def submit(
    config: WebConfig, token: str, purpose: str, headers: Mapping[str, str], form: Mapping[str, str]
) -> Response:
    """POST of a link's form: the link, then where the form came from, then the page's own checks."""
    visit = open_visit(config, token, purpose, headers.get("accept-language"))
    if isinstance(visit, HTMLResponse):
        return visit
    if not same_origin(config, headers) or not form_token_ok(config.keys, token, form.get("form_token")):
        log.info("a %s form was refused: not posted from its page", purpose)
        return refused(config, visit.language, "form_expired", 403)
    handler = _pages()[purpose][1]
    if handler is None:
        return refused(config, visit.language, "not_found", 405)
    return handler(visit, form)


def _pages() -> dict[str, tuple[Show, Submit | None]]:
    from workflows.web import goals, records, sessions, survey

    return {
        "survey": (survey.show, survey.submit),
        "meeting": (records.show_meeting, records.submit_meeting),
        "kickoff": (records.show_kickoff, records.submit_kickoff),
        "training": (records.show_training, records.submit_training),
        "help": (records.show_help, records.submit_help),
        "session": (sessions.show, sessions.submit),
        "goals": (goals.show, goals.submit),
    }
