"""Poison messages stay alone: an address the server cannot take, a name that cannot go into a header, a
channel that crashes, or a server set up differently from the settings parks (or frees) that message, and
every other message of the batch goes out; no row stays ``sending``; the CLI exits 1 and says so."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.delivery.channels import DeliveryError, Message
from engine.delivery.channels.config import channels_from
from engine.domain.lifecycle import Lifecycle
from engine.errors import ConfigError
from engine.policy.model import Policy
from engine.services import delivery as outbox
from engine.services import setup
from engine.services.setup import open_store
from workflows.cli import main

from .delivery_support import (
    EXPECTED_MATCH_MESSAGES_BOTH,
    FakeChannel,
    channels_of,
    matched_pairs,
    rows,
    statuses,
)
from .smtp_support import Server, channels_for, mentee_of, overwrite_participant, refuse_every_login

INTERNATIONAL = "josé.müller@exämple.com"
BROKEN_NAME = "Eve\r\nBcc: x@example.com"


@pytest.fixture
def pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    return matched_pairs(store, policy, lifecycle, clock)


@pytest.fixture
def server() -> Iterator[Server]:
    box = Server().start()  # aiosmtpd as it comes: 8BITMIME, no SMTPUTF8, no STARTTLS, no AUTH
    yield box
    box.stop()


def _parked(store: Engine) -> list[dict[str, object]]:
    return [row for row in rows(store) if row["status"] == "failed"]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("email", INTERNATIONAL, "SMTPUTF8"),
        ("name", BROKEN_NAME, "cannot be written"),
    ],
)
def test_a_message_the_server_cannot_take_is_parked_alone_and_the_rest_go_out(
    store: Engine,
    pairs: list[int],
    clock: SimulatedClock,
    server: Server,
    field: str,
    value: str,
    reason: str,
) -> None:
    overwrite_participant(store, mentee_of(store, pairs[0]), **{field: value})

    summary = outbox.deliver_due(store, channels_for(server), clock.now())

    assert summary.sent == EXPECTED_MATCH_MESSAGES_BOTH - 1 == len(server.received)
    assert summary.parked == 1 and summary.retrying == 0 and summary.troubled
    (parked,) = _parked(store)
    assert reason in str(parked["last_error"]) and parked["params"]["recipient"] == "mentee"
    assert "sending" not in statuses(store)
    assert "x@example.com" not in server.to()  # the line break never became a header


def test_an_international_address_goes_out_through_a_server_that_takes_it(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    overwrite_participant(store, mentee_of(store, pairs[0]), email=INTERNATIONAL)
    overwrite_participant(store, mentee_of(store, pairs[1]), email="anouk@exämple.nl")
    server = Server(enable_SMTPUTF8=True).start()
    try:
        summary = outbox.deliver_due(store, channels_for(server), clock.now())
    finally:
        server.stop()
    assert summary.sent == EXPECTED_MATCH_MESSAGES_BOTH and not summary.troubled
    by_address = dict(zip(server.to(), server.mail_options, strict=True))
    assert "SMTPUTF8" in by_address["josé.müller@xn--exmple-cua.com"]  # declared because it is used
    assert "SMTPUTF8" not in by_address["anouk@xn--exmple-cua.nl"]  # the domain alone travels as IDNA


def test_an_unexpected_error_in_a_channel_parks_that_row_and_the_batch_goes_on(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel("email")
    calls = _failing_on(channel, 2, RuntimeError("boom"))
    summary = outbox.deliver_due(store, channels_of(channel), clock.now())
    assert calls() > 2 and summary.parked == 1 and summary.delivered == summary.claimed - summary.skipped - 1
    (parked,) = _parked(store)
    assert "unexpected error: RuntimeError: boom" in str(parked["last_error"])
    assert "sending" not in statuses(store)


def test_an_interrupted_run_leaves_no_row_claimed(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel("email")
    _failing_on(channel, 2, KeyboardInterrupt())
    now = clock.now()
    with pytest.raises(KeyboardInterrupt):
        outbox.deliver_due(store, channels_of(channel), now)

    by_status = statuses(store)
    assert "sending" not in by_status and by_status["delivered"] == 1
    tried, *untried = [row for row in rows(store) if row["status"] == "pending"]
    assert tried["attempts"] == 1 and tried["next_attempt_at"] > now  # the row it was sending: backing off
    assert "interrupted while sending: KeyboardInterrupt" in str(tried["last_error"])
    assert untried and all(row["attempts"] == 0 and row["next_attempt_at"] == now for row in untried)

    channel.fail = None
    rest = outbox.deliver_due(store, channels_of(channel), now)  # the others are due at once
    assert rest.claimed == len(untried) and not rest.troubled


def _failing_on(channel: FakeChannel, nth: int, error: BaseException) -> Callable[[], int]:
    def fail(message: Message) -> DeliveryError | None:
        if channel.calls == nth:
            raise error
        return None

    channel.fail = fail
    return lambda: channel.calls


@pytest.mark.parametrize(
    ("options", "settings", "reason"),
    [
        ({}, {"starttls": True}, "does not offer STARTTLS"),
        (
            {"auth_require_tls": False, "authenticator": refuse_every_login},
            {"username": "m", "password": "x", "allow_insecure_auth": True},
            "refused the login of 'm'",
        ),
        ({}, {"username": "m", "password": "x"}, "login over cleartext SMTP is refused"),
    ],
)
def test_a_server_that_does_not_match_the_settings_parks_with_a_config_note(
    store: Engine, pairs: list[int], clock: SimulatedClock, options: dict[str, object],
    settings: dict[str, object], reason: str,
) -> None:  # fmt: skip
    server = Server(**options).start()
    try:
        summary = outbox.deliver_due(store, channels_for(server, **settings), clock.now())
    finally:
        server.stop()
    assert summary.sent == 0 and summary.retrying == 0 and summary.parked == summary.claimed - summary.skipped
    notes = [str(row["last_error"]) for row in _parked(store)]
    assert notes and all("SMTP configuration" in note and reason in note for note in notes)
    assert not any("unreachable" in note for note in notes)


def test_a_login_without_starttls_is_refused_when_the_settings_are_read() -> None:
    document = {
        "notifications": {"coordinator_email": "c@example.com"},
        "channels": {"default": ["email"], "email": {"host": "h", "from": "a@example.com", "username": "m"}},
    }
    with pytest.raises(ConfigError, match="cleartext"):
        channels_from(document, None)
    document["channels"]["email"]["allow_insecure_auth"] = True  # type: ignore[index]
    assert channels_from(document, None).by_name["email"].settings.allow_insecure_auth  # type: ignore[attr-defined]


# Through the CLI, on both back ends: `outbox deliver` sends the rest, parks the one, and exits 1.


@pytest.mark.parametrize(("field", "value"), [("email", INTERNATIONAL), ("name", BROKEN_NAME)])
def test_outbox_deliver_parks_the_poison_message_and_exits_1(
    store: Engine, pairs: list[int], server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], field: str, value: str,
) -> None:  # fmt: skip
    overwrite_participant(store, mentee_of(store, pairs[0]), **{field: value})
    monkeypatch.chdir(tmp_path)
    for name in ("MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "MENTORFLOW_CONFIG", "MENTORFLOW_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "mentorflow.toml").write_text(
        '[notifications]\ncoordinator_email = "coordinator@example.com"\n[channels]\ndefault = ["email"]\n'
        f'[channels.email]\nhost = "127.0.0.1"\nport = {server.port}\nfrom = "mentoring@example.com"\n',
        encoding="utf-8",
    )
    opened: list[Engine] = []
    monkeypatch.setattr(setup, "open_store", lambda *a, **k: opened.append(open_store(*a, **k)) or opened[-1])
    url = store.url.render_as_string(hide_password=False)
    with pytest.raises(SystemExit) as exited:
        main(["outbox", "deliver", "--database", url, "--now", "2026-01-05T12:00"])
    for engine in opened:  # the command's own engine, which a process would close by ending
        engine.dispose()
    out, err = capsys.readouterr()

    assert exited.value.code == 1, err
    assert f"delivered ({EXPECTED_MATCH_MESSAGES_BOTH - 1} sent by email)" in out and "1 parked" in out
    assert "mentorflow outbox list --failed" in err and "nothing was committed" not in err
    assert len(server.received) == EXPECTED_MATCH_MESSAGES_BOTH - 1
    assert "sending" not in statuses(store) and len(_parked(store)) == 1


def test_a_summary_is_troubled_when_rows_were_parked_or_every_attempt_failed(
    store: Engine, pairs: list[int], clock: SimulatedClock, server: Server
) -> None:
    summary = outbox.deliver_due(store, channels_for(server), clock.now())
    assert summary.sent == EXPECTED_MATCH_MESSAGES_BOTH and not summary.troubled
    retrying = outbox.DeliverySummary(claimed=2, retrying=2)
    assert retrying.troubled and not outbox.DeliverySummary().troubled  # every attempt failed; nothing due
    assert not outbox.DeliverySummary(claimed=2, delivered=1, retrying=1).troubled
