"""A program prepared through the CLI and served by the real `mentorflow web`, and a headless Chromium.

``program`` (once per module): a folder with a ``mentorflow.toml`` (SQLite, the log channel, ``[web]``
at a free loopback port), a policy that is the shipped default with a program of one second (so a
pair reaches review without moving the clock), and a five-person CSV. Through the commands, as a
coordinator would: ``init``, ``participants import``, relationship 1 (Priya Raman) matched, kickoff
held, started and moved to ``review`` (its final survey is written to the outbox), relationship 2
(Tomasz Kowalski) the same up to ``active``, relationship 3 (Ayla Demir) waiting in intake for a
mentor, then ``outbox deliver`` writes every message as a JSON line to the log file. Then
``mentorflow web`` starts on the port and serves until the module ends.

``browser``: Debian's Chromium driven by Playwright (the browser is never downloaded). Without
Playwright or Chromium the tests are skipped with the reason, except in CI (``CI=true``), where
that is a failure: CI must never go green by skipping the browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

from engine.policy.model import shipped_policies

from ..webserver import wait_until_up

ROOT = Path(__file__).parents[2]
KEY = "a-key-for-the-browser-tests-" + "b" * 24
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--no-sandbox",  # the tests run as root here, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no network but loopback: spare the refused connections
    "--disable-component-update",
    "--disable-sync",
)
PEOPLE = """\
external_id,role,name,email,department,goals,languages,timezone,capacity,trained
M2001,mentor,Fatima El Amrani,fatima.elamrani@example.com,Finance,,en;nl,Europe/Amsterdam,2,yes
E2001,mentee,Priya Raman,priya.raman@example.com,Engineering,lead a team;speak at a conference,en,\
Europe/Amsterdam,,
E2002,mentee,Tomasz Kowalski,tomasz.kowalski@example.com,Sales,negotiate better,en,Europe/Amsterdam,,
E2003,mentee,Ayla Demir,ayla.demir@example.com,Legal,negotiate better,en,Europe/Amsterdam,,
M2002,mentor,Noor Bakker,noor.bakker@example.com,Sales,,en,Europe/Amsterdam,1,yes
"""
SURVEY_PAIR, MEETING_PAIR, WAITING_PAIR = 1, 2, 3  # WAITING_PAIR: in intake, for the coordinator to match
_ENVIRONMENT = ("MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "MENTORFLOW_CONFIG", "MENTORFLOW_LINK_KEYS")


def unavailable(reason: str) -> NoReturn:
    """Skip locally; in CI a missing browser fails the run."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the browser tests must run, but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), through Playwright's sync API."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[dev]' brings it)")
    executable = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if executable is None:
        unavailable(f"no Chromium at {CHROMIUM} (apt install chromium; Playwright's own is not used)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (no shared state between tests), English, a laptop's window."""
    context = browser.new_context(locale="en-GB", viewport={"width": 1024, "height": 768})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass
class Program:
    """The folder the commands run in, and the address `mentorflow web` serves."""

    folder: Path
    base: str
    server_log: Path

    def run(self, *args: str, stdin: str | None = None) -> str:
        """``mentorflow ARGS`` in the program's folder; its standard output (a failure fails the test)."""
        done = mentorflow(self.folder, *args, stdin=stdin)
        assert done.returncode == 0, f"mentorflow {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
        return done.stdout

    def history(self, rel_id: int) -> list[dict[str, Any]]:
        """``mentorflow history REL --format json``: the relationship's audit entries."""
        entries: list[dict[str, Any]] = json.loads(self.run("history", str(rel_id), "--format", "json"))
        return entries

    def sent(self, rel_id: int, action: str, recipient: str) -> dict[str, Any]:
        """The one message of ``action`` to ``recipient`` of ``rel_id`` that the log channel wrote."""
        lines = (self.folder / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
        found = [
            message
            for message in map(json.loads, lines)
            if (message["relationship_id"], message["action"], message["recipient"])
            == (rel_id, action, recipient)
        ]
        assert len(found) == 1, f"{len(found)} {action} messages to the {recipient} of {rel_id}"
        return found[0]

    def link_in(self, message: dict[str, Any], purpose: str) -> str:
        """The personal link for ``purpose`` in a message's text (exactly one)."""
        links = re.findall(rf"{re.escape(self.base)}/l/{purpose}/[A-Za-z0-9._-]+", message["body"])
        assert len(links) == 1, f"{len(links)} {purpose} links in:\n{message['body']}"
        return str(links[0])


def mentorflow(
    cwd: Path, *args: str, timeout: float = 60, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "workflows.cli", *args]
    return subprocess.run(command, cwd=cwd, env=_environment(), input=stdin, capture_output=True, text=True,
                          timeout=timeout, check=False)  # fmt: skip


def _environment() -> dict[str, str]:
    """This process's environment without mentorflow's own settings (the folder's file decides)."""
    kept = {k: v for k, v in os.environ.items() if k not in _ENVIRONMENT}
    return {**kept, "PYTHONPATH": str(ROOT)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(base: str) -> str:
    return f"""\
[database]
url = "sqlite:///mentorflow.db"

[program]
policy = "policy.yaml"

[notifications]
program_name = "Mentoring program"
coordinator_name = "Sam de Wit"
coordinator_email = "mentoring@example.com"
language = "en"

[channels]
default = ["log"]

[channels.log]
path = "outbox.jsonl"
bodies = true

[web]
base_url = "{base}"
secret_keys = ["{KEY}"]
"""


def _one_second_policy() -> str:
    """The shipped default policy, but its program lasts one second: review is due at once."""
    shipped = Path(shipped_policies()["default"]).read_text(encoding="utf-8")
    policy, n = re.subn(r"(?m)^(\s+duration:) 6 months\b", r"\1 1 second", shipped)
    assert n == 1, "the default policy no longer says `duration: 6 months`"
    return policy.replace("policy: default\n", "policy: browser-test\n", 1)


def _prepare(program: Program) -> None:
    """The store, through the commands: a pair in review (its survey sent), a pair active."""
    folder = program.folder
    (folder / "people.csv").write_text(PEOPLE, encoding="utf-8")
    program.run("init")
    program.run("participants", "import", "people.csv")
    started = {}
    for rel in (SURVEY_PAIR, MEETING_PAIR):
        program.run("advance", str(rel), "match", "--mentor", "M2001", "--actor", "coordinator")
        program.run("advance", str(rel), "schedule_kickoff", "--actor", "coordinator")
        program.run("record", "meeting", str(rel), "--kind", "kickoff")
        program.run("advance", str(rel), "start", "--actor", "coordinator")
        started[rel] = time.monotonic()
    time.sleep(max(0.0, 1.2 - (time.monotonic() - started[SURVEY_PAIR])))  # its one-second program is over
    program.run("advance", str(SURVEY_PAIR), "review", "--actor", "coordinator")
    program.run("outbox", "deliver")


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Program]:
    folder = tmp_path_factory.mktemp("program")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    (folder / "mentorflow.toml").write_text(_settings(base), encoding="utf-8")
    (folder / "policy.yaml").write_text(_one_second_policy(), encoding="utf-8")
    prepared = Program(folder, base, folder / "server.log")
    _prepare(prepared)
    with prepared.server_log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "workflows.cli", "web", "--port", str(port)], cwd=folder,
            env=_environment(), stdout=out, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
    try:
        wait_until_up(base, server, prepared.server_log)
        yield prepared
    finally:
        server.terminate()
        server.wait(timeout=20)
