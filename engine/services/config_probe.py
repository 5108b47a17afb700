"""``mentorflow config check --connect``: can the configured channels be reached? Nothing is sent.

SMTP: connect, EHLO, STARTTLS when ``starttls = true`` (and EHLO again), and a
login when a username is set and its password variable is (only over TLS);
then QUIT, no message. Webhook: a TCP connection to the URL's host and port,
and for ``https://`` a TLS handshake that verifies the certificate; no HTTP
request, so a receiver posts nothing to a channel.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Probe:
    """What one channel's connection attempt found."""

    channel: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.channel}: {self.detail}"


def probe_channels(document: Mapping[str, Any], *, tls: ssl.SSLContext | None = None) -> list[Probe]:
    """Try each channel the settings configure (``[channels.email]``, ``[channels.webhook]``)."""
    chans = document.get("channels", {})
    probes: list[Probe] = []
    if isinstance(chans.get("email"), dict):
        probes.append(probe_smtp(chans["email"], tls=tls))
    if isinstance(chans.get("webhook"), dict):
        probes.append(probe_webhook(chans["webhook"], tls=tls))
    return probes


def probe_smtp(section: Mapping[str, Any], *, tls: ssl.SSLContext | None = None) -> Probe:
    """EHLO, STARTTLS if configured, login if configured; never a message."""
    host, port = str(section["host"]), int(section.get("port", 25))
    where = f"SMTP server {host}:{port}"
    timeout = float(section.get("timeout", 30.0))
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as smtp:
            smtp.ehlo()
            steps = ["EHLO"]
            if section.get("starttls"):
                if not smtp.has_extn("starttls"):
                    return Probe("email", False, f"{where} does not offer STARTTLS (starttls = true)")
                smtp.starttls(context=tls or ssl.create_default_context())
                smtp.ehlo()
                steps.append("STARTTLS")
            login = _login(smtp, section, where)
            if isinstance(login, Probe):
                return login
            steps += login
            return Probe("email", True, f"{where} answered ({', '.join(steps)}); no mail was sent")
    except smtplib.SMTPAuthenticationError as exc:
        return Probe("email", False, f"{where} refused the login ({exc.smtp_code})")
    except ssl.SSLError as exc:
        return Probe("email", False, f"{where}: TLS failed: {exc.reason or exc}")
    except (smtplib.SMTPException, OSError) as exc:
        return Probe("email", False, f"cannot talk to {where}: {_reason(exc)}")


def _login(smtp: smtplib.SMTP, section: Mapping[str, Any], where: str) -> list[str] | Probe:
    username, variable = section.get("username"), section.get("password_env")
    if not username:
        return []
    password = os.environ.get(variable) if isinstance(variable, str) else None
    if password is None:
        return ["login not tried: no password variable set"]
    if not section.get("starttls"):
        return ["login not tried: it would send the password unencrypted (starttls = false)"]
    if not smtp.has_extn("auth"):
        return Probe("email", False, f"{where} offers no login (AUTH) but username is set")
    smtp.login(str(username), password)
    return ["login"]


def probe_webhook(section: Mapping[str, Any], *, tls: ssl.SSLContext | None = None) -> Probe:
    """A TCP connection to the webhook's host (and a TLS handshake for https); no request."""
    variable = section.get("url_env")
    url = os.environ.get(variable) if isinstance(variable, str) else section.get("url")
    if not isinstance(url, str) or not url:
        return Probe("webhook", False, "no URL to try (url, or url_env naming a variable that is set)")
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if secure else 80)
    except ValueError:
        return Probe("webhook", False, f"{parts.scheme}://{host}: the port in the URL is not a number")
    where = f"{parts.scheme}://{host}:{port}"  # never the path: a Slack URL's path is its secret
    timeout = float(section.get("timeout", 10.0))
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if not secure:
                return Probe("webhook", True, f"{where} accepts connections (plain http); nothing was posted")
            context = tls or ssl.create_default_context()
            with context.wrap_socket(sock, server_hostname=host):
                return Probe(
                    "webhook", True, f"{where} accepts connections, TLS verified; nothing was posted"
                )
    except ssl.SSLError as exc:
        return Probe("webhook", False, f"{where}: TLS failed: {exc.reason or exc}")
    except OSError as exc:
        return Probe("webhook", False, f"cannot connect to {where}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, smtplib.SMTPResponseException):
        said = exc.smtp_error
        return f"{exc.smtp_code} {said.decode('utf-8', 'replace') if isinstance(said, bytes) else said}"
    return str(exc) or type(exc).__name__
