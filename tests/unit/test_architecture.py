"""The house rules: import contracts (``lint-imports``), module and function sizes, SQL only in the store."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGES = ("engine", "workflows")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 50
MAX_TOP_LEVEL_MODULES = 12


def sources(*roots: str) -> list[Path]:
    return sorted(path for root in roots for path in (ROOT / root).rglob("*.py"))


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()",
         "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_import_contracts_hold() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("engine/probe.py", "import prefect", "engine never imports prefect, typer, fastapi or workflows"),
        ("engine/domain/probe.py", "from engine.store import tables", "policy, domain and matching are pure"),
        ("engine/services/probe.py", "import sqlalchemy", "only engine.store imports sqlalchemy"),
        ("workflows/flows/probe.py", "import typer", "only workflows.cli imports typer"),
        ("engine/policy/probe.py", "from engine.services import tick", "engine's layers point inward"),
    ],
)
def test_an_import_against_the_rules_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(f'"""A deliberate breach."""\n\n{line}\n', encoding="utf-8")
    done = lint_imports(tmp_path)
    assert done.returncode != 0, done.stdout[-4000:]
    verdicts = [
        row.rsplit(" ", 1)[1]
        for row in done.stdout.splitlines()
        if row.startswith(contract) and row.endswith((" KEPT", " BROKEN"))
    ]
    assert verdicts == ["BROKEN"], done.stdout[-4000:]


def test_no_module_or_function_is_too_long() -> None:
    too_long: list[str] = []
    for path in sources(*PACKAGES):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{where}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"{where}:{node.lineno}: {node.name} is {length} lines")
    assert not too_long, "\n".join(too_long)


def test_engine_keeps_few_modules_at_its_top_level() -> None:
    modules = sorted(path.name for path in (ROOT / "engine").glob("*.py"))
    assert len(modules) <= MAX_TOP_LEVEL_MODULES, modules


def _type_checking_only(node: ast.AST, tree: ast.Module) -> bool:
    for parent in ast.walk(tree):
        guarded = isinstance(parent, ast.If) and "TYPE_CHECKING" in ast.unparse(parent.test)
        if guarded and any(child is node for stmt in parent.body for child in ast.walk(stmt)):
            return True
    return False


def test_sqlalchemy_is_imported_at_run_time_only_in_the_store() -> None:
    found: list[str] = []
    for path in sources(*PACKAGES):
        if path.is_relative_to(ROOT / "engine" / "store"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "sqlalchemy" for name in names) and not _type_checking_only(
                node, tree
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found
