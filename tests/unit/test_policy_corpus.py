"""The corpus of policy files that are valid YAML but break the policy's own rules.

``tests/corpus/policies/expected.toml`` lists them under ``[validate]``, each with a
fragment its error must contain. Every file has exactly one problem, and marks the
line the error must name with a ``# <- the problem`` comment.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from engine.errors import PolicyError
from engine.policy.model import load_policy

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "policies"
TABLES: dict[str, dict[str, str]] = tomllib.loads((CORPUS / "expected.toml").read_text("utf-8"))
EXPECTED = TABLES["validate"]
MARKER = "# <- the problem"
NOT_FOR_OPERATORS = (
    "Traceback",
    "pydantic",
    "Input should",
    "Value error",
    "Field required",
    "validation error",
    "For further information",
    "type=",
    "function-plain",
    "list[str]",
    "[key]",
    "ValueError",
    "KeyError",
)


def test_the_corpus_covers_the_rules() -> None:
    assert len(EXPECTED) >= 12
    missing = [name for name in EXPECTED if not (CORPUS / name).is_file()]
    assert not missing, f"listed in expected.toml but not in {CORPUS}: {missing}"
    assert not set(EXPECTED) & set(TABLES["yaml"]), "a file belongs to one table"


def test_every_corpus_file_is_listed() -> None:
    listed = {name for table in TABLES.values() for name in table}
    unlisted = sorted(path.name for path in CORPUS.glob("*.yaml") if path.name not in listed)
    assert not unlisted, f"add these to expected.toml: {unlisted}"


def _marked_line(path: Path) -> int:
    lines = [number for number, text in enumerate(path.read_text("utf-8").splitlines(), 1) if MARKER in text]
    assert len(lines) == 1, f"{path.name} must mark exactly one line with {MARKER!r}"
    return lines[0]


@pytest.mark.parametrize(("name", "fragment"), sorted(EXPECTED.items()))
def test_a_broken_policy_is_refused_with_file_line_field_and_reason(name: str, fragment: str) -> None:
    path = CORPUS / name
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    error = caught.value
    text = str(error)
    assert str(path) in error.message
    assert len(error.problems) == 1, f"{name} has one problem, reported: {error.problems}"
    (problem,) = error.problems
    assert re.match(re.escape(str(path)) + r":[1-9]\d*: \S", problem), problem
    assert problem.startswith(f"{path}:{_marked_line(path)}: "), problem
    assert fragment in problem, (fragment, problem)
    assert not [word for word in NOT_FOR_OPERATORS if word in text], text


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_broken_policy_is_valid_yaml(name: str) -> None:
    """The corpus tests the policy's rules, so each file must get past the YAML reader."""
    from engine.policy.yamlsafe import load_yaml_file

    assert isinstance(load_yaml_file(CORPUS / name).data, dict)
