"""``mentorflow serve``: deployments on the schedules in the settings; a clear refusal without a server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.policy.model import shipped_policies
from engine.store.database import initialise, open_engine

pytestmark = pytest.mark.flows
ROOT = Path(__file__).parents[2]


def test_deployments_carry_the_cron_schedules_in_the_program_time_zone() -> None:
    from workflows.flows.resources import Target
    from workflows.flows.serving import deployments

    target = Target("sqlite:////tmp/x.db", str(shipped_policies()["default"]), "2026-01-05T07:00:00+00:00")
    schedules = {"cadence": "0 7 * * *", "delivery": "*/5 * * * *", "matching": None}

    found = deployments(target, schedules, "Europe/Amsterdam")

    assert [d.name for d in found] == ["mentorflow-cadence", "mentorflow-delivery"]
    crons = [(d.schedules[0].schedule.cron, d.schedules[0].schedule.timezone) for d in found]
    assert crons == [("0 7 * * *", "Europe/Amsterdam"), ("*/5 * * * *", "Europe/Amsterdam")]
    assert found[0].parameters == {"database": target.database, "policy": target.policy}


def test_another_policys_deployments_carry_its_name_so_two_programs_can_be_served() -> None:
    from workflows.flows.resources import Target
    from workflows.flows.serving import deployments

    target = Target("sqlite:////tmp/x.db", str(shipped_policies()["onboarding-buddy"]), "2026-01-05T07:00:00")
    schedules = {"cadence": "0 7 * * *", "delivery": None, "matching": "0 8 * * 1"}

    found = deployments(target, schedules, "Europe/Amsterdam")

    assert [d.name for d in found] == [
        "mentorflow-cadence-onboarding-buddy",
        "mentorflow-matching-onboarding-buddy",
    ]
    assert found[0].parameters == {"database": target.database, "policy": target.policy}


def test_a_relative_sqlite_path_is_served_as_an_absolute_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows.flows.serving import absolute

    monkeypatch.chdir(tmp_path)
    assert absolute("sqlite:///mentorflow.db") == f"sqlite:///{tmp_path / 'mentorflow.db'}"
    assert absolute("postgresql+psycopg://db/x") == "postgresql+psycopg://db/x"


def test_serve_without_a_prefect_server_says_how_to_start_one(tmp_path: Path) -> None:
    store = open_engine(f"sqlite:///{tmp_path / 'mentorflow.db'}")
    initialise(store)
    store.dispose()
    (tmp_path / "mentorflow.toml").write_text('[channels]\ndefault = ["log"]\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORFLOW_"))}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect-home"), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "serve"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "prefect server start" in done.stderr and "PREFECT_API_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_without_a_channel_refuses_before_it_registers_anything(tmp_path: Path) -> None:
    store = open_engine(f"sqlite:///{tmp_path / 'mentorflow.db'}")
    initialise(store)
    store.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MENTORFLOW_"))}
    env |= {"PREFECT_API_URL": "http://127.0.0.1:9/api", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "serve", "--work-pool", "p"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "no notification channel is configured" in done.stderr and "Traceback" not in done.stderr


def test_a_work_pool_gets_the_scheduled_deployments_that_its_workers_can_load(tmp_path: Path) -> None:
    from prefect import get_client

    from workflows.flows.resources import Target
    from workflows.flows.serving import deployments, register

    target = Target(f"sqlite:///{tmp_path / 'm.db'}", str(shipped_policies()["default"]), "")
    found = deployments(
        target, {"cadence": "0 7 * * *", "delivery": None}, "Europe/Amsterdam", from_source=True
    )
    register(found, "mentorflow-test-pool")
    register(found, "mentorflow-test-pool")  # again: the pool exists, the deployment is updated

    with get_client(sync_client=True) as client:
        pool = client.read_work_pool("mentorflow-test-pool")
        deployment = client.read_deployment_by_name("cadence/mentorflow-cadence")
    assert pool.type == "process"
    assert deployment.work_pool_name == "mentorflow-test-pool"
    assert deployment.entrypoint == "workflows/flows/cadence.py:cadence"
    assert deployment.parameters == {"database": target.database, "policy": target.policy}
    assert [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules] == [
        ("0 7 * * *", "Europe/Amsterdam")
    ]
    assert deployment.pull_steps and str(ROOT) in str(deployment.pull_steps)


def test_serve_after_serve_work_pool_replaces_its_deployment_and_the_next_run_completes(
    tmp_path: Path,
) -> None:
    import asyncio

    from prefect import get_client
    from prefect.runner import Runner

    from workflows.flows.resources import Target
    from workflows.flows.serving import deployments, register, replace

    url = f"sqlite:///{tmp_path / 'm.db'}"
    store = open_engine(url)
    initialise(store)
    store.dispose()
    settings = tmp_path / "mentorflow.toml"
    settings.write_text('[channels]\ndefault = ["log"]\n', encoding="utf-8")
    target = Target(url, str(shipped_policies()["default"]), "", str(settings))
    crons = {"cadence": "0 7 * * *", "delivery": None, "matching": None}
    register(deployments(target, crons, "Europe/Amsterdam", from_source=True), "mentorflow-switch-pool")

    served = deployments(target, crons, "Europe/Amsterdam")
    replace(served)  # what `mentorflow serve` does before it serves them
    runner = Runner(name="mentorflow-test-runner")
    runner.add_deployment(served[0])
    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("cadence/mentorflow-cadence")
        assert deployment.work_pool_name is None and not deployment.pull_steps
        assert deployment.parameters["settings"] == str(settings)
        run = client.create_flow_run_from_deployment(deployment.id)
        asyncio.run(runner.start(run_once=True))
        deadline = time.monotonic() + 90
        while not (state := client.read_flow_run(run.id).state) or not state.is_final():
            assert time.monotonic() < deadline, state
            time.sleep(0.5)
    assert state.is_completed(), state
