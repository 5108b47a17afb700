"""`mentorflow policy validate` reads regular files only, at once, and lists at most 50 problems a file.

The FIFO cases run the command in a child process with a timeout: reading a FIFO would block forever.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import MAX_PROBLEMS, PolicyError
from engine.policy.model import load_policy, shipped_policies

from .conftest import Run

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are a POSIX thing")


def _validate(*paths: Path | str, cwd: Path) -> subprocess.CompletedProcess[str]:
    code = "import sys; from workflows.cli import main; main(['policy', 'validate', *sys.argv[1:]])"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, paths)], cwd=cwd, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )  # fmt: skip


def test_a_fifo_is_refused_at_once_and_the_other_files_are_still_checked(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)
    done = _validate(fifo, shipped_policies()["default"], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{fifo}: a FIFO (named pipe), not a regular file" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout.startswith("ok  ")  # the shipped policy after it


def test_the_engine_refuses_a_fifo_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)
    code = "import sys\nfrom engine.policy.model import load_policy\ntry:\n    load_policy(sys.argv[1])\n"
    code += "except Exception as e:\n    print(e)"
    done = subprocess.run(
        [sys.executable, "-c", code, str(fifo)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "a FIFO (named pipe), not a regular file" in done.stdout, done.stderr


@pytest.mark.parametrize("kind", ["a directory", "a character device"])
def test_a_directory_or_a_device_is_refused_with_its_path(run: Run, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "policies.yaml" if kind == "a directory" else Path("/dev/null")
    if kind == "a directory":
        target.mkdir()
    done = run("policy", "validate", str(target))
    assert done.code == 2
    assert f"error: cannot read policy file {target}\n  {target}: {kind}, not a regular file" in done.err
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(target)


def test_a_missing_file_still_says_so(run: Run, tmp_path: Path) -> None:
    done = run("policy", "validate", str(tmp_path / "nope.yaml"))
    assert done.code == 2 and "the file does not exist" in done.err


def _duplicates(count: int) -> str:
    body = "".join(f"  p{i}: {{}}\n  p{i}: {{}}\n" for i in range(count))
    return f"policy: many\nphases:\n{body}"


def test_only_the_first_50_problems_are_printed_with_a_count_of_the_rest(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(_duplicates(300), encoding="utf-8")
    done = run("policy", "validate", str(path))
    lines = done.err.splitlines()
    assert done.code == 2
    assert lines[0] == f"error: {path} is not a usable policy file (300 problems)"
    assert len(lines) == 1 + MAX_PROBLEMS + 1
    assert lines[-1] == "  ... and 250 more problems"


def test_schema_problems_are_capped_too(tmp_path: Path) -> None:
    phases = "".join(f"  p{i}:\n    unknown_key_{i}: 1\n" for i in range(120))
    path = tmp_path / "schema.yaml"
    path.write_text(f"policy: many\nphases:\n{phases}", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert len(caught.value.problems) == MAX_PROBLEMS + 1
    assert caught.value.problems[-1].startswith("... and ") and "more problems" in caught.value.problems[-1]
