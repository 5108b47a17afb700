"""Personal links in messages: which message carries which link, for whom, and nothing without ``[web]``."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.delivery import links
from engine.delivery.channels import LinkSettings, Message, ProgramInfo
from engine.delivery.channels.config import channels_from, link_settings
from engine.delivery.links import Link, Refusal
from engine.delivery.messages import (
    LANGUAGES,
    Contact,
    OutboxRow,
    Pair,
    compose,
    link_purposes,
    template_context,
)
from engine.errors import ConfigError
from engine.policy.vocabulary import ACTIONS, NOTICES
from engine.settings import WebSettings

WRITTEN = datetime(2026, 1, 9, 16, 0, tzinfo=UTC)
KEYS = ("n" * 40, "o" * 40)  # newest first
BASE = "https://mentoring.example.com/program"
MENTEE_ID, MENTOR_ID = 11, 12
LOG_ONLY = {"channels": {"default": ["log"], "log": {"path": "out.jsonl"}}}
URL = re.compile(r"https://mentoring\.example\.com/program/l/(?P<purpose>[a-z]+)/(?P<token>[\w.-]+)")

# What each message asks of its mentee or mentor, besides the help link that every one of them carries.
ASKED: list[tuple[str, dict[str, Any], str, str | None]] = [
    ("send_survey", {"survey": "final"}, "mentee", "survey"),
    ("send_survey", {"survey": "final"}, "mentor", "survey"),
    ("survey_reminder", {"survey": "pulse", "recipient": "mentor"}, "mentor", "survey"),
    ("remind", {"kind": "check-in", "since": "2026-01-02T09:00:00+00:00"}, "mentee", "meeting"),
    ("remind", {"kind": "deadline", "phase": "kickoff"}, "mentor", "kickoff"),
    ("schedule_kickoff_meeting", {}, "mentee", "kickoff"),
    ("schedule_kickoff_meeting", {}, "mentor", "kickoff"),
    ("enrol_mentor_training", {}, "mentor", "training"),
    ("notify_pair", {}, "mentee", None),
    ("send_mentee_guide", {}, "mentee", "goals"),
    ("schedule_group_session", {}, "mentor", None),
    ("remind", {"kind": "deadline", "phase": "matched"}, "mentee", None),
    ("remind", {"kind": "deadline", "phase": "review"}, "mentor", None),
]
PARAMS: dict[str, dict[str, Any]] = {
    "send_survey": {"survey": "final"},
    "survey_reminder": {"survey": "final", "since": "2026-01-02T09:00:00Z"},
    "remind": {"kind": "check-in"},
}


def program(language: str = "en", *, linked: bool = True) -> ProgramInfo:
    return ProgramInfo(
        "Mentorprogramma", "Marieke de Vries", "mentoring@example.com", language, "Europe/Amsterdam",
        links=LinkSettings(BASE, KEYS) if linked else None,
    )  # fmt: skip


def pair(language: str = "en") -> Pair:
    mentee = Contact("Zoë Çelik", "zoe.celik@example.com", (language,), id=MENTEE_ID)
    mentor = Contact("Jeroen van den Bergh", "jeroen@example.com", (language,), id=MENTOR_ID)
    return Pair(mentee, mentor, "active")


def row(action: str, params: dict[str, Any] | None = None, row_id: int = 5) -> OutboxRow:
    return OutboxRow(
        row_id, 7, f"rel:7:entry:3:{action}", action, {"phase": "active", **(params or {})}, WRITTEN
    )


def found(message: Message) -> dict[str, Link]:
    """The personal links in ``message``'s text, read by their purpose (each once), checked to open."""
    seen: dict[str, Link] = {}
    for match in URL.finditer(message.body):
        purpose, token = match["purpose"], match["token"]
        assert purpose not in seen, f"two {purpose} links in {message.key}"
        opened = links.read(token, purpose, WRITTEN + timedelta(days=1), KEYS)
        assert not isinstance(opened, Refusal), (message.key, opened)
        seen[purpose] = opened
    return seen


def by_recipient(messages: list[Message]) -> dict[str, Message]:
    return {message.recipient: message for message in messages}


