"""The ``email`` channel: SMTP, with STARTTLS and login when configured.

Each message is ``multipart/alternative``: the plain text, the same text as
HTML, and for a kickoff the invitation inline as ``text/calendar;
method=REQUEST`` (which Outlook and Google show with Accept and Decline), with
the ``.ics`` file attached as well for clients that only offer attachments.
The Message-ID is derived from the installation and the message's idempotency
key, so a message sent again after a crash between sending and recording is
recognisably the same message.

Errors are told apart by who can fix them. A message the server cannot take
(an address that needs SMTPUTF8 from a server without it, a name that cannot
go into a header) is parked alone; the others go on. A server that does not
offer what the settings require (STARTTLS, AUTH) or refuses the login is a
configuration error: the message is parked with a note saying what to fix,
and the rest of the run does not try the server again. A server that cannot
be reached is retried later. Login over a cleartext connection is refused
unless ``allow_insecure_auth`` says otherwise.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from engine.delivery.channels import Attachment, DeliveryError, Message


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
    allow_insecure_auth: bool = False  # log in over a connection without TLS (a server on this machine)


class EmailChannel:
    """Sends each message as one email over a fresh SMTP connection."""

    name = "email"
    delivered_as = "sent by email"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        domain = parseaddr(settings.sender)[1].rpartition("@")[2]
        self.domain = domain or "mentorflow"
        self.where = f"SMTP server {settings.host}:{settings.port}"

    def send(self, message: Message) -> None:
        if not message.to_address:
            raise DeliveryError(f"no email address for the {message.recipient}", permanent=True)
        self.compose(message)  # a message that cannot be written fails here, before any connection
        try:
            with smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.settings.timeout) as smtp:
                self._open(smtp)
                eight_bit = smtp.has_extn("8bitmime")
                email = self.compose(message, eight_bit=eight_bit)
                options = ("BODY=8BITMIME",) if eight_bit and _has_8bit_parts(email) else ()
                smtp.send_message(email, mail_options=options)
        except smtplib.SMTPNotSupportedError as exc:  # an address needs SMTPUTF8 the server does not offer
            raise DeliveryError(f"{self.where} cannot take this message: {exc}", permanent=True) from None
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _reply_error(code, reply) from None
        except smtplib.SMTPResponseException as exc:
            raise _reply_error(exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{self.where} unreachable: {exc}", unreachable=True) from None

    def _open(self, smtp: smtplib.SMTP) -> None:
        """STARTTLS and login as the settings say; what the server or the settings lack is a config error."""
        smtp.ehlo()
        settings = self.settings
        if settings.starttls:
            if not smtp.has_extn("starttls"):
                raise _config_error(f"{self.where} does not offer STARTTLS (channels.email.starttls = true)")
            try:
                smtp.starttls(context=ssl.create_default_context())
            except ssl.SSLError as exc:
                raise _config_error(f"TLS with {self.where} failed: {exc}") from None
            smtp.ehlo()
        if not settings.username:
            return
        if not settings.starttls and not settings.allow_insecure_auth:
            raise _config_error(
                "login over cleartext SMTP is refused: set channels.email.starttls = true "
                "(or allow_insecure_auth = true for a server on this machine)"
            )
        if not smtp.has_extn("auth"):
            raise _config_error(f"{self.where} offers no login (AUTH), but channels.email.username is set")
        try:
            smtp.login(settings.username, settings.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            reply = _text(exc.smtp_error)
            raise _config_error(f"{self.where} refused the login of {settings.username!r}: {reply}") from None

    def compose(self, message: Message, *, eight_bit: bool = False) -> EmailMessage:
        """The email for ``message``: headers, text and HTML, the invitation inline and attached.

        ``eight_bit``: the server takes 8BITMIME, so the calendar goes unencoded (it is declared); the
        text parts are quoted-printable either way. Raises a permanent :class:`DeliveryError` when a
        header cannot be written (a name holding a line break, an address that is not one).
        """
        try:
            return self._email(message, eight_bit)
        except (ValueError, TypeError, IndexError) as exc:  # the email package's header checks
            raise DeliveryError(
                f"the email to the {message.recipient} cannot be written: {exc}", permanent=True
            ) from None

    def _email(self, message: Message, eight_bit: bool) -> EmailMessage:
        assert message.to_address is not None
        email = EmailMessage()
        email["From"] = self.settings.sender
        email["To"] = _address(message.to_name, message.to_address)
        email["Subject"] = message.subject
        email["Message-ID"] = message.message_id(self.domain)
        email["Date"] = format_datetime(message.created_at)
        email["Auto-Submitted"] = "auto-generated"  # no out-of-office replies to a robot
        email.set_content(message.body, cte="quoted-printable")
        email["Content-Language"] = message.language  # after set_content, which resets Content-* headers
        calendars = [a for a in message.attachments if a.subtype == "calendar"]
        if message.html is not None:
            email.add_alternative(message.html, subtype="html", cte="quoted-printable")
        cte = "8bit" if eight_bit else "quoted-printable"
        for calendar in calendars:  # inline: the meeting request a mail client offers to accept
            email.add_alternative(calendar.content, subtype="calendar", params=dict(calendar.params), cte=cte)
        for attachment in message.attachments:
            _attach(email, attachment, cte)
        _language(email, message.language)
        return email


def _address(name: str, address: str) -> Address:
    """The To: address; a domain that is not ASCII goes as IDNA, so only a non-ASCII local part needs
    SMTPUTF8 (which the server must offer, or the message is parked)."""
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        raise ValueError(f"{address!r} is not an email address")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"the domain of {address!r} is not a valid internationalised name") from None
    return Address(display_name=name, username=local, domain=domain)


def _attach(email: EmailMessage, attachment: Attachment, cte: str) -> None:
    if attachment.subtype == "calendar":  # the file of the invitation shown inline: not a second request
        email.add_attachment(
            attachment.content.encode("utf-8"), "application", "ics", filename=attachment.filename
        )
        return
    email.add_attachment(
        attachment.content, subtype=attachment.subtype, filename=attachment.filename,
        params=dict(attachment.params), cte=cte,
    )  # fmt: skip


def _language(email: EmailMessage, language: str) -> None:
    """Content-Language on the message and each of its texts (a new part starts without headers)."""
    for part in email.walk():
        if (part is email or part.get_content_maintype() == "text") and "Content-Language" not in part:
            part["Content-Language"] = language


def _has_8bit_parts(email: EmailMessage) -> bool:
    return any(str(part.get("Content-Transfer-Encoding", "")).lower() == "8bit" for part in email.walk())


def _config_error(text: str) -> DeliveryError:
    """A problem only the settings (or the server's administrator) can fix: parked with this note, and
    the rest of the run does not try the server again."""
    return DeliveryError(f"SMTP configuration: {text}", permanent=True, unreachable=True)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _reply_error(code: int, reply: bytes | str) -> DeliveryError:
    # 5xx is the server saying "never": retrying cannot help until someone fixes the cause.
    return DeliveryError(f"SMTP {code} {_text(reply)}".strip(), permanent=500 <= code < 600)
