"""``mentorflow config check [--connect]``: every problem of mentorflow.toml with its line; real servers.

Also ``mentorflow --version`` and ``DO_NOT_TRACK`` for Prefect.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from .conftest import Run

BROKEN = """\
[database]
url = "mysql://db/x"
passwrd = "x"

[program]
policy = "nope"

[notification]
program_name = "typo in the table name"

[notifications]
language = "de"
max_attempts = 0

[channels]
default = ["email", "sms"]

[channels.email]
port = 99999
"from" = "mentoring@example.com"

[channels.webhook]
url = "ftp://hooks.example.com/x"

[schedules]
cadence = "0 25 * * *"
delivery = "*/5 * * *"
matchng = "0 8 * * 1"

[web]
base_url = "mentoring.example.com"
secret_keys = ["too short"]
port = 8000
participant_rate_limit = -5
"""

EXPECTED = [  # (line, the start of what is said there)
    (2, "database.url: not a database URL"),
    (3, 'database.passwrd: unknown key "passwrd": did you mean "password_secret"?'),
    (6, 'program.policy: "nope" is neither a shipped policy'),
    (8, 'notification: unknown section "notification": did you mean "notifications"?'),
    (11, "notifications.coordinator_email: is needed to send email"),
    (12, 'notifications.language: "de" is not allowed (expected "en" or "nl")'),
    (13, "notifications.max_attempts: 0 is out of range (expected 1 or more)"),
    (16, 'channels.default[1]: "sms" is not allowed'),
    (18, "channels.email.host: is missing (expected `host = ...` in channels.email)"),
    (19, "channels.email.port: 99999 is out of range (expected 65535 or less)"),
    (23, "channels.webhook.url: the URL must start with https://"),
    (26, 'schedules.cadence: "0 25 * * *" is not a cron expression: hour "25"'),
    (27, 'schedules.delivery: "*/5 * * *" is not a cron expression: 4 field(s), expected five'),
    (28, 'schedules.matchng: unknown flow to schedule "matchng": did you mean "matching"?'),
    (31, "web.base_url: 'mentoring.example.com' is not a web address (expected https://HOST"),
    (32, "web.secret_keys: key 1 is 9 characters long; a link key needs at least 32"),
    (33, 'web.port: unknown key "port" (expected one of: base_url, secret_keys, trusted_header, '),
    (34, "web.participant_rate_limit: -5 is not a number of requests per minute per client, from 0"),
]

GOOD = """\
[database]
url = "sqlite:///mentorflow.db"

[program]
policy = "default"

[notifications]
coordinator_email = "mentoring@example.com"

[channels]
default = ["log"]

[channels.routes]
escalate = ["email"]

[channels.email]
host = "127.0.0.1"
port = {port}
"from" = "Mentoring <mentoring@example.com>"
starttls = {starttls}
{extra}