@pytest.mark.parametrize(("action", "params", "recipient", "asked"), ASKED)
def test_a_message_to_a_mentee_or_mentor_links_to_what_it_asks_and_to_help(
    action: str, params: dict[str, Any], recipient: str, asked: str | None
) -> None:
    for language in LANGUAGES:
        message = by_recipient(compose(row(action, params), pair(language), program(language)))[recipient]
        made = found(message)
        assert set(made) == {"help"} | ({asked} if asked else set()), (action, params, language)
        person = MENTEE_ID if recipient == "mentee" else MENTOR_ID
        for purpose, link in made.items():
            assert (link.relationship_id, link.role, link.issued_at) == (7, recipient, WRITTEN)
            assert links.is_for(link, person, KEYS) and not links.is_for(link, MENTEE_ID + MENTOR_ID, KEYS)
            named = (5, params["survey"]) if purpose == "survey" else (None, None)
            assert (link.outbox_id, link.survey) == named
        assert "reply to" not in message.body and "antwoorden:" not in message.body


def test_the_text_says_to_open_the_link_where_it_asked_for_a_reply() -> None:
    survey = by_recipient(compose(row("send_survey", {"survey": "final"}), pair(), program()))["mentee"]
    shown = URL.search(survey.body)
    assert shown is not None and f"on the form this link opens:\n{shown[0]}\n\n1. " in survey.body
    plain = by_recipient(compose(row("send_survey", {"survey": "final"}), pair(), program(linked=False)))
    assert "by replying to this message" in plain["mentee"].body
    nudge = by_recipient(compose(row("remind", {"kind": "check-in"}), pair("nl"), program("nl")))["mentor"]
    assert "Open dan deze link om het ons te laten weten:\nhttps://" in nudge.body
    assert "laat Marieke de Vries weten" not in nudge.body
    assert (
        "Hulp nodig, of willen jullie de mentoring even stilzetten? Open deze link:\nhttps://" in nudge.body
    )


def test_the_html_page_makes_each_link_a_link_and_keeps_the_words() -> None:
    message = by_recipient(compose(row("enrol_mentor_training"), pair(), program()))["mentor"]
    assert message.html is not None
    for match in URL.finditer(message.body):
        assert f'<a href="{match[0]}">{match[0]}</a>' in message.html
    assert message.html.count("<a href=") == 2
    assert "open this link to let us know:<br>" in message.html


def test_the_coordinator_gets_no_personal_link() -> None:
    kickoff = by_recipient(compose(row("schedule_kickoff_meeting"), pair(), program()))
    assert set(kickoff) == {"mentee", "mentor", "coordinator"}
    assert found(kickoff["coordinator"]) == {} and "/l/" not in (kickoff["coordinator"].html or "")
    for action in ("notify_coordinator", "escalate"):
        (message,) = compose(row(action), pair(), program())
        assert message.recipient == "coordinator" and found(message) == {}
    survey = compose(row("send_survey", {"survey": "final", "recipient": "coordinator"}), pair(), program())
    assert [m.recipient for m in survey] == ["coordinator"] and found(survey[0]) == {}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("action", sorted({**ACTIONS, **NOTICES}))
def test_without_links_every_text_is_the_same_as_without_link_settings(action: str, language: str) -> None:
    """No ``[web]`` (or a participant whose id is not known): the texts of before, byte for byte."""
    message_row = row(action, PARAMS.get(action))
    before = compose(message_row, pair(language), program(language, linked=False))
    known = pair(language)
    assert known.mentor is not None
    nobody = Pair(
        dataclasses.replace(known.mentee, id=None), dataclasses.replace(known.mentor, id=None), "active"
    )
    unbound = compose(message_row, nobody, program(language))
    assert before == unbound
    for message in before:
        assert "/l/" not in message.body and "<a " not in (message.html or "")
        assert "link" not in message.body.lower().replace("mentorflow", "")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("action", sorted({**ACTIONS, **NOTICES}))
