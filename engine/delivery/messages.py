"""From an outbox row to the messages it sends: who receives it, in which language, with which text.

Texts are Jinja2 templates, one per action per language
(``engine/delivery/templates/{en,nl}/ACTION.j2``); a template's first line is the
subject, the rest the body; the HTML body is that same text, escaped, in the
``_page.html.j2`` wrapper of its language. Undefined names are errors (``StrictUndefined``),
so a template that mentions something we do not pass fails in the tests, not
in somebody's inbox. Each recipient reads the first of their languages we have
texts for; the coordinator reads the program's language.

With personal links configured (``ProgramInfo.links``), a message to a mentee or
mentor carries a link for what it asks (:func:`link_purposes`) and one for help,
and its text says to open them; the coordinator's carry none. A link is issued
at the row's ``created_at``, so a message sent again carries the same link.
Without links the texts ask for a reply, as before. A message on entering a phase
lists its ``resources:`` meant for the reader (:func:`phase_resources`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, select_autoescape
from markupsafe import Markup, escape

from engine.delivery import links, session_texts
from engine.delivery.channels import Attachment, LinkSettings, Message, ProgramInfo
from engine.delivery.invitations import KICKOFF_LENGTH, Person, invitation, kickoff, kickoff_start
from engine.delivery.survey_texts import survey_questions
from engine.delivery.wording import day, when
from engine.policy.resources import Resource, resources_for
from engine.policy.vocabulary import ACTIONS, NOTICES

LANGUAGES = ("en", "nl")
RECIPIENTS = ("mentee", "mentor", "coordinator")

# Whom an action addresses when its row does not name a recipient (rows written before one row meant
# one message to one recipient are delivered to each of these).
IMPLIED_RECIPIENTS: dict[str, tuple[str, ...]] = {
    name: term.recipients for name, term in {**ACTIONS, **NOTICES}.items()
}
HELP_DEFAULTS = {"role": None, "wish": "help", "paused": False, "note": None, "not_paused": None}
"""What a ``help_requested`` row says of the request (engine.services.help), where it does not say it."""
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
    id: int | None = None  # the participant's: their personal links are bound to it


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
    invitations: dict[Text, Attachment] = {}  # a kickoff's, by its words: one per language, not per copy
    return [_message(row, pair, program, recipient, installation, invitations) for recipient in names]


def _organizer_copy(row: OutboxRow, program: ProgramInfo, names: Sequence[str]) -> bool:
    """Whether the coordinator, who organises the kickoff, gets the invitation with the mentee's."""
    kickoff_row = row.action == "schedule_kickoff_meeting" and "coordinator" not in names
    return kickoff_row and "mentee" in names and bool(program.coordinator_email)


def _message(
    row: OutboxRow,
    pair: Pair | None,
    program: ProgramInfo,
    recipient: str,
    installation: str,
    invitations: dict[Text, Attachment],
) -> Message:
    contact = _contact(pair, program, recipient)
    language = language_for(contact.languages, program.language)
    context = template_context(row, pair, program, recipient, language)
    text = render(row.action, language, context)
    attachments: tuple[Attachment, ...] = ()
    if row.action == "schedule_kickoff_meeting" and pair is not None and pair.mentor is not None:
        attachments = (_invitation(row, pair, program, context, installation, invitations),)
    elif context["session"] is not None:
        attachments = (session_texts.attachment(row, contact, program, context, installation),)
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
    """Every name a template may use (all always present, ``None`` when not applicable; ``links``: the
    address of each purpose's personal link, ``None`` for those the message carries none of;
    ``resources``: the title and link of each resource of the phase entered meant for the recipient)."""
    zone = ZoneInfo(program.timezone)
    contact = _contact(pair, program, recipient)
    mentee = _person(pair.mentee if pair else None)
    mentor = _person(pair.mentor if pair else None)
    since = row.params.get("since")  # a check-in: the silence began; a deadline: the phase was entered
    start = kickoff_start(row.created_at, program.timezone)  # its time only: the UID is the invitation's
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
        "kickoff": {"start": start, "end": start + KICKOFF_LENGTH, "minutes": 60},
        "links": personal_links(row, contact, program.links, recipient),
        "help": {**HELP_DEFAULTS, **(row.params.get("help") or {})},  # a request for help or a pause
        "resources": phase_resources(row, recipient, language, program.resources),
        "session": session_texts.session_context(row, program.timezone, language),  # a group session
    }


def phase_resources(
    row: OutboxRow, recipient: str, language: str, resources: Mapping[str, Sequence[str | Resource]]
) -> list[dict[str, str | None]]:
    """The resources a message of ``row`` to ``recipient`` lists: those of the phase the row's pair
    entered (its ``on_enter`` rows: their key names the entry) meant for a mentee or mentor."""
    phase = row.params.get("phase")
    if recipient not in ("mentee", "mentor") or phase is None or ":entry:" not in row.key:
        return []
    return resources_for(resources.get(str(phase), ()), recipient, language)


NO_LINKS: Mapping[str, str | None] = dict.fromkeys(links.PURPOSES)


