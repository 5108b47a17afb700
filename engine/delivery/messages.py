"""From an outbox row to the messages it sends: who receives it, in which language, with which text.

Texts are Jinja2 templates, one per action per language
(``engine/delivery/templates/{en,nl}/ACTION.j2``); a template's first line is the
subject, the rest the body; the HTML body is that same text, escaped, in the
``_page.html.j2`` wrapper of its language. Undefined names are errors (``StrictUndefined``),
so a template that mentions something we do not pass fails in the tests, not
in somebody's inbox. Each recipient reads the first of their languages we have
texts for; the coordinator reads the program's language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, pass_context, select_autoescape
from jinja2.runtime import Context

from engine.delivery.channels import Attachment, Message, ProgramInfo
from engine.delivery.invitations import Person, invitation, kickoff
from engine.policy.surveys import Survey
from engine.policy.vocabulary import ACTIONS, NOTICES

LANGUAGES = ("en", "nl")
RECIPIENTS = ("mentee", "mentor", "coordinator")

# Whom an action addresses when its row does not name a recipient (rows written before one row meant
# one message to one recipient are delivered to each of these).
IMPLIED_RECIPIENTS: dict[str, tuple[str, ...]] = {
    name: term.recipients for name, term in {**ACTIONS, **NOTICES}.items()
}
NEEDS_MENTOR = frozenset({"notify_pair", "enrol_mentor_training", "schedule_kickoff_meeting"})


class ComposeError(Exception):
    """A message cannot be written from what the store holds (no mentor, an unknown action)."""


@dataclass(frozen=True)
class Contact:
    """A participant as a message needs them."""

    name: str
    email: str
    languages: tuple[str, ...] = ()
    trained: bool = False


@dataclass(frozen=True)
class Pair:
    """The relationship an outbox row belongs to: its mentee, its mentor if any, its phase now."""

    mentee: Contact
    mentor: Contact | None
    phase: str


@dataclass(frozen=True)
class OutboxRow:
    """The outbox row being delivered, as far as the texts need it."""

    id: int
    relationship_id: int | None
    key: str
    action: str
    params: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Text:
    """A rendered subject and body."""

    subject: str
    body: str


def recipients(row: OutboxRow, pair: Pair | None) -> tuple[str, ...]:
    """Who receives ``row``: its ``recipient``, else those its action implies (the mentor only if any)."""
    explicit = row.params.get("recipient")
    if explicit is not None:
        if explicit not in RECIPIENTS:
            raise ComposeError(f"unknown recipient {explicit!r} (expected {', '.join(RECIPIENTS)})")
        return (str(explicit),)
    if row.action not in IMPLIED_RECIPIENTS:
        raise ComposeError(f"no texts for action {row.action!r}")
    implied = IMPLIED_RECIPIENTS[row.action]
    if pair is not None and pair.mentor is None and row.action not in NEEDS_MENTOR:
        implied = tuple(r for r in implied if r != "mentor")
    return implied


def message_key(row: OutboxRow, recipient: str) -> str:
    """The key of the message to ``recipient``: the row's own if it names them, else the row's with them
    (for a copy, e.g. the organizer's of a kickoff, the key of what the row is about with them)."""
    named = row.params.get("recipient")
    if named is None:
        return f"{row.key}:{recipient}"
    return row.key if named == recipient else f"{event_key(row)}:{recipient}"


def event_key(row: OutboxRow) -> str:
    """The key of what the row is about, whoever receives it (one kickoff for both attendees)."""
    recipient = row.params.get("recipient")
    return row.key.removesuffix(f":{recipient}") if recipient else row.key


def skip_reason(row: OutboxRow, pair: Pair | None) -> str | None:
    """Why the row needs no message at all, or ``None``.

    A mentor who already finished the training is not enrolled again; a reminder
    meant for the mentor of a pair that has none has nobody to go to.
    """
    if row.action == "enrol_mentor_training" and pair is not None and pair.mentor and pair.mentor.trained:
        return f"not sent: {pair.mentor.name} had already finished the mentor training"
    no_mentor = pair is not None and pair.mentor is None and row.action not in NEEDS_MENTOR
    if no_mentor and row.params.get("recipient") == "mentor":
        return "not sent: the relationship has no mentor"
    return None


def language_for(languages: Sequence[str], default: str) -> str:
    """The first of ``languages`` we have texts in, else the program's language."""
    for language in languages:
        code = language.strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default


def compose(
    row: OutboxRow, pair: Pair | None, program: ProgramInfo, *, installation: str = ""
) -> list[Message]:
    """The messages ``row`` sends, one per recipient (the kickoff's organizer gets the mentee's row's
    copy); ``installation`` goes into their ids. Raises :class:`ComposeError` if it cannot."""
    if pair is None and any(r != "coordinator" for r in recipients(row, pair)):
        raise ComposeError(f"outbox row {row.id} belongs to no relationship, so has no mentee or mentor")
    if pair is not None and pair.mentor is None and row.action in NEEDS_MENTOR:
        raise ComposeError(f"relationship {row.relationship_id} has no mentor, so {row.action} cannot go out")
    names = recipients(row, pair)
    if _organizer_copy(row, program, names):
        names = (*names, "coordinator")
    return [_message(row, pair, program, recipient, installation) for recipient in names]


def _organizer_copy(row: OutboxRow, program: ProgramInfo, names: Sequence[str]) -> bool:
    """Whether the coordinator, who organises the kickoff, gets the invitation with the mentee's."""
    kickoff_row = row.action == "schedule_kickoff_meeting" and "coordinator" not in names
    return kickoff_row and "mentee" in names and bool(program.coordinator_email)


def _message(
    row: OutboxRow, pair: Pair | None, program: ProgramInfo, recipient: str, installation: str
) -> Message:
    contact = _contact(pair, program, recipient)
    language = language_for(contact.languages, program.language)
    context = template_context(row, pair, program, recipient, language)
    text = render(row.action, language, context)
    attachments: tuple[Attachment, ...] = ()
    if row.action == "schedule_kickoff_meeting" and pair is not None and pair.mentor is not None:
        attachments = (_invitation(row, pair, program, context, installation),)
    return Message(
        key=message_key(row, recipient),
        relationship_id=row.relationship_id,
        action=row.action,
        recipient=recipient,
        to_name=contact.name,
        to_address=contact.email or None,
        language=language,
        subject=text.subject,
        body=text.body,
        created_at=row.created_at,
        attachments=attachments,
        installation=installation,
        html=html(text, language, context),
    )


def _contact(pair: Pair | None, program: ProgramInfo, recipient: str) -> Contact:
    if recipient == "coordinator":
        return Contact(program.coordinator_name, program.coordinator_email or "")
    assert pair is not None
    contact = pair.mentee if recipient == "mentee" else pair.mentor
    if contact is None:
        raise ComposeError(f"the {recipient} of this relationship is not known")
    return contact


def template_context(
    row: OutboxRow, pair: Pair | None, program: ProgramInfo, recipient: str, language: str
) -> dict[str, Any]:
    """Every name a template may use (all always present, ``None`` when not applicable)."""
    zone = ZoneInfo(program.timezone)
    contact = _contact(pair, program, recipient)
    mentee = _person(pair.mentee if pair else None)
    mentor = _person(pair.mentor if pair else None)
    since = row.params.get("since")  # a check-in: the silence began; a deadline: the phase was entered
    meeting = kickoff(event_key(row), row.created_at, program.timezone)
    return {
        "language": language,
        "program": {
            "name": program.name,
            "coordinator": {"name": program.coordinator_name, "email": program.coordinator_email},
        },
        "recipient": recipient,
        "name": contact.name,
        "first_name": contact.name.split()[0] if contact.name.split() else contact.name,
        "mentee": mentee,
        "mentor": mentor,
        "other": {"mentee": mentor, "mentor": mentee}.get(recipient),
        "relationship": row.relationship_id,
        "phase": row.params.get("phase") or (pair.phase if pair else None),
        "survey": row.params.get("survey"),
        "questions": survey_questions(program.surveys.get(str(row.params.get("survey"))), language),
        "kind": row.params.get("kind", "deadline"),
        "since": datetime.fromisoformat(since).astimezone(zone) if since else None,
        "kickoff": {"start": meeting.start, "end": meeting.end, "minutes": 60},
    }


ANSWER_FORMS = {
    "en": {
        "scale": "1 to 5",
        "recommend": "0 to 10",
        "yes_no": "yes or no",
        "goals": "for each development goal: reached, partly or not started",
        "text": "in your own words",
    },
    "nl": {
        "scale": "1 tot 5",
        "recommend": "0 tot 10",
        "yes_no": "ja of nee",
        "goals": "per ontwikkeldoel: bereikt, deels of niet begonnen",
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


def _person(contact: Contact | None) -> dict[str, str] | None:
    return None if contact is None else {"name": contact.name, "email": contact.email}


def _invitation(
    row: OutboxRow, pair: Pair, program: ProgramInfo, context: Mapping[str, Any], installation: str
) -> Attachment:
    assert pair.mentor is not None
    meeting = kickoff(event_key(row), row.created_at, program.timezone, installation)
    event = render("_kickoff_summary", str(context["language"]), context)
    ics = invitation(
        meeting,
        summary=event.subject,
        description=event.body.strip(),
        organizer=Person(program.coordinator_name, program.coordinator_email),
        attendees=[Person(pair.mentee.name, pair.mentee.email), Person(pair.mentor.name, pair.mentor.email)],
        stamp=row.created_at,
    )
    return Attachment("kickoff.ics", ics, "calendar", (("method", "REQUEST"),))


def render(action: str, language: str, context: Mapping[str, Any]) -> Text:
    """The subject (first line) and body of ``action`` in ``language``."""
    try:
        rendered = _environment().get_template(f"{language}/{action}.j2").render(context)
    except TemplateError as exc:
        raise ComposeError(f"the {language} text of {action} cannot be written: {exc}") from None
    subject, _, body = rendered.strip().partition("\n")
    return Text(subject.strip(), body.strip() + "\n")


def html(text: Text, language: str, context: Mapping[str, Any]) -> str:
    """``text`` as an HTML page: the same words, escaped, a paragraph per blank-line-separated block."""
    paragraphs = [block.split("\n") for block in text.body.strip().split("\n\n") if block.strip()]
    page = {**context, "language": language, "subject": text.subject, "paragraphs": paragraphs}
    try:
        return _environment().get_template(f"{language}/_page.html.j2").render(page).strip() + "\n"
    except TemplateError as exc:
        raise ComposeError(f"the {language} HTML of this message cannot be written: {exc}") from None


@lru_cache(maxsize=1)
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("engine.delivery", "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html.j2"], default=False),  # plain text, but the HTML wrapper
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # the templates are package data: no stat of each file at each message
    )
    environment.filters["day"] = _day
    environment.filters["when"] = _when
    return environment


_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}
_WEEKDAYS = {
    "en": "Monday Tuesday Wednesday Thursday Friday Saturday Sunday",
    "nl": "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag",
}


@pass_context
def _day(context: Context, moment: datetime) -> str:
    """``Friday 16 January 2026`` / ``vrijdag 16 januari 2026``."""
    language = context["language"]
    weekday = _WEEKDAYS[language].split()[moment.weekday()]
    month = _MONTHS[language].split()[moment.month - 1]
    return f"{weekday} {moment.day} {month} {moment.year}"


@pass_context
def _when(context: Context, moment: datetime) -> str:
    """``Friday 16 January 2026 at 10:00`` / ``vrijdag 16 januari 2026 om 10:00`` (with the zone)."""
    at = "om" if context["language"] == "nl" else "at"
    return f"{_day(context, moment)} {at} {moment:%H:%M} ({moment.tzname()})"
