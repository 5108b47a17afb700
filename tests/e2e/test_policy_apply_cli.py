"""``policy apply`` and ``policy history`` as an operator runs them: refusals, exit codes, what is shown."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.services.policy_apply import PINNED_VARIABLE

from .conftest import Run, paused_program, snapshot


def test_a_new_version_acts_only_once_applied_and_apply_needs_a_mapping(run: Run, tmp_path: Path) -> None:
    newer = paused_program(run, tmp_path)
    db = tmp_path / "mentorflow.db"
    before = snapshot(db)

    unapplied = run("advance", "2", "match", "--mentor", "E1004", "--policy", str(newer))
    stranded = run("policy", "apply", str(newer))
    wrong = run("policy", "apply", str(newer), "--map", "paused=holiday")
    malformed = run("policy", "apply", str(newer), "--map", "paused")
    previews = [
        run("policy", "show", str(newer)),
        run("policy", "validate", str(newer)),
        run("status", "--policy", str(newer)),
    ]

    assert unapplied.code == 2 and f"mentorflow policy plan {newer}" in unapplied.err
    assert f"mentorflow policy apply {newer}" in unapplied.err
    assert stranded.code == 2 and "'paused': relationship(s) 1" in stranded.err
    assert "--map paused=PHASE" in stranded.err
    assert wrong.code == 2 and "--map paused=holiday: 'holiday' is not a phase" in wrong.err
    assert malformed.code == 2 and "OLD=NEW" in malformed.err
    assert [result.code for result in previews] == [0, 0, 0]
    assert snapshot(db) == before


def test_apply_with_a_mapping_moves_the_pair_and_the_history_shows_it(run: Run, tmp_path: Path) -> None:
    newer = paused_program(run, tmp_path)

    applied = run("policy", "apply", str(newer), "--map", "paused=active", "--reason", "pause retired")
    acted = run("advance", "2", "match", "--mentor", "E1004", "--policy", str(newer))
    old = run("advance", "3", "match", "--mentor", "E1004", "--policy", "with-pause")
    listed = run("policy", "history", "with-pause", "--format", "json")
    table = run("policy", "history")
    moved = run("history", "1", "--policy", str(newer))
    verified = run("audit", "verify")

    assert applied.code == 0, applied.err
    assert "relationship 1: paused -> active" in applied.out and "1 moved" in applied.out
    assert acted.code == 0, acted.err
    assert old.code == 2 and "not the version in force" in old.err
    [row] = json.loads(listed.out)
    assert (row["policy_name"], row["applied_by"], row["reason"]) == ("with-pause", "tester", "pause retired")
    assert row["mapping"] == {"paused": "active"} and row["relationships"] == 14
    assert table.code == 0 and "paused=active" in table.out and "pause retired" in table.out
    assert "policy_mapped" in moved.out and "paused -> active" in moved.out
    assert f"with-pause {row['to_digest'][7:19]}" in moved.out
    assert verified.code == 0, verified.err


def test_pinned_acts_with_any_version(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    newer = paused_program(run, tmp_path)

    flagged = run(
        "--policy-version-pinned", "advance", "2", "match", "--mentor", "E1004", "--policy", str(newer)
    )
    left = os.environ.get(PINNED_VARIABLE)
    monkeypatch.setenv(PINNED_VARIABLE, "1")
    by_environment = run("advance", "1", "resume", "--policy", "with-pause")

    assert flagged.code == 0, flagged.err
    assert left is None  # the flag holds for its own command alone
    assert by_environment.code == 0, by_environment.err
