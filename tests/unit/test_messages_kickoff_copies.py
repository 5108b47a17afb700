"""The kickoff's calendar file is built once per language of a row's messages: the copies in the same words
share one file, a copy in other words has its own; each message is the one it would be if written alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.delivery import messages
from engine.delivery.channels import ProgramInfo
from engine.delivery.messages import Contact, OutboxRow, Pair, compose

ROW = OutboxRow(
    7,
    3,
    "rel:3:entry:5:schedule_kickoff_meeting",
    "schedule_kickoff_meeting",
    {},
    datetime(2026, 3, 2, 8, tzinfo=UTC),
)
PROGRAM = ProgramInfo(
    name="Mentoring", coordinator_name="Marieke de Vries", coordinator_email="mentoring@example.com",
    language="en", timezone="Europe/Amsterdam",
)  # fmt: skip
MENTOR = Contact("Jeroen van den Bergh", "jeroen@example.com", ("en",), True, 12)


@pytest.mark.parametrize(("languages", "files"), [(("en",), 1), (("nl",), 2)])
def test_each_copy_is_the_message_written_alone(languages: tuple[str, ...], files: int) -> None:
    pair = Pair(Contact("Zoë Çelik", "zoe@example.com", languages, False, 11), MENTOR, "kickoff")
    sent = compose(ROW, pair, PROGRAM, installation="inst")
    assert [m.recipient for m in sent] == ["mentee", "mentor", "coordinator"]
    for message in sent:
        alone = messages._message(ROW, pair, PROGRAM, message.recipient, "inst", {})
        assert message == alone
    assert len({m.attachments[0].content for m in sent}) == files
