"""``mentorflow events``: the feed as JSON lines, the subscribers' states, and the refusals (no
subscriber configured, an unknown one to retry, a wrong [[events.subscribers]]), each exit 2 and
without a traceback."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from .conftest import Run, snapshot

SECRET = "whsec_" + base64.b64encode(b"an-e2e-test-secret-of-32-bytes!!").decode()


def test_show_prints_every_change_as_an_event(run: Run, program: Path) -> None:
    done = run("events", "show", "--limit", "1000")
    assert done.code == 0, done.err
    events = [json.loads(line) for line in done.out.splitlines()]
    assert [int(e["sequence"]) for e in events] == list(range(1, len(events) + 1))
    assert events[-1]["type"] == "mentorflow.relationship.phase_changed"
    assert events[-1]["data"]["to_phase"] == "matched" and events[-1]["data"]["actor"] == "operator"
    later = run("events", "show", "--after", str(len(events) - 1))
    assert [json.loads(line)["id"] for line in later.out.splitlines()] == [events[-1]["id"]]


def test_without_a_subscriber_deliver_refuses_and_list_says_so(run: Run, program: Path) -> None:
    refused = run("events", "deliver")
    assert refused.code == 2 and "no subscriber" in refused.err and "Traceback" not in refused.err
    listed = run("events", "list")
    assert listed.code == 0 and "no subscriber yet" in listed.out
    unknown = run("events", "retry", "nobody")
    assert unknown.code == 2 and "no subscriber 'nobody'" in unknown.err


def test_a_subscriber_that_cannot_be_reached_waits_and_is_listed(
    run: Run, program: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DW_SECRET", SECRET)
    (tmp_path / "mentorflow.toml").write_text(
        '[[events.subscribers]]\nname = "dw"\nurl = "http://127.0.0.1:9/in"\nsecret_env = "DW_SECRET"\n',
        encoding="utf-8",
    )
    failed = run("events", "deliver")
    assert failed.code == 1 and "dw: 0 event(s) posted, at position 0; to retry" in failed.out, failed.out
    listed = json.loads(run("events", "list", "--format", "json").out)
    (row,) = listed
    assert (row["name"], row["position"], row["attempts"]) == ("dw", 0, 1) and row["behind"] > 0
    assert run("events", "deliver").out.startswith("dw: not tried (waiting)")
    assert run("events", "retry", "dw").code == 0


def test_a_wrong_subscriber_is_named_and_nothing_is_written(
    run: Run, program: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mentorflow.toml").write_text(
        '[[events.subscribers]]\nname = "dw"\nurl = "https://dw.example.com"\nsecret_env = "UNSET_SECRET"\n',
        encoding="utf-8",
    )
    before = snapshot(program)
    refused = run("events", "deliver")
    assert (
        refused.code == 2
        and "events.subscribers[1].secret_env: the variable UNSET_SECRET is not set" in refused.err
    )
    assert "Traceback" not in refused.err and snapshot(program) == before


def test_config_check_names_every_wrong_subscriber(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DW_SECRET", "not-a-whsec-secret")
    (tmp_path / "mentorflow.toml").write_text(
        '[channels]\ndefault = ["log"]\n\n'
        '[[events.subscribers]]\nname = "dw"\nurl = "https://dw.example.com"\nsecret_env = "DW_SECRET"\n\n'
        '[[events.subscribers]]\nname = "bi"\nurl = "ftp://bi.example.com"\nsecret_env = "DW_SECRET"\n',
        encoding="utf-8",
    )
    checked = run("config", "check")
    said = checked.out + checked.err
    assert checked.code == 2 and "2 problems" in said, said
    assert "events.subscribers.0.secret_env: DW_SECRET is not a usable secret" in said
    assert "events.subscribers.1.url: must start with https://" in said
