"""The ``email`` channel: SMTP, with STARTTLS and login when configured.

The Message-ID is derived from the message's idempotency key, so a message
sent again after a crash between sending and recording is recognisably the
same message. A kickoff invitation travels as a ``text/calendar;
method=REQUEST`` attachment, which calendar clients offer to accept.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from engine.delivery.channels import DeliveryError, Message


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to hand mail over."""

    host: str
    port: int = 25
    sender: str = "mentoring@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


class EmailChannel:
    """Sends each message as one email over a fresh SMTP connection."""

    name = "email"
    buffered = False

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        domain = parseaddr(settings.sender)[1].rpartition("@")[2]
        self.domain = domain or "mentorflow"

    def sync(self) -> None:
        """Nothing to do: a message is handed over when ``send`` returns."""

    def send(self, message: Message) -> None:
        if not message.to_address:
            raise DeliveryError(f"no email address for the {message.recipient}", permanent=True)
        email = self.compose(message)
        try:
            with smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.settings.timeout) as smtp:
                if self.settings.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.settings.username:
                    smtp.login(self.settings.username, self.settings.password or "")
                smtp.send_message(email)
        except smtplib.SMTPResponseException as exc:
            raise _reply_error(exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _reply_error(code, reply) from None
        except (smtplib.SMTPException, OSError) as exc:
            where = f"{self.settings.host}:{self.settings.port}"
            raise DeliveryError(f"SMTP server {where} unreachable: {exc}", unreachable=True) from None

    def compose(self, message: Message) -> EmailMessage:
        """The email for ``message``: headers, plain-text body, attachments."""
        assert message.to_address is not None
        email = EmailMessage()
        email["From"] = self.settings.sender
        email["To"] = Address(display_name=message.to_name, addr_spec=message.to_address)
        email["Subject"] = message.subject
        email["Message-ID"] = message.message_id(self.domain)
        email["Date"] = format_datetime(message.created_at)
        email["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a robot
        email.set_content(message.body, cte="quoted-printable")
        email["Content-Language"] = message.language  # after set_content, which resets Content-* headers
        for attachment in message.attachments:
            email.add_attachment(
                attachment.content,
                subtype=attachment.subtype,
                filename=attachment.filename,
                params=dict(attachment.params),
            )
        return email


def _reply_error(code: int, reply: bytes | str) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    # 5xx is the server saying "never": retrying cannot help until someone fixes the cause.
    return DeliveryError(f"SMTP {code} {text}".strip(), permanent=500 <= code < 600)
