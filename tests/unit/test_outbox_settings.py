"""The delivery settings, the retry policy, and the channels' own shaping of a message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.clock import SimulatedClock
from engine.delivery.channels import Attachment, Channels, Message, RetryPolicy
from engine.delivery.channels.config import channels_from
from engine.delivery.channels.email import EmailChannel, SmtpSettings
from engine.delivery.channels.log import LogChannel
from engine.delivery.channels.webhook import body
from engine.errors import ConfigError

SETTINGS = Path("/srv/mentorflow/mentorflow.toml")
ICS = Attachment("kickoff.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "calendar", (("method", "REQUEST"),))
MESSAGE = Message(
    key="rel:7:entry:3:schedule_kickoff_meeting:mentee", relationship_id=7, action="schedule_kickoff_meeting",
    recipient="mentee", to_name="Zoë Çelik", to_address="zoe@example.com", language="nl",
    subject="Kennismakingsbijeenkomst", body="Hoi Zoë,\n\nTot snel.\n",
    created_at=datetime(2026, 1, 9, 16, tzinfo=UTC),
    attachments=(ICS,),
)  # fmt: skip


def test_the_retry_policy_doubles_the_wait_up_to_its_cap() -> None:
    policy = RetryPolicy(max_attempts=8, backoff=timedelta(minutes=5), backoff_max=timedelta(hours=1))
    waits = [policy.delay(n) for n in range(1, 8)]
    assert waits[:4] == [timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert waits[4:] == [timedelta(hours=1)] * 3
    assert policy.delay(10_000) == timedelta(hours=1)


@pytest.mark.parametrize(
    ("document", "path", "expected"),
    [
        ({}, None, "there is no settings file"),
        ({"database": {"url": "sqlite:///x.db"}}, SETTINGS, f"{SETTINGS} has no [channels] table"),
        ({"channels": {"log": {"path": "out.jsonl"}}}, SETTINGS, f"{SETTINGS}: [channels] names none"),
        ({"channels": {"default": [], "routes": {"remind": []}}}, None, "settings: [channels] names none"),
    ],
)
def test_without_a_channel_named_nothing_falls_back_to_the_log(
    document: dict[str, Any], path: Path | None, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        channels_from(document, path)
    assert raised.value.message.startswith("no notification channel is configured: ")
    assert expected in raised.value.message and "stay pending" in raised.value.message


def test_the_log_is_used_when_named_and_an_action_no_channel_takes_is_refused() -> None:
    channels = channels_from({"channels": {"default": ["log"]}}, None, timezone="Europe/Amsterdam")
    assert [c.name for c in channels.for_action("escalate")] == ["log"]
    assert channels.program.timezone == "Europe/Amsterdam" and channels.program.language == "en"
    assert channels.retry == RetryPolicy()
    with pytest.raises(ConfigError) as raised:
        channels_from({"channels": {"routes": {"escalate": ["log"]}}}, SETTINGS)
    assert raised.value.message.startswith(f"{SETTINGS}: channels.default is empty")
    assert "remind" in raised.value.message and "escalate," not in raised.value.message


def test_routes_send_an_action_to_its_own_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("TEST_HOOK", "https://hooks.example.com/T/B/x")
    document: dict[str, Any] = {
        "notifications": {"coordinator_email": "c@example.com", "language": "nl", "max_attempts": 3,
                          "backoff": "1 minute", "backoff_max": "2 hours", "timezone": "Europe/Oslo"},
        "channels": {
            "default": ["log"],
            "routes": {"escalate": ["email", "webhook"], "schedule_kickoff_meeting": ["email"]},
            "log": {"path": "logs/out.jsonl"},
            "email": {"host": "smtp.example.com", "port": 587, "from": "M <m@example.com>", "starttls": True,
                      "username": "m", "password_env": "TEST_SMTP_PASSWORD"},
            "webhook": {"url_env": "TEST_HOOK"},
        },
    }  # fmt: skip
    channels = channels_from(document, SETTINGS, timezone="UTC")
    assert [c.name for c in channels.for_action("escalate")] == ["email", "webhook"]
    assert [c.name for c in channels.for_action("notify_pair")] == ["log"]
    log = channels.by_name["log"]
    assert isinstance(log, LogChannel) and log.path == Path("/srv/mentorflow/logs/out.jsonl")
    email = channels.by_name["email"]
    assert isinstance(email, EmailChannel) and email.settings.password == "s3cret"
    assert channels.retry.max_attempts == 3 and channels.retry.backoff == timedelta(minutes=1)
    assert channels.program.timezone == "Europe/Oslo" and channels.program.language == "nl"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"channels": {"default": ["fax"]}},
            "channels.default.0: Input should be 'log', 'email' or 'webhook'",
        ),
        ({"channels": {"routes": {"escalat": ["log"]}}}, "unknown action escalat"),
        ({"channels": {"default": ["email"]}}, "no [channels.email]"),
        ({"channels": {"routes": {"remind": ["webhook"]}}}, "no [channels.webhook]"),
        (
            {"channels": {"webhook": {"url_env": "MENTORFLOW_NOT_SET_ANYWHERE"}}},
            "MENTORFLOW_NOT_SET_ANYWHERE",
        ),
        ({"channels": {"webhook": {"url": "ftp://x"}}}, "must start with https://"),
        ({"channels": {"email": {"host": "h", "from": "a@b.c"}}}, "coordinator_email is needed"),
        ({"notifications": {"max_attempts": 0}}, "notifications.max_attempts: Input should be greater than"),
        ({"notifications": {"backoff": "soon"}}, 'notifications.backoff: "soon" is not a duration'),
        ({"notifications": {"language": "de"}}, "notifications.language: Input should be 'en' or 'nl'"),
        ({"notifications": {"timezone": "Europe/Amsterdamm"}}, "is not a time zone"),
        ({"notifications": {"coordinator": "x"}}, "notifications.coordinator: unknown setting"),
        ({"channels": "log"}, "[channels] must be a table"),
    ],
)
def test_a_setting_that_does_not_work_is_named_with_its_file(document: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        channels_from(document, SETTINGS)
    assert str(SETTINGS) in raised.value.message
    assert expected in str(raised.value)


def test_a_route_to_a_channel_that_is_not_there_is_refused() -> None:
    with pytest.raises(ValueError, match="not configured: email"):
        Channels({}, ("email",))


def test_the_log_channel_appends_one_json_line_per_message_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "outbox.jsonl"
    channel = LogChannel(path, bodies=True)
    channel.send(MESSAGE)
    channel.send(MESSAGE)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 and lines[0]["to"] == {"name": "Zoë Çelik", "address": "zoe@example.com"}
    assert lines[0]["message_id"] == MESSAGE.message_id() and lines[0]["attachments"] == ["kickoff.ics"]
    assert path.stat().st_mode & 0o077 == 0


def test_the_log_channel_writes_ids_only_unless_told_to_write_bodies(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    LogChannel(path, clock=SimulatedClock(datetime(2026, 1, 9, 17, tzinfo=UTC))).send(MESSAGE)
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "message_id": MESSAGE.message_id(),
        "key": "rel:7:entry:3:schedule_kickoff_meeting:mentee",
        "relationship_id": 7,
        "action": "schedule_kickoff_meeting",
        "recipient": "mentee",
        "channel": "log",
        "created_at": "2026-01-09T16:00:00+00:00",
        "written_at": "2026-01-09T17:00:00+00:00",
    }


def test_the_email_carries_its_key_as_message_id_and_the_invitation_as_a_calendar_request() -> None:
    channel = EmailChannel(SmtpSettings("smtp.example.com", sender="Mentoring <mentoring@example.com>"))
    email = channel.compose(MESSAGE)
    assert email["Message-ID"] == MESSAGE.message_id("example.com")
    assert email["To"] == "Zoë Çelik <zoe@example.com>"
    text = email.get_body(("plain",))
    assert text is not None and text["Content-Language"] == "nl" and "Tot snel." in text.get_content()
    # the meeting request inline, in the alternative with the text; its file attached as application/ics
    request = email.get_body(("calendar",))
    assert request is not None and request.get_content_type() == "text/calendar"
    assert request.get_param("method") == "REQUEST" and "BEGIN:VCALENDAR" in request.get_content()
    (ics,) = email.iter_attachments()
    assert ics.get_content_type() == "application/ics" and ics.get_filename() == "kickoff.ics"


def test_the_webhook_body_is_one_text_field() -> None:
    assert body(MESSAGE) == {
        "text": "Kennismakingsbijeenkomst\nTo Zoë Çelik (mentee)\n\nHoi Zoë,\n\nTot snel.\n"
    }
