"""The corpus of policy files that must be refused at the YAML level.

``tests/corpus/policies/expected.toml`` lists, under ``[yaml]``, each bad file and a
fragment its error must contain. Other tables in that file belong to other checks.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from engine.errors import PolicyError
from engine.policy.yamlsafe import load_yaml_file

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "policies"
EXPECTED: dict[str, str] = tomllib.loads((CORPUS / "expected.toml").read_text("utf-8"))["yaml"]


def test_the_yaml_corpus_covers_every_rule() -> None:
    assert len(EXPECTED) >= 8
    missing = [name for name in EXPECTED if not (CORPUS / name).is_file()]
    assert not missing, f"listed in expected.toml but not in {CORPUS}: {missing}"


@pytest.mark.parametrize(("name", "fragment"), sorted(EXPECTED.items()))
def test_a_bad_policy_file_is_refused_with_file_line_and_reason(name: str, fragment: str) -> None:
    path = CORPUS / name
    with pytest.raises(PolicyError) as caught:
        load_yaml_file(path)
    error = caught.value
    assert str(path) in error.message
    assert error.problems, "the error must list its problems"
    line_prefix = re.compile(re.escape(str(path)) + r":[1-9]\d*: ")
    assert all(line_prefix.match(problem) for problem in error.problems), error.problems
    assert any(fragment in problem for problem in error.problems), (fragment, str(error))
