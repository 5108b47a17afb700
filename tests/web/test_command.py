"""`mentorflow web`: refuses to start without its settings; started for real with uvicorn on a free
loopback port (once for the module), it takes a survey answer over HTTP and logs no token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import load_policy, shipped_policies
from engine.services.links import issue_link
from engine.store.database import initialise, open_engine
from engine.store.tables import survey_responses
from tests.integration.support import import_examples, to_review

from ..webserver import wait_until_up
from .conftest import KEYS, dump

ROOT = Path(__file__).parents[2]
SURVEY = {"satisfaction": "5", "recommend": "10", "met_regularly": "yes", "goals.0": "reached",
          "goals.1": "reached", "comments": "Thank you!"}  # fmt: skip


def _mentorflow(cwd: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**_clean_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "workflows.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip


def _clean_env() -> dict[str, str]:
    names = ("MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "MENTORFLOW_CONFIG", "MENTORFLOW_LINK_KEYS")
    return {k: v for k, v in os.environ.items() if k not in names}


def test_it_refuses_to_start_without_keys_or_an_address(tmp_path: Path) -> None:
    no_keys = _mentorflow(tmp_path, "web", "--port", "1")
    assert no_keys.returncode == 2 and "no key to sign personal links" in no_keys.stderr
    (tmp_path / "mentorflow.toml").write_text(f'[web]\nsecret_keys = ["{KEYS[0]}"]\n', encoding="utf-8")
    no_address = _mentorflow(tmp_path, "web")
    assert no_address.returncode == 2 and "set base_url under [web]" in no_address.stderr
    (tmp_path / "mentorflow.toml").write_text(
        '[web]\nbase_url = "https://m.example.com"\nsecret_keys = ["short"]\n'
    )
    short = _mentorflow(tmp_path, "web")
    assert short.returncode == 2 and "a link key needs at least 32" in short.stderr
    assert _mentorflow(tmp_path, "web", "--port", "70000").returncode == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    database: Path
    process: subprocess.Popen[str]
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The program in a SQLite file, its final survey sent months ago, served by `mentorflow web`."""
    folder = tmp_path_factory.mktemp("web")
    database = folder / "mentorflow.db"
    store = open_engine(f"sqlite:///{database}")
    initialise(store)
    policy = load_policy(shipped_policies()["default"])
    clock = SimulatedClock(datetime.now(UTC) - timedelta(days=400))
    rels = import_examples(store, policy, clock)
    to_review(store, policy, Lifecycle(policy), clock, rels[9])
    store.dispose()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    (folder / "mentorflow.toml").write_text(
        f'[web]\nbase_url = "{base}"\nsecret_keys = ["{KEYS[0]}"]\n\n'
        '[notifications]\ncoordinator_name = "Sam de Wit"\ncoordinator_email = "mentoring@example.com"\n',
        encoding="utf-8",
    )
    log = folder / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workflows.cli", "web", "--port", str(port)], cwd=folder, text=True,
            env={**_clean_env(), "PYTHONPATH": str(ROOT)}, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until_up(base, process, log)
        yield Server(base, database, process, log)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_survey_is_answered_through_the_real_server(server: Server) -> None:
    store = open_engine(f"sqlite:///{server.database}", create=False)
    try:
        policy = load_policy(shipped_policies()["default"])
        url = issue_link(store, 10, "mentee", "survey", datetime.now(UTC), KEYS, server.base,
                         terminal=policy.terminal_phases).url  # fmt: skip
        with httpx.Client(timeout=10) as client:
            page = client.get(url)
            assert page.status_code == 200 and "How did it go?" in page.text
            assert page.headers["referrer-policy"] == "same-origin" and "server" not in page.headers
            token = page.text.split('name="form_token" value="', 1)[1].split('"', 1)[0]
            form = {"form_token": token, "survey": "final", **SURVEY}
            done = client.post(url, data=form, headers={"origin": server.base})
            assert done.status_code == 200 and "Your answers are recorded" in done.text
            before = dump(store)
            again = client.post(url, data=form, headers={"origin": server.base})
            assert again.status_code == 200 and "Already recorded" in again.text
            assert dump(store) == before
        with store.connect() as conn:
            rows = conn.execute(select(survey_responses.c.relationship_id, survey_responses.c.answers)).all()
        assert [(rel, answers["satisfaction"]) for rel, answers in rows] == [(10, 5)]
    finally:
        store.dispose()
    logged = server.log.read_text()
    assert "POST /l/survey/{token} 200" in logged and url.rsplit("/", 1)[1] not in logged
    assert url.rsplit("/", 1)[1][:16] not in logged
