"""Registering with a process work pool prints none of Prefect's advice to the HR user's terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.policy.model import shipped_policies

pytestmark = pytest.mark.flows


def test_registering_with_a_process_work_pool_prints_no_prefect_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workflows.flows.resources import Target
    from workflows.flows.serving import deployments, register

    target = Target(f"sqlite:///{tmp_path / 'm.db'}", str(shipped_policies()["default"]), "")
    found = deployments(target, {"cadence": "0 7 * * *"}, "Europe/Amsterdam", from_source=True)
    capsys.readouterr()
    register(found, "mentorflow-quiet-pool")
    printed = capsys.readouterr()
    assert "process work pool" not in printed.out + printed.err
    assert "ignore_warnings" not in printed.out + printed.err