[schedules]
cadence = "0 7 * * 1-5"
delivery = "*/5 * * * *"
matching = "off"
"""


def _write(tmp_path: Path, text: str, name: str = "mentorflow.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_problem_of_a_broken_settings_file_is_listed_with_its_line(run: Run, tmp_path: Path) -> None:
    _write(tmp_path, BROKEN)
    result = run("config", "check")
    assert result.code == 2, result.err
    lines = [line for line in result.err.splitlines() if line.startswith("mentorflow.toml:")]
    for (number, start), line in zip(EXPECTED, lines, strict=False):
        assert line.startswith(f"mentorflow.toml:{number}: {start}"), line
    assert len(lines) == len(EXPECTED) + 1 and lines[-1] == f"mentorflow.toml: {len(EXPECTED)} problems"
    assert "Traceback" not in result.err and result.out == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[database]\nurl = "sqlite:///x.db"\n\n[channels\ndefault = ["log"]\n', "x.toml:4: not valid TOML"),
        ("[database]\nurl = 'x'\nurl = 'y'\n", "x.toml:3: not valid TOML"),
        (
            '[schedules]\ncadence = """0 7\n* * *"""\ndelivery = 5\n',
            "x.toml:4: schedules.delivery: 5 is not text",
        ),
        ("[channels.routes]\nnotify_pair = [\n  'email',\n]\n", "x.toml:2: channels.routes.notify_pair:"),
        ('channels = {email = {host = "h", port = 0, from = "a@b.c"}}\n', "x.toml:1: channels.email.port: 0"),
    ],
)
def test_a_file_that_does_not_parse_or_hides_keys_in_odd_places_gets_the_right_line(
    run: Run, tmp_path: Path, text: str, expected: str
) -> None:
    _write(tmp_path, text, "x.toml")
    result = run("config", "check", "x.toml")
    assert result.code == 2
    assert expected in result.err, result.err


def test_a_missing_password_variable_or_file_is_a_problem(run: Run, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("MF_TEST_SMTP_PASSWORD", raising=False)
    extra = 'username = "m"\npassword_env = "MF_TEST_SMTP_PASSWORD"'
    _write(tmp_path, GOOD.format(port=25, starttls="true", extra=extra))
    result = run("config", "check")
    assert result.code == 2
    assert (
        "mentorflow.toml:22: channels.email.password_env: names MF_TEST_SMTP_PASSWORD, which is not set"
        in result.err
    )
    assert run("config", "check", "elsewhere.toml").code == 2


def test_a_good_file_is_ok_and_no_file_means_the_defaults(run: Run, tmp_path: Path) -> None:
    result = run("config", "check")
    assert result.code == 0 and "the defaults are in force" in result.out
    _write(tmp_path, GOOD.format(port=25, starttls="false", extra=""))
    result = run("config", "check")
    assert (result.code, result.err) == (0, "") and result.out.startswith("ok  mentorflow.toml")


# --- --connect: a real SMTP server (aiosmtpd), a real TCP listener ---------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Handler:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    good = auth_data.login == b"mentoring" and auth_data.password == b"right"
    return AuthResult(success=good, handled=False)


def _certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cryptography), trusted through SSL_CERT_FILE."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


@pytest.fixture
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Handler, int, Path]]:
    """An SMTP server offering STARTTLS and, over TLS, AUTH (mentoring / right)."""
    cert, key = _certificate(tmp_path_factory.mktemp("tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler, port = Handler(), _free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=context, authenticator=_authenticator
    )
    controller.start()
    yield handler, port, cert
    controller.stop()


@pytest.fixture
def plain_smtp() -> Iterator[tuple[Handler, int]]:
    handler, port = Handler(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def test_connect_tries_starttls_and_the_login_and_sends_nothing(
    run: Run, tmp_path: Path, monkeypatch: Any, smtp: tuple[Handler, int, Path]
) -> None:
    handler, port, cert = smtp
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    monkeypatch.setenv("MF_TEST_SMTP_PASSWORD", "right")
    extra = 'username = "mentoring"\npassword_env = "MF_TEST_SMTP_PASSWORD"'
    _write(tmp_path, GOOD.format(port=port, starttls="true", extra=extra))
    result = run("config", "check", "--connect")
    assert result.code == 0, result.err
    assert (
        f"ok   email: SMTP server 127.0.0.1:{port} answered (EHLO, STARTTLS, login); no mail was sent"
        in result.out
    )
    monkeypatch.setenv("MF_TEST_SMTP_PASSWORD", "wrong")
    result = run("config", "check", "--connect")
    assert (
        result.code == 2 and f"FAIL email: SMTP server 127.0.0.1:{port} refused the login (535)" in result.err
    )
    assert handler.received == 0


def test_connect_reports_an_untrusted_certificate(
    run: Run, tmp_path: Path, monkeypatch: Any, smtp: tuple[Handler, int, Path]
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))  # nothing trusted: the self-signed certificate fails
    _write(tmp_path, GOOD.format(port=smtp[1], starttls="true", extra=""))
    result = run("config", "check", "--connect")
    assert result.code == 2 and "TLS failed" in result.err, result.err


def test_connect_reports_a_server_without_starttls_and_one_that_is_down(
    run: Run, tmp_path: Path, plain_smtp: tuple[Handler, int]
) -> None:
    handler, port = plain_smtp
    _write(tmp_path, GOOD.format(port=port, starttls="false", extra=""))
    result = run("config", "check", "--connect")
    assert result.code == 0 and "answered (EHLO); no mail was sent" in result.out
    _write(tmp_path, GOOD.format(port=port, starttls="true", extra=""))
    result = run("config", "check", "--connect")
    assert result.code == 2 and "does not offer STARTTLS (starttls = true)" in result.err
    closed = _free_port()
    _write(tmp_path, GOOD.format(port=closed, starttls="false", extra=""))
    result = run("config", "check", "--connect")
    assert result.code == 2
    assert f"FAIL email: cannot talk to SMTP server 127.0.0.1:{closed}: connection refused" in result.err
    assert handler.received == 0


def test_connect_reaches_the_webhook_without_posting_to_it(
    run: Run, tmp_path: Path, monkeypatch: Any
) -> None:
    accepted: list[bytes] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def accept() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(1)
                try:
                    accepted.append(conn.recv(100))
                except OSError:
                    accepted.append(b"")

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        monkeypatch.setenv("MF_TEST_WEBHOOK", f"http://127.0.0.1:{port}/services/SECRET/PATH")
        text = '[channels]\ndefault = ["webhook"]\n\n[channels.webhook]\nurl_env = "MF_TEST_WEBHOOK"\n'
        _write(tmp_path, text)
        result = run("config", "check", "--connect")
        thread.join(5)
    assert result.code == 0, result.err
    assert f"ok   webhook: http://127.0.0.1:{port} accepts connections" in result.out
    assert accepted == [b""]  # connected, nothing posted
    assert "SECRET" not in result.out + result.err
    monkeypatch.setenv("MF_TEST_WEBHOOK", f"https://127.0.0.1:{_free_port()}/x")
    result = run("config", "check", "--connect")
    assert result.code == 2 and "FAIL webhook: cannot connect to https://127.0.0.1:" in result.err


# --- --version, DO_NOT_TRACK ----------------------------------------------------------------------------


def test_version_prints_the_installed_version_and_exits_0(run: Run) -> None:
    result = run("--version")
    assert (result.code, result.out, result.err) == (0, f"mentorflow {version('mentorflow')}\n", "")


def test_every_command_tells_prefect_not_to_track_unless_the_operator_said_otherwise(
    run: Run, monkeypatch: Any
) -> None:
    monkeypatch.delenv("DO_NOT_TRACK", raising=False)
    assert run("config", "check").code == 0
    assert os.environ["DO_NOT_TRACK"] == "1"
    monkeypatch.setenv("DO_NOT_TRACK", "0")
    assert run("config", "check").code == 0
    assert os.environ["DO_NOT_TRACK"] == "0"
