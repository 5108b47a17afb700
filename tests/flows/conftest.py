"""Flow tests: every test here runs under ONE Prefect test harness, started once per session.

Prefect is imported only when the first flow test runs (the harness fixture
and the tests import it lazily), so ``pytest tests/unit`` or ``pytest -m "not
flows"`` never imports it. Each test module is marked ``flows``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HARNESS_SETTINGS = {
    # the harness's server inherits these: quiet logs, no telemetry attempts
    "PREFECT_LOGGING_LEVEL": "INFO",  # a run's INFO lines reach the server's records
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",  # and only warnings the terminal
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "flows: runs Prefect flows under the session's test harness")


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect server and database for the whole session's flow tests."""
    saved = {name: os.environ.get(name) for name in HARNESS_SETTINGS}
    for name, value in HARNESS_SETTINGS.items():
        os.environ.setdefault(name, value)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield
    from workflows.flows import resources

    resources.forget_stores()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def task_run_names(flow_run_id: object, expected: int, *, timeout: float = 20.0) -> list[str]:
    """The names of a flow run's task runs, once the server has recorded ``expected`` of them.

    Task runs reach the server as events, recorded a moment later; this waits for them.
    """
    import time

    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])), limit=200
            )
            if len(runs) >= expected or time.monotonic() > deadline:
                return sorted(run.name for run in runs)
            time.sleep(0.2)


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run ``mentorflow ARGS`` in-process in a fresh working directory: (exit code, stdout, stderr)."""
    from workflows.cli import main

    monkeypatch.chdir(tmp_path)
    for name in ("MENTORFLOW_DATABASE_URL", "MENTORFLOW_POLICY", "MENTORFLOW_CONFIG", "MENTORFLOW_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MENTORFLOW_ACTOR", "tester")
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke
