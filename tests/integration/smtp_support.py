"""A real SMTP server for the delivery tests (aiosmtpd on 127.0.0.1), with the capabilities a test asks."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import Engine, select, update

from engine.delivery.channels import Channels
from engine.delivery.channels.email import EmailChannel, SmtpSettings
from engine.store.tables import participants, relationships

from .delivery_support import PROGRAM, RETRY


class Server:
    """An SMTP server on a free local port; ``options`` go to aiosmtpd (``enable_SMTPUTF8``, ...).

    Each message received is kept with the MAIL FROM options its client declared.
    """

    def __init__(self, **options: Any) -> None:
        options.setdefault("enable_SMTPUTF8", False)  # aiosmtpd's Controller would offer it
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.options = options
        self.received: list[EmailMessage] = []
        self.mail_options: list[list[str]] = []
        self.rcpt_tos: list[list[str]] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        self.mail_options.append(list(envelope.mail_options))
        self.rcpt_tos.append(list(envelope.rcpt_tos))
        return "250 OK"

    def start(self) -> Server:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **self.options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self) -> list[str]:
        """The envelope recipient of each message received."""
        return [address for recipients in self.rcpt_tos for address in recipients]


def refuse_every_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


def channels_for(server: Server, **settings: Any) -> Channels:
    smtp = SmtpSettings(
        "127.0.0.1", server.port, "Mentorprogramma <mentoring@example.com>", timeout=5, **settings
    )
    return Channels({"email": EmailChannel(smtp)}, ("email",), {}, PROGRAM, RETRY)


def mentee_of(store: Engine, rel_id: int) -> int:
    with store.connect() as conn:
        query = select(relationships.c.mentee_id).where(relationships.c.id == rel_id)
        return int(conn.execute(query).scalar_one())


def overwrite_participant(store: Engine, participant_id: int, **values: str) -> None:
    """Write a participant's fields directly, as an import of an older version could have left them."""
    with store.begin() as conn:
        conn.execute(update(participants).where(participants.c.id == participant_id).values(**values))
