"""``policy validate``: warnings print one line each and exit 0; a loop of auto transitions exits 2."""

from __future__ import annotations

from pathlib import Path

from engine.policy.model import shipped_policies
from tests.e2e.conftest import Run, snapshot

CORPUS = Path(__file__).parents[1] / "corpus" / "policies"


def _written(tmp_path: Path, old: str, new: str) -> Path:
    text = shipped_policies()["with-pause"].read_text("utf-8")
    assert text.count(old) == 1
    path = tmp_path / "custom.yaml"
    path.write_text(text.replace(old, new), "utf-8")
    return path


def test_warnings_print_file_line_and_exit_0(run: Run, tmp_path: Path) -> None:
    path = _written(tmp_path, "remind_after: 3 weeks", "remind_after: 1 week")
    result = run("policy", "validate", str(path))
    assert result.code == 0
    assert f"ok  {path}" in result.out
    (line,) = result.err.splitlines()
    assert line.startswith(
        f"{path}:25: warning: phases.active.cadence.remind_after: 1 week is shorter than check_in"
    )


def test_shipped_policies_validate_without_warnings(run: Run) -> None:
    result = run("policy", "validate", *map(str, shipped_policies().values()))
    assert result.code == 0 and result.err == ""


def test_other_commands_stay_quiet_about_warnings(run: Run, tmp_path: Path) -> None:
    path = _written(tmp_path, "remind_after: 3 weeks", "remind_after: 1 week")
    result = run("policy", "show", str(path))
    assert result.code == 0 and "warning" not in result.err


def test_a_cycle_of_auto_transitions_and_an_infinite_weight_are_refused(run: Run, tmp_path: Path) -> None:
    assert run("init").code == 0
    before = snapshot(tmp_path / "mentorflow.db")
    for name, fragment in (
        (
            "auto-cycle.yaml",
            ":39: transitions[3]: the auto transitions pause, resume lead round active, paused",
        ),
        ("infinite-weight.yaml", "matching.weights.skills: inf is not a finite number"),
        ("overflowing-weights.yaml", "matching.weights: the weights add up to more than a number can hold"),
    ):
        result = run("policy", "validate", str(CORPUS / name))
        assert result.code == 2, result
        assert fragment in result.err and "Traceback" not in result.err
        used = run("status", "--policy", str(CORPUS / name))
        assert used.code == 2 and fragment in used.err
    assert snapshot(tmp_path / "mentorflow.db") == before
