"""`mentorflow web --workers 2`, started for real on a free loopback port (once for the module): a
coordinator made with `users add --password-stdin` signs in, and every one of many requests with that
session cookie, each on a connection of its own, whichever worker takes it, finds the session in the
store; a personal link made by `mentorflow link` opens; the server stops leaving no process behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import EXAMPLES
from tests.webserver import wait_until_up

ROOT = Path(__file__).parents[2]
KEY = "a-key-for-the-worker-tests-" + "k" * 24
PASSWORD = "a-long-enough-password"
_ENVIRONMENT = ("MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "MENTORFLOW_CONFIG", "MENTORFLOW_LINK_KEYS")
_LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')


def _environment() -> dict[str, str]:
    """This process's environment without mentorflow's own settings (the folder's file decides)."""
    kept = {k: v for k, v in os.environ.items() if k not in _ENVIRONMENT}
    return {**kept, "PYTHONPATH": str(ROOT), "MENTORFLOW_ACTOR": "tester"}


def _mentorflow(folder: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "workflows.cli", *args], cwd=folder, env=_environment(), input=stdin,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"mentorflow {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
    return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> set[int]:
    """The processes ``pid`` started, and theirs (from /proc)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found |= {int(entry.name)} | _children(int(entry.name))
    return found


def _command(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _cpu_ticks(pid: int) -> int:
    """The CPU time ``pid`` has used, in clock ticks (user and system)."""
    fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Server:
    folder: Path
    base: str
    process: subprocess.Popen[str]
    workers: set[int]
    """The worker processes (uvicorn's, started by multiprocessing's spawn)."""
    log: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A program made by the commands (a SQLite file), a coordinator ``sam``, served by two workers."""
    folder = tmp_path_factory.mktemp("workers")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    (folder / "mentorflow.toml").write_text(
        f'[database]\nurl = "sqlite:///mentorflow.db"\n\n'
        f'[web]\nbase_url = "{base}"\nsecret_keys = ["{KEY}"]\n\n'
        '[notifications]\ncoordinator_name = "Sam de Wit"\ncoordinator_email = "mentoring@example.com"\n',
        encoding="utf-8",
    )
    _mentorflow(folder, "init")
    _mentorflow(folder, "participants", "import", str(EXAMPLES))
    _mentorflow(folder, "advance", "1", "match", "--mentor", "E1002")
    _mentorflow(
        folder, "users", "add", "sam", "--role", "coordinator", "--password-stdin", stdin=PASSWORD + "\n"
    )
    log = folder / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "workflows.cli", "web", "--port", str(port), "--workers", "2"],
            cwd=folder, text=True, env=_environment(), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    started: set[int] = set()
    try:
        wait_until_up(base, process, log)
        workers = _all_started(process, log, 2)
        started = _children(process.pid)
        yield Server(folder, base, process, workers, log)
    finally:
        started |= _children(process.pid)
        _stop(process)
        left = _outliving(started)
        for pid in left:  # none may outlive the server: end them, then fail
            os.kill(pid, signal.SIGKILL)
        assert not left, f"{left} outlived `mentorflow web`:\n{log.read_text()}"


def _outliving(pids: set[int]) -> list[int]:
    """Those of ``pids`` still running 10 seconds after the server ended (multiprocessing's resource
    tracker ends a moment after it)."""
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return sorted(pid for pid in pids if _alive(pid))


def _all_started(process: subprocess.Popen[str], log: Path, workers: int) -> set[int]:
    """The worker processes, once each of ``workers`` has said its application started."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        started = _children(process.pid)
        spawned = {pid for pid in started if "multiprocessing.spawn" in _command(pid)}
        if len(spawned) == workers and log.read_text().count("Application startup complete.") == workers:
            return spawned
        assert process.poll() is None, f"mentorflow web ended:\n{log.read_text()}"
        time.sleep(0.1)
    raise AssertionError(f"{workers} workers did not start within a minute:\n{log.read_text()}")


def _stop(process: subprocess.Popen[str]) -> None:
    """Ask the server to stop (SIGTERM); kill it if it has not within 20 seconds."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _signed_in(server: Server) -> str:
    """Sign ``sam`` in through the login page; the session cookie."""
    with httpx.Client(base_url=server.base, timeout=10) as client:
        page = client.get("/login")
        assert page.status_code == 200, page.text
        found = _LOGIN_TOKEN.search(page.text)
        assert found is not None, page.text
        form = {"login_token": found.group(1), "name": "sam", "password": PASSWORD}
        done = client.post("/login", data=form, headers={"origin": server.base})
        assert done.status_code == 303 and done.headers["location"] == "/", done.text
        cookie = client.cookies.get("mentorflow_session")
    assert cookie
    return cookie


def test_it_serves_with_two_worker_processes(server: Server) -> None:
    assert server.process.poll() is None
    logged = server.log.read_text()
    assert "with 2 workers" in logged
    assert len(re.findall(r"Started server process \[(\d+)\]", logged)) == 2, logged
    started = {int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", logged)}
    assert started == server.workers


def test_every_worker_finds_the_session(server: Server) -> None:
    cookie = _signed_in(server)

    def today(_: int) -> tuple[int, bool]:
        # a connection of its own each time, so the requests spread over the workers
        with httpx.Client(base_url=server.base, timeout=10, cookies={"mentorflow_session": cookie}) as client:
            page = client.get("/", follow_redirects=False)
        return page.status_code, "sam (coordinator)" in page.text

    before = {pid: _cpu_ticks(pid) for pid in server.workers}
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(today, range(80)))
    assert answers == [(200, True)] * 80
    used = {pid: _cpu_ticks(pid) - before[pid] for pid in server.workers}
    assert all(ticks >= 2 for ticks in used.values()), f"CPU ticks each worker used: {used}"  # both served
    with httpx.Client(base_url=server.base, timeout=10) as stranger:
        assert stranger.get("/", follow_redirects=False).status_code == 303


def test_a_personal_link_made_by_the_command_opens(server: Server) -> None:
    url = _mentorflow(server.folder, "link", "1", "--for", "mentee", "--purpose", "meeting").strip()
    assert url.startswith(f"{server.base}/l/meeting/")
    with httpx.Client(timeout=10) as client:
        for _ in range(4):
            page = client.get(url, headers={"connection": "close"})
            assert page.status_code == 200, page.text
            assert "Leg het gesprek vast" in page.text and 'name="form_token"' in page.text  # Zoë: Dutch
        refused = client.get(url[:-4] + "AAAA")
        assert refused.status_code == 400 and 'name="form_token"' not in refused.text  # tampered
    assert url.rsplit("/", 1)[1] not in server.log.read_text()
