"""``participants erase PERSON --reason TEXT [--close]``: refused with exit 2 while a pair is open (nothing
written), done with --close, refused the second time; ``audit verify`` passes afterwards."""

from __future__ import annotations

from pathlib import Path

from .conftest import Run


def test_an_erasure_from_the_command_line(run: Run, program: Path) -> None:
    refused = run("participants", "erase", "E1002", "--reason", "request 17")
    assert refused.code == 2 and "open relationship(s)" in refused.err and "--close" in refused.err
    assert "Traceback" not in refused.err
    assert "Fatima El Amrani" in run("participants", "export-data", "E1002").out
    done = run("participants", "erase", "E1002", "--reason", "request 17", "--close")
    assert done.code == 0, done.err
    assert "relationship 1: closed" in done.out and "erased;" in done.out
    assert "Fatima El Amrani" not in run("participants", "export-data", "erased-2@erased.invalid").out
    again = run("participants", "erase", "erased-2@erased.invalid", "--reason", "again")
    assert again.code == 2 and "erased already" in again.err
    verified = run("audit", "verify")
    assert verified.code == 0, verified.out + verified.err
