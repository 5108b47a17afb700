"""The reading commands start fast: they import neither SQLAlchemy nor pydantic nor Prefect.

`status` and `relationships list` read the store through the DB-API driver and the policy through
its cached outline (the first run loads the policy in full and caches it); `--help` imports no
command's module. The writing commands `advance` and `record meeting` read the validated policy
from the same cache and import nothing of matching, reporting, delivery or participant imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PROBE = (
    "import sys\n"
    "from workflows.cli import main\n"
    "try:\n    main(sys.argv[1:])\n"
    "except SystemExit:\n    pass\n"
    "heavy = sorted(m for m in ('prefect', 'sqlalchemy', 'pydantic') if m in sys.modules)\n"
    "commands = sorted(m for m in sys.modules if m.startswith('workflows.cli.') and m not in "
    "('workflows.cli.app', 'workflows.cli.common', 'workflows.cli.output'))\n"
    "print('HEAVY', heavy, 'COMMANDS', commands, file=sys.stderr)\n"
    "unneeded = sorted(m for m in sys.modules if m.startswith(tuple(u + '.' for u in UNNEEDED)) "
    "or m in UNNEEDED)\n"
    "print('UNNEEDED', unneeded, file=sys.stderr)\n"
)
# what a phase change or a recorded meeting never needs: matching (and its maths), reporting and delivery
# (their templates, calendar files), the participant model and its email address checks (imports), YAML
# (the policy comes from the cache), and on SQLite the PostgreSQL dialect (the partial indexes name it)
UNNEEDED = (
    "numpy", "scipy", "jinja2", "icalendar", "email_validator", "yaml", "prefect",
    "engine.matching", "engine.reporting", "engine.delivery", "engine.domain.participants",
    "sqlalchemy.dialects.postgresql",
)  # fmt: skip


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    here = tmp_path_factory.mktemp("light")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(here / "cache")}
    env.pop("MENTORFLOW_DATABASE_URL", None)
    env.pop("MENTORFLOW_POLICY", None)
    for args in (["init"], ["participants", "import", str(ROOT / "examples" / "participants.csv")]):
        subprocess.run([sys.executable, "-m", "workflows.cli", *args], cwd=here, env=env, check=True)
    return here, env


def _probe(program: tuple[Path, dict[str, str]], args: list[str]) -> str:
    here, env = program
    probe = f"UNNEEDED = {UNNEEDED!r}\n{PROBE}"
    done = subprocess.run(
        [sys.executable, "-c", probe, *args], cwd=here, env=env, capture_output=True, text=True, timeout=60
    )
    return done.stderr


@pytest.mark.parametrize(
    ("args", "modules"),
    [
        (["--help"], []),
        (["history", "1"], ["workflows.cli.program"]),
        (["status"], ["workflows.cli.program"]),
        (["status", "--format", "json"], ["workflows.cli.program"]),
        (["relationships", "list"], ["workflows.cli.people", "workflows.cli.program"]),
        (["relationships", "list", "--phase", "intake"], ["workflows.cli.people", "workflows.cli.program"]),
    ],
)
def test_a_reading_command_stays_light(
    program: tuple[Path, dict[str, str]], args: list[str], modules: list[str]
) -> None:
    _probe(program, args)  # the first run may load the policy in full, to cache its outline
    assert f"HEAVY [] COMMANDS {modules}" in _probe(program, args), args


def test_a_writing_command_imports_only_its_own_module(program: tuple[Path, dict[str, str]]) -> None:
    assert "COMMANDS ['workflows.cli.program']" in _probe(program, ["advance", "1", "match"])


@pytest.mark.parametrize(
    ("args", "module", "relationships"),
    [
        (["advance", "{rel}", "close", "--reason", "moved away"], "workflows.cli.program", ("5", "6")),
        (["record", "meeting", "{rel}", "--kind", "check-in"], "workflows.cli.record", ("7", "8")),
    ],
    ids=["advance", "record-meeting"],
)
def test_a_writing_command_imports_only_what_it_writes_with(
    program: tuple[Path, dict[str, str]], args: list[str], module: str, relationships: tuple[str, ...]
) -> None:
    here, env = program
    found = ""
    for rel in relationships:  # the first run may load the policy in full, to cache it
        if args[0] == "record":  # a meeting is held by a matched pair
            match = ["advance", rel, "match", "--mentor", "E1001"]
            subprocess.run([sys.executable, "-m", "workflows.cli", *match], cwd=here, env=env, check=True)
        found = _probe(program, [arg.format(rel=rel) for arg in args])
        assert "Traceback" not in found and "error" not in found, found
    assert "UNNEEDED []" in found and f"COMMANDS ['{module}']" in found, found
