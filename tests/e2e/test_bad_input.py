"""The corpus of bad input: each gets a clear error, exit 2, no traceback, and an unchanged database."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.e2e.conftest import Run, snapshot

CORPUS = Path(__file__).parents[1] / "corpus"


def _listed(folder: str, *tables: str) -> list[str]:
    expected = tomllib.loads((CORPUS / folder / "expected.toml").read_text(encoding="utf-8"))
    return sorted(name for table in tables for name in expected.get(table, {}))


def _fragment(folder: str, name: str) -> str:
    expected = tomllib.loads((CORPUS / folder / "expected.toml").read_text(encoding="utf-8"))
    return next(table[name] for table in expected.values() if name in table)


COMMANDS = tomllib.loads((CORPUS / "commands.toml").read_text(encoding="utf-8"))["case"]


def _assert_refused(result_code: int, out: str, err: str, fragment: str) -> None:
    assert result_code == 2, (out, err)
    assert fragment in err or fragment in out, err
    assert "Traceback" not in err + out


@pytest.mark.parametrize("case", COMMANDS, ids=[" ".join(c["args"]) for c in COMMANDS])
def test_bad_command(case: dict[str, object], run: Run, program: Path, tmp_path: Path) -> None:
    before = snapshot(program)
    args = [str(a).replace("{tmp}", str(tmp_path)) for a in case["args"]]  # type: ignore[attr-defined]
    result = run(*args)
    _assert_refused(result.code, result.out, result.err, str(case["expect"]))
    assert snapshot(program) == before
    assert not (tmp_path / "typo.db").exists()


@pytest.mark.parametrize("name", _listed("participants", "parse"))
def test_bad_participants_csv(name: str, run: Run, program: Path) -> None:
    before = snapshot(program)
    result = run("participants", "import", str(CORPUS / "participants" / name))
    _assert_refused(result.code, result.out, result.err, _fragment("participants", name))
    assert name in result.err
    assert snapshot(program) == before


@pytest.mark.parametrize("name", _listed("policies", "yaml", "validate"))
def test_bad_policy(name: str, run: Run, program: Path) -> None:
    path = str(CORPUS / "policies" / name)
    checked = run("policy", "validate", path)
    _assert_refused(checked.code, checked.out, checked.err, _fragment("policies", name))
    before = snapshot(program)
    used = run("advance", "2", "match", "--mentor", "E1006", "--policy", path)
    _assert_refused(used.code, used.out, used.err, _fragment("policies", name))
    assert snapshot(program) == before


def test_corpus_is_large_enough() -> None:
    total = (
        len(COMMANDS) + len(_listed("participants", "parse")) + len(_listed("policies", "yaml", "validate"))
    )
    assert total >= 25