def test_links_change_only_the_texts_not_the_keys_ids_or_attachments(action: str, language: str) -> None:
    message_row = row(action, PARAMS.get(action))
    plain = compose(message_row, pair(language), program(language, linked=False), installation="inst-1")
    linked = compose(message_row, pair(language), program(language), installation="inst-1")
    assert [m.key for m in plain] == [m.key for m in linked]
    assert [m.message_id() for m in plain] == [m.message_id() for m in linked]
    assert [m.attachments for m in plain] == [m.attachments for m in linked]
    assert [m.subject for m in plain] == [m.subject for m in linked]
    for message in linked:
        assert "{{" not in message.body and "None" not in message.body and "\n\n\n" not in message.body


def test_a_message_composed_again_carries_the_same_links() -> None:
    """Issued at the row's ``created_at``: a retry, hours later, sends the very same text."""
    message_row = row("survey_reminder", {"survey": "final"})
    assert compose(message_row, pair(), program()) == compose(message_row, pair(), program())
    other_row = dataclasses.replace(message_row, id=6)
    first, second = (found(compose(r, pair(), program())[0])["survey"] for r in (message_row, other_row))
    assert (first.outbox_id, second.outbox_id) == (5, 6)


def test_the_context_names_every_purpose_none_where_the_message_carries_no_link() -> None:
    context = template_context(row("notify_pair"), pair(), program(), "mentee", "en")
    assert set(context["links"]) == set(links.PURPOSES)
    assert [p for p, url in context["links"].items() if url] == ["help"]
    plain = template_context(row("notify_pair"), pair(), program(linked=False), "mentee", "en")
    assert plain["links"] == dict.fromkeys(links.PURPOSES)
    assert link_purposes(row("remind", {"kind": "check-in"}), "coordinator") == ()
    assert link_purposes(row("enrol_mentor_training"), "mentee") == ("help",)


def test_the_settings_give_links_only_with_an_address_and_keys() -> None:
    path = Path("/srv/mentorflow/mentorflow.toml")
    web = WebSettings(BASE, KEYS, "web.secret_keys")
    assert channels_from(LOG_ONLY, path, web=web).program.links == LinkSettings(BASE, KEYS)
    assert channels_from(LOG_ONLY, path).program.links is None
    for partial in (WebSettings(None, KEYS, "x"), WebSettings(BASE, (), "x"), WebSettings("", KEYS, "x")):
        assert link_settings(partial) is None
    with pytest.raises(ConfigError, match=r"web\.secret_keys: key 1 is 5 characters long"):
        channels_from(LOG_ONLY, path, web=WebSettings(BASE, ("short",), "web.secret_keys"))
    with pytest.raises(ConfigError, match=r"web\.base_url: 'mentoring\.example\.com' is not a web address"):
        link_settings(WebSettings("mentoring.example.com", KEYS, "x"))


def test_the_settings_file_and_the_environment_reach_the_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.delivery.channels.config import configured_channels

    settings = tmp_path / "mentorflow.toml"
    settings.write_text(
        f'[channels]\ndefault = ["log"]\n\n[web]\nbase_url = "{BASE}"\nsecret_keys = ["{KEYS[1]}"]\n',
        encoding="utf-8",
    )
    monkeypatch.delenv("MENTORFLOW_LINK_KEYS", raising=False)
    assert configured_channels(settings).program.links == LinkSettings(BASE, (KEYS[1],))
    monkeypatch.setenv("MENTORFLOW_LINK_KEYS", ",".join(KEYS))
    assert configured_channels(settings).program.links == LinkSettings(BASE, KEYS)


def test_the_flows_and_the_demo_pass_the_web_settings_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.policy.model import shipped_policies
    from workflows.flows.work import channels

    policy = str(shipped_policies()["default"])
    settings = tmp_path / "mentorflow.toml"
    settings.write_text(f'[web]\nbase_url = "{BASE}"\n', encoding="utf-8")
    monkeypatch.setenv("MENTORFLOW_LINK_KEYS", KEYS[0])
    demo = channels("UTC", policy, str(tmp_path / "demo.jsonl"), str(settings))
    assert demo.program.links == LinkSettings(BASE, (KEYS[0],))
    monkeypatch.delenv("MENTORFLOW_LINK_KEYS")
    assert channels("UTC", policy, str(tmp_path / "demo.jsonl"), str(settings)).program.links is None
