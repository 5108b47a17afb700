"""The corpus of inputs that break a limit of the store (tests/corpus/limits.toml), on SQLite and PostgreSQL.

Each once passed every check and failed in the database, printing the SQL and other people's data.
Now each must exit 2, name what is wrong and where, print no SQL, and leave the database unchanged.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from engine.services import setup
from engine.store.database import open_engine
from engine.store.tables import metadata
from tests.conftest import _truncate_everything
from tests.e2e.conftest import EXAMPLES, Run

CORPUS = Path(__file__).parents[1] / "corpus" / "limits.toml"
CASES: list[dict[str, Any]] = tomllib.loads(CORPUS.read_text(encoding="utf-8"))["case"]
LEAKS = ("SELECT", "INSERT", "UPDATE ", "[SQL:", "parameters", "Traceback", "sqlalchemy.exc")

Dump = Callable[[], dict[str, list[tuple[object, ...]]]]


def _dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: [tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))]
            for table in metadata.sorted_tables
        }


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def program_db(
    request: pytest.FixtureRequest, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Dump:
    """The example participants, relationship 1 matched to E1002, on each back end; a dump of it."""
    close_each_commands_engine(monkeypatch, request)
    if request.param == "postgres":
        engine: Engine = request.getfixturevalue("postgres_engine")
        _truncate_everything(engine)
        monkeypatch.setenv("MENTORFLOW_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    else:
        assert run("init").code == 0
        engine = open_engine(f"sqlite:///{tmp_path / 'mentorflow.db'}", create=False)
        request.addfinalizer(engine.dispose)
    assert run("participants", "import", str(EXAMPLES)).code == 0
    assert run("advance", "1", "match", "--mentor", "E1002").code == 0
    return lambda: _dump(engine)


def close_each_commands_engine(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """The engines the commands open, disposed at the end (a process would close them by ending)."""
    opened: list[Engine] = []
    real = setup.open_store

    def recorded(*args: Any, **kwargs: Any) -> Engine:
        opened.append(real(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(setup, "open_store", recorded)

    def dispose() -> None:
        for engine in opened:
            engine.dispose()

    request.addfinalizer(dispose)


def _filled(text: str, tmp: Path) -> str:
    text = re.sub(r"\{long:(\d+)\}", lambda m: "x" * int(m.group(1)), text)
    return text.replace("{tmp}", str(tmp)).replace("{csv}", str(tmp / "people.csv"))


def _case_id(case: dict[str, Any]) -> str:
    shown = " ".join(str(a) for a in case["args"])
    return re.sub(r"\{long:(\d+)\}", r"<\1 x>", shown) + (
        f" [{case['expect'][:40]}]" if "csv" in case else ""
    )


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_a_limit_of_the_store_is_named_before_anything_is_written(
    case: dict[str, Any], program_db: Dump, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = program_db()
    if "csv" in case:
        (tmp_path / "people.csv").write_text(_filled(case["csv"], tmp_path), encoding="utf-8", newline="")
    for name, content in case.get("files", {}).items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    for name, value in case.get("env", {}).items():
        monkeypatch.setenv(name, _filled(value, tmp_path))

    result = run(*(_filled(str(a), tmp_path) for a in case["args"]))

    assert result.code == 2, (result.out, result.err)
    assert case["expect"] in result.err, result.err
    assert not [leak for leak in LEAKS if leak in result.err + result.out], result.err
    assert "unexpected error" not in result.err
    assert program_db() == before


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40
