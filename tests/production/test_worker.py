"""Production as the README describes it, with real processes: a `prefect server`, `mentorflow serve
--work-pool`, a process worker started in the installation's directory, and an SMTP server.

The worker's runs start in the package's directory (the deployments' pull step moves them there), so
they find the installation's ``mentorflow.toml`` only through the path the deployment carries: the
emails the SMTP server receives show that the settings travelled with the work. The module also
switches from ``serve --work-pool`` to ``serve`` and back, and the next run completes each time.

One Prefect server, one worker and one SMTP server serve the whole module.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.participants import Participant
from engine.policy.model import load_policy, shipped_policies
from engine.services.delivery import list_rows
from engine.services.participants import import_participants
from engine.store.database import initialise, open_engine
from tests.conftest import START, _truncate_everything
from tests.integration.smtp_support import Server

pytestmark = pytest.mark.slow
POOL = "mentorflow-production"
COORDINATOR = "coordinator@example.com"
MENTEES = 3


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _prefect() -> str:
    found = shutil.which("prefect", path=str(Path(sys.executable).parent)) or shutil.which("prefect")
    assert found, "the prefect command is not installed beside this Python"
    return found


def _mentorflow() -> str:
    found = shutil.which("mentorflow", path=str(Path(sys.executable).parent)) or shutil.which("mentorflow")
    assert found, "the mentorflow command is not installed beside this Python"
    return found


def _wait(
    what: str, check: Callable[[], Any], timeout: float, process: subprocess.Popen[str] | None = None
) -> Any:
    """``check()``'s first true result, polled until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if process is not None and process.poll() is not None:
            pytest.fail(f"{what}: the process ended with {process.returncode}:\n{_output(process)}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.5)


def _output(process: subprocess.Popen[str]) -> str:
    return getattr(process, "log_path", Path(os.devnull)).read_text(encoding="utf-8", errors="replace")


def _start(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """A background process whose output goes to ``log`` (read when it fails)."""
    handle = log.open("w", encoding="utf-8")
    process = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    handle.close()  # the child holds its own copy
    process.log_path = log  # type: ignore[attr-defined]
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


class Production:
    """The module's servers and installation: what a test needs to act as the operations team."""

    def __init__(self, root: Path, api: str, smtp: Server, env: dict[str, str]) -> None:
        self.root, self.api, self.smtp, self.env = root, api, smtp, env
        self.installation = root / "installation"
        self.database = f"sqlite:///{self.installation / 'mentorflow.db'}"

    def mentorflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [_mentorflow(), *args], cwd=self.installation, env=self.env,
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip

    def client(self) -> Any:
        from prefect import get_client
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: self.api}):
            return get_client(sync_client=True)

    def deployment(self, name: str) -> Any:
        with self.client() as client:
            return client.read_deployment_by_name(name)

    def served_alone(self, name: str) -> bool:
        """Whether ``name`` exists as a deployment of ``serve`` (no work pool, no pull steps)."""
        from prefect.exceptions import ObjectNotFound

        try:
            found = self.deployment(name)
        except ObjectNotFound:  # between serve's delete of the old one and the creation of its own
            return False
        return found.work_pool_name is None and not found.pull_steps

    def run(self, name: str, timeout: float = 150) -> Any:
        """A flow run of the deployment ``name``, created now, in its final state."""
        with self.client() as client:
            run = client.create_flow_run_from_deployment(self.deployment(name).id)

        def final() -> Any:
            with self.client() as client:
                state = client.read_flow_run(run.id).state
            return state if state is not None and state.is_final() else None

        return _wait(f"the run of {name}", final, timeout)

    def logs(self, flow_run_id: UUID, expected: str) -> list[str]:
        """The run's log lines, once one holds ``expected`` (they reach the server a moment later)."""
        from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

        only = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))

        def read() -> list[str]:
            with self.client() as client:
                return [log.message for log in client.read_logs(log_filter=only)]

        # a run's process sends its last log lines as it exits, which may be after its state is final
        deadline = time.monotonic() + 90
        found = read()
        while not any(expected in line for line in found) and time.monotonic() < deadline:
            time.sleep(0.5)
            found = read()
        return found


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    root = tmp_path_factory.mktemp("production")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORFLOW_"))}
    server_env = base | {
        "PREFECT_HOME": str(root / "prefect-server"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    }
    server = _start(
        [_prefect(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        root, server_env, root / "prefect-server.log",
    )  # fmt: skip
    smtp = Server().start()
    env = base | {
        "PREFECT_HOME": str(root / "prefect-client"),
        "PREFECT_API_URL": api,
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "MENTORFLOW_ACTOR": "operations",
    }
    try:
        _wait("the Prefect server", lambda: _healthy(api), 120, server)
        found = Production(root, api, smtp, env)
        _install(found)
        yield found
    finally:
        smtp.stop()
        _stop(server)


def _install(production: Production) -> None:
    """The installation directory: its settings file, an initialised store, three mentees waiting since
    January (their escalations are long due)."""
    production.installation.mkdir()
    (production.installation / "mentorflow.toml").write_text(
        f'[database]\nurl = "{production.database}"\n\n'
        "[notifications]\n"
        'program_name = "Mentorprogramma"\n'
        f'coordinator_email = "{COORDINATOR}"\n\n'
        '[channels]\ndefault = ["email"]\n\n'
        "[channels.email]\n"
        'host = "127.0.0.1"\n'
        f"port = {production.smtp.port}\n"
        'from = "Mentorprogramma <mentoring@example.com>"\n'
        "timeout = 10\n\n"
        '[schedules]\ncadence = "0 7 * * *"\ndelivery = "*/5 * * * *"\nmatching = "off"\n',
        encoding="utf-8",
    )
    store = open_engine(production.database)
    initialise(store)
    mentees = [
        Participant(external_id=f"m{i}", role="mentee", name=f"Mentee Nr{i}", email=f"m{i}@example.com")
        for i in range(MENTEES)
    ]
    import_participants(
        store, load_policy(shipped_policies()["default"]), SimulatedClock(START), mentees, actor="test"
    )
    store.dispose()


@pytest.fixture(scope="module")
def worker(production: Production) -> Iterator[subprocess.Popen[str]]:
    """One process worker of the pool, started in the installation's directory."""
    registered = production.mentorflow("serve", "--work-pool", POOL)
    assert registered.returncode == 0, registered.stderr
    process = _start(
        [_prefect(), "worker", "start", "--pool", POOL, "--type", "process"],
        production.installation, production.env, production.root / "worker.log",
    )  # fmt: skip
    yield process
    _stop(process)


def test_the_scheduled_delivery_through_a_worker_sends_its_email_with_the_installation_settings(
    production: Production, worker: subprocess.Popen[str]
) -> None:
    delivery = production.deployment("delivery/mentorflow-delivery")
    assert delivery.work_pool_name == POOL
    assert [s.schedule.cron for s in delivery.schedules] == ["*/5 * * * *"]
    assert delivery.parameters["settings"] == str(production.installation / "mentorflow.toml")

    cadence = production.run("cadence/mentorflow-cadence")
    assert cadence.is_completed(), cadence
    sent = production.run("delivery/mentorflow-delivery")
    assert sent.is_completed(), sent

    received = production.smtp.received
    assert len(received) == MENTEES
    assert production.smtp.to() == [COORDINATOR] * MENTEES
    assert {str(m["From"]) for m in received} == {"Mentorprogramma <mentoring@example.com>"}
    assert all("Mentee Nr" in str(m["Subject"]) + m.get_body(("plain",)).get_content() for m in received)
    store = open_engine(production.database)
    rows = list_rows(store)
    store.dispose()
    assert {row["status"] for row in rows} == {"delivered"}
    assert not (production.installation / "mentorflow-outbox.jsonl").exists()  # no log channel fallback
    said = f"{MENTEES} delivered"
    logs = production.logs(sent.state_details.flow_run_id, said)
    assert any(said in line for line in logs), (logs, _output(worker))  # the worker shows a run's log errors


def test_serve_after_serve_work_pool_takes_over_and_the_next_run_completes(
    production: Production, worker: subprocess.Popen[str]
) -> None:
    served = _start(
        [_mentorflow(), "serve"], production.installation, production.env, production.root / "serve.log"
    )
    try:
        _wait(
            "serve's own deployment",
            lambda: production.served_alone("cadence/mentorflow-cadence"),
            90,
            served,
        )
        state = production.run("cadence/mentorflow-cadence")
        assert state.is_completed(), (state, _output(served))
    finally:
        _stop(served)

    again = production.mentorflow("serve", "--work-pool", POOL)
    assert again.returncode == 0, again.stderr
    assert production.deployment("cadence/mentorflow-cadence").work_pool_name == POOL
    state = production.run("cadence/mentorflow-cadence")
    assert state.is_completed(), (state, _output(worker))


SECRET = "Wr0ng-s3cret-pw"


def _everything(production: Production) -> str:
    """Every record the Prefect API holds of deployments, flow runs, task runs, logs and artifacts."""
    with production.client() as client:
        records = [
            *client.read_deployments(),
            *client.read_flow_runs(),
            *client.read_task_runs(),
            *client.read_logs(),
            *client.read_artifacts(),
        ]
    return "\n".join(record.model_dump_json() for record in records)


@pytest.mark.postgres
def test_a_worker_run_on_postgresql_records_what_it_did_and_never_the_password(
    production: Production, worker: subprocess.Popen[str], postgres_engine: Engine
) -> None:
    """The store's URL with its password is given to `serve`; the runs find it by reference."""
    _truncate_everything(postgres_engine)
    policy = load_policy(shipped_policies()["onboarding-buddy"])
    mentees = [Participant(external_id="p1", role="mentee", name="Mentee Pg", email="pg@example.com")]
    import_participants(postgres_engine, policy, SimulatedClock(START), mentees, actor="test")
    url = postgres_engine.url.set(password=SECRET).render_as_string(hide_password=False)
    elsewhere = production.root / "postgres-installation"
    elsewhere.mkdir()
    (elsewhere / "mentorflow.toml").write_text(
        '[program]\npolicy = "onboarding-buddy"\n\n[channels]\ndefault = ["log"]\n\n'
        '[schedules]\ncadence = "0 7 * * *"\ndelivery = "off"\nmatching = "off"\n',
        encoding="utf-8",
    )
    registered = subprocess.run(
        [_mentorflow(), "serve", "--work-pool", POOL, "--database", url], cwd=elsewhere,
        env=production.env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr

    state = production.run("cadence/mentorflow-cadence-onboarding-buddy")

    assert state.is_completed(), (state, _output(worker))
    run_id = state.state_details.flow_run_id
    assert any("cadence:" in line for line in production.logs(run_id, "cadence:"))
    with production.client() as client:
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

        only = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        artifacts = client.read_artifacts(artifact_filter=only)
    assert [a.key for a in artifacts] == ["cadence-onboarding-buddy"]
    assert "Overdue now: 1" in str(artifacts[0].data)  # the mentee, by the ids of the pair and its mentee
    assert "Mentee Pg" not in str(artifacts[0].data) and "pg@example.com" not in str(artifacts[0].data)
    recorded = _everything(production)
    assert "cadence-onboarding-buddy" in recorded  # the records were read
    assert SECRET not in recorded