def link_purposes(row: OutboxRow, recipient: str) -> tuple[str, ...]:
    """The purposes of the personal links a message of ``row`` to ``recipient`` carries: what it asks
    the person to do (answer a survey, confirm a meeting, the kickoff, the training, set their goals), and
    help."""
    if recipient not in links.ROLES:
        return ()
    action, params = row.action, row.params
    if action in ("send_survey", "survey_reminder") and params.get("survey") is not None:
        return ("survey", "help")
    if action == "remind" and params.get("kind") == "check-in":
        return ("meeting", "help")
    if action == "schedule_kickoff_meeting" or (action == "remind" and params.get("phase") == "kickoff"):
        return ("kickoff", "help")
    if action == "schedule_group_session" and params.get("session") is not None:
        return ("session", "help")
    if action == "enrol_mentor_training" and recipient == "mentor":
        return ("training", "help")
    if action == "send_mentee_guide" and recipient == "mentee":
        return ("goals", "help")
    return ("help",)


def personal_links(
    row: OutboxRow, contact: Contact, settings: LinkSettings | None, recipient: str
) -> Mapping[str, str | None]:
    """The address of each personal link a message of ``row`` to ``contact`` carries (``None`` for the
    rest): none without link settings, for the coordinator, or outside a relationship. Issued at the
    row's ``created_at``, so the same row always gives the same links; nothing is written."""
    if settings is None or row.relationship_id is None or contact.id is None:
        return NO_LINKS
    purposes = link_purposes(row, recipient)
    if not purposes:
        return NO_LINKS
    bound = links.binding(settings.keys, contact.id)
    made = dict(NO_LINKS)
    for purpose in purposes:
        survey = str(row.params["survey"]) if purpose == "survey" else None
        link = links.Link(
            purpose, row.relationship_id, recipient, bound, session_texts.issued_at(row, purpose),
            row.id if survey is not None else None, survey,
        )  # fmt: skip
        made[purpose] = links.signed_url(settings.base_url, link, settings.keys)
    return made


def _person(contact: Contact | None) -> dict[str, str] | None:
    return None if contact is None else {"name": contact.name, "email": contact.email}


def _invitation(
    row: OutboxRow,
    pair: Pair,
    program: ProgramInfo,
    context: Mapping[str, Any],
    installation: str,
    made: dict[Text, Attachment],
) -> Attachment:
    """The kickoff's calendar file; ``made``: those of the row's other messages, by their summary and
    description (the file holds nothing else of the reader's), so a copy in the same words is the same
    file, built once."""
    assert pair.mentor is not None
    event = render("_kickoff_summary", str(context["language"]), context)
    if (done := made.get(event)) is not None:
        return done
    meeting = kickoff(event_key(row), row.created_at, program.timezone, installation)
    ics = invitation(
        meeting,
        summary=event.subject,
        description=event.body.strip(),
        organizer=Person(program.coordinator_name, program.coordinator_email),
        attendees=[Person(pair.mentee.name, pair.mentee.email), Person(pair.mentor.name, pair.mentor.email)],
        stamp=row.created_at,
    )
    made[event] = Attachment("kickoff.ics", ics, "calendar", (("method", "REQUEST"),))
    return made[event]


def render(action: str, language: str, context: Mapping[str, Any]) -> Text:
    """The subject (first line) and body of ``action`` in ``language``."""
    try:
        rendered = _environment().get_template(f"{language}/{action}.j2").render(context)
    except TemplateError as exc:
        raise ComposeError(f"the {language} text of {action} cannot be written: {exc}") from None
    subject, _, body = rendered.strip().partition("\n")
    return Text(subject.strip(), body.strip() + "\n")


def html(text: Text, language: str, context: Mapping[str, Any]) -> str:
    """``text`` as an HTML page: the same words, escaped, a paragraph per blank-line-separated block; a
    line that is one of the message's personal links is a link to it."""
    paragraphs = [block.split("\n") for block in text.body.strip().split("\n\n") if block.strip()]
    made = context.get("links", NO_LINKS)
    if made is not NO_LINKS:  # (a message without links is not looked through)
        urls = {url for url in made.values() if url}
        paragraphs = [[_anchor(line) if line in urls else line for line in lines] for lines in paragraphs]
    listed = {f"- {r['title']}: {r['link']}": r for r in context.get("resources", ()) if r["link"]}
    if listed:  # a resource's line: its title, then a link to it
        paragraphs = [
            [_resource_line(listed[line]) if line in listed else line for line in lines]
            for lines in paragraphs
        ]
    page = {**context, "language": language, "subject": text.subject, "paragraphs": paragraphs}
    try:
        return _environment().get_template(f"{language}/_page.html.j2").render(page).strip() + "\n"
    except TemplateError as exc:
        raise ComposeError(f"the {language} HTML of this message cannot be written: {exc}") from None


def _anchor(url: str) -> Markup:
    """A link to ``url`` on the HTML page, showing the address itself (as the plain text does)."""
    return Markup('<a href="{0}">{0}</a>').format(url)


def _resource_line(resource: Mapping[str, str | None]) -> Markup:
    """A resource's line on the HTML page: its title, then a link to its address."""
    return escape(f"- {resource['title']}: ") + _anchor(str(resource["link"]))


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
    environment.filters["day"] = day
    environment.filters["when"] = when
    return environment
