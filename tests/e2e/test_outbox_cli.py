"""`mentorflow outbox` as an operator uses it: deliver, see what was parked, fix the cause, retry."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from .conftest import EXAMPLES, Run


@pytest.fixture
def matched(run: Run, tmp_path: Path) -> Path:
    assert run("init").code == 0
    assert run("participants", "import", str(EXAMPLES)).code == 0
    assert run("advance", "1", "match", "--mentor", "E1003").code == 0  # untrained: notify_pair and enrolment
    return tmp_path


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_without_a_channel_deliver_refuses_as_tick_does_and_the_messages_stay_pending(
    run: Run, matched: Path
) -> None:
    for settings in (None, '[database]\nurl = "sqlite:///mentorflow.db"\n'):
        if settings is not None:
            (matched / "mentorflow.toml").write_text(settings, encoding="utf-8")
        done = run("outbox", "deliver", "--now", "2030-01-01T09:00")
        ticked = run("tick", "--now", "2030-01-01T09:00")
        assert done.code == ticked.code == 2 and done.out == "" and "Traceback" not in done.err
        for said in (done.err, ticked.err):
            assert "no notification channel is configured" in said and "stay pending" in said
    assert "has no [channels] table" in done.err
    assert not (matched / "mentorflow-outbox.jsonl").exists()
    rows = json.loads(run("outbox", "list", "--format", "json").out)
    assert rows and {row["status"] for row in rows} == {"pending"} and {row["sent"] for row in rows} == {""}


def test_deliver_writes_the_log_it_is_told_to_and_says_so(run: Run, matched: Path) -> None:
    (matched / "mentorflow.toml").write_text('[channels]\ndefault = ["log"]\n', encoding="utf-8")
    done = run("outbox", "deliver", "--now", "2030-01-01T09:00")
    assert done.code == 0, done.err
    assert "3 delivered (3 written to mentorflow-outbox.jsonl)" in done.out and "0 parked" in done.out
    assert "sent" not in done.out
    lines = (matched / "mentorflow-outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["recipient"] for line in lines) == ["mentee", "mentor", "mentor"]

    listed = run("outbox", "list", "--format", "json")
    assert listed.code == 0, listed.err
    rows = json.loads(listed.out)
    assert {row["status"] for row in rows} == {"delivered"}
    assert "mentee/log" in {part for row in rows for part in row["sent"].split(", ")}
    assert "mentee/log file" in {part for row in rows for part in row["delivered_via"].split(", ")}
    table = run("outbox", "list")
    assert table.code == 0 and "delivered" in table.out and "log file" in table.out
    assert run("outbox", "deliver", "--now", "2030-01-02").out.startswith("outbox: 0 due")


def test_an_unreachable_webhook_is_parked_listed_and_delivered_after_retry(run: Run, matched: Path) -> None:
    port = _closed_port()
    settings = matched / "mentorflow.toml"
    settings.write_text(
        f'[notifications]\nmax_attempts = 1\n[channels]\ndefault = ["webhook"]\n'
        f'[channels.webhook]\nurl = "http://127.0.0.1:{port}/hook"\ntimeout = 2\n',
        encoding="utf-8",
    )
    done = run("outbox", "deliver", "--now", "2030-01-01T09:00")
    assert done.code == 1 and "3 parked" in done.out  # parked messages: a person must look
    assert "unreachable" in done.err and "mentorflow outbox list --failed" in done.err

    parked = run("outbox", "list", "--failed")
    assert parked.code == 0 and "failed" in parked.out and "outbox retry" in parked.out
    ids = [str(row["id"]) for row in json.loads(run("outbox", "list", "--failed", "--format", "json").out)]
    assert ids

    settings.write_text('[channels]\ndefault = ["log"]\n', encoding="utf-8")  # the operator fixes the cause
    assert run("outbox", "retry", "--all-failed", ids[0]).code == 2
    retried = run("outbox", "retry", *ids)
    assert retried.code == 0 and f"requeued {len(ids)} outbox row(s)" in retried.out
    assert run("outbox", "retry", ids[0]).code == 2  # no longer parked
    assert "0 parked" in run("outbox", "deliver").out
    assert run("outbox", "list", "--failed").out.strip() == "no parked outbox rows"


def test_a_bad_channel_setting_is_reported_with_its_file(run: Run, matched: Path) -> None:
    (matched / "mentorflow.toml").write_text('[channels]\ndefault = ["fax"]\n', encoding="utf-8")
    done = run("outbox", "deliver")
    assert done.code == 2
    assert "mentorflow.toml: [channels] is not valid" in done.err and "channels.default.0" in done.err
