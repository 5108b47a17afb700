"""``participants export-data PERSON``: everything held about a person as JSON, on stdout or into a new
file; an existing file is never overwritten, an unknown person is refused, both with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Run


def test_the_export_goes_to_stdout_or_a_new_file_never_over_one(
    run: Run, program: Path, tmp_path: Path
) -> None:
    done = run("participants", "export-data", "E1002")
    assert done.code == 0, done.err
    data = json.loads(done.out)
    assert data["participant"]["name"] == "Fatima El Amrani" and data["relationships"][0]["id"] == 1
    target = tmp_path / "fatima.json"
    written = run("participants", "export-data", "fatima.elamrani@example.com", "--output", str(target))
    assert (
        written.code == 0
        and json.loads(target.read_text(encoding="utf-8"))["participant"]["id"] == data["participant"]["id"]
    )
    again = run("participants", "export-data", "E1002", "--output", str(target))
    assert again.code == 2 and "exists already" in again.err and "Traceback" not in again.err
    unknown = run("participants", "export-data", "nobody")
    assert unknown.code == 2 and "no participant 'nobody'" in unknown.err
