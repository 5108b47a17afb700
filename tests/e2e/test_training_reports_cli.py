"""`record training MENTOR` closes the training report the mentor made through their link."""

from __future__ import annotations

from pathlib import Path

from engine.clock import SystemClock
from engine.policy.model import load_policy_text, resolve_policy_path
from engine.services.training import REPORTED, report_training
from engine.store.database import open_engine
from engine.store.tables import training_reports
from tests.e2e.conftest import Run, snapshot


def _report(db: Path, mentor: str) -> int:
    text = Path(resolve_policy_path("default")).read_text(encoding="utf-8")
    policy = load_policy_text(text + "\nlinks:\n  confirm_training: true\n", "confirming.yaml")
    store = open_engine(f"sqlite:///{db}", create=False)
    try:
        done = report_training(store, policy, SystemClock(), mentor, f"participant:{mentor} via link")
    finally:
        store.dispose()
    assert done.outcome == REPORTED and done.report_id is not None
    return done.report_id


def test_the_command_confirms_the_open_report_so_nothing_stays_pending(run: Run, program: Path) -> None:
    report_id = _report(program, "E1003")
    done = run("record", "training", "E1003", "--actor", "trainer")
    assert done.code == 0, done.err
    assert (
        f"training recorded (0 relationship(s) to reconsider; training report {report_id} confirmed)"
        in done.out
    )
    (row,) = snapshot(program)["training_reports"]
    columns = [c.name for c in training_reports.columns]
    closed = dict(zip(columns, row, strict=True))
    assert (closed["decision"], closed["decided_by"], closed["reason"]) == ("confirmed", "trainer", None)
    again = run("record", "training", "E1003")
    assert again.code == 0 and "training report" not in again.out


def test_a_refused_revoke_leaves_the_open_report_as_it_is(run: Run, program: Path) -> None:
    _report(program, "E1003")
    before = snapshot(program)
    refused = run("record", "training", "E1003", "--revoke")
    assert refused.code == 2 and "not trained" in refused.err
    assert snapshot(program) == before
    (row,) = before["training_reports"]
    assert row[[c.name for c in training_reports.columns].index("decided_at")] is None
