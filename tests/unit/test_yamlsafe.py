"""Safe YAML loading for policy files: plain data, line numbers, and every refusal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.errors import PolicyError
from engine.policy.yamlsafe import LoadedYaml, load_yaml, load_yaml_file
from tests.design_policy import DESIGN_BLOCK

POLICY = """\
policy: default
version: 1
program:
  duration: 6 months
  timezone: Europe/Amsterdam
phases:
  intake:
    initial: true
    deadline: {after: 21 days, action: escalate}
  review:
    on_enter: [{send_survey: final}]
transitions:
  - {trigger: match, from: intake, to: matched}
  - trigger: close
    from: "*"
    to: closed
"""


def problems_of(text: str, source: str = "team.yaml") -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load_yaml(text, source)
    assert caught.value.problems, "a PolicyError must list its problems"
    return caught.value.problems


def only_problem(text: str, source: str = "team.yaml") -> str:
    problems = problems_of(text, source)
    assert len(problems) == 1, problems
    return problems[0]


# --- plain data and line numbers ---------------------------------------------------------


def test_a_policy_loads_as_plain_data_in_file_order() -> None:
    loaded = load_yaml(POLICY, "team.yaml")
    assert loaded.source == "team.yaml"
    assert list(loaded.data) == ["policy", "version", "program", "phases", "transitions"]
    assert loaded.data["program"] == {"duration": "6 months", "timezone": "Europe/Amsterdam"}
    assert loaded.data["phases"]["intake"]["deadline"] == {"after": "21 days", "action": "escalate"}
    assert loaded.data["phases"]["review"]["on_enter"] == [{"send_survey": "final"}]
    assert loaded.data["transitions"][1] == {"trigger": "close", "from": "*", "to": "closed"}
    assert type(loaded.data) is dict


def test_the_policy_from_the_design_brief_loads_as_is() -> None:
    loaded = load_yaml(DESIGN_BLOCK, "default.yaml")
    data = loaded.data
    assert data["program"]["duration"] == "6 months"
    assert data["phases"]["intake"]["initial"] is True
    assert data["phases"]["closed"]["on_enter"] == [{"send_survey": "closing"}]
    assert data["phases"]["active"]["cadence"]["check_in"] == "every 2 weeks"
    assert data["transitions"][-1] == {
        "trigger": "close",
        "from": "*",
        "to": "closed",
        "requires": ["reason"],
    }
    assert (
        loaded.line_for(("transitions", 6, "from"))
        == DESIGN_BLOCK.splitlines().index('  - {trigger: close, from: "*", to: closed, requires: [reason]}')
        + 1
    )


def test_lines_point_at_keys_and_list_items() -> None:
    lines = load_yaml(POLICY, "team.yaml").lines
    assert lines[()] == 1
    assert lines[("policy",)] == 1
    assert lines[("program", "timezone")] == 5
    assert lines[("phases", "intake", "deadline")] == 9
    assert lines[("phases", "intake", "deadline", "action")] == 9
    assert lines[("phases", "review", "on_enter", 0)] == 11
    assert lines[("phases", "review", "on_enter", 0, "send_survey")] == 11
    assert lines[("transitions", 0)] == 13
    assert lines[("transitions", 1)] == 14
    assert lines[("transitions", 1, "from")] == 15
    assert lines[("transitions", 1, "to")] == 16


def test_line_for_falls_back_to_the_nearest_known_ancestor() -> None:
    loaded = load_yaml(POLICY, "team.yaml")
    assert loaded.line_for(["transitions", 1, "to"]) == 16
    assert loaded.line_for(("transitions", 1, "requires")) == 14
    assert loaded.line_for(("phases", "active", "cadence")) == 6
    assert loaded.line_for(("nowhere", "at", "all")) == 1
    assert loaded.line_for(()) == 1


def test_loaded_yaml_is_frozen() -> None:
    loaded = load_yaml("policy: x\n", "team.yaml")
    assert isinstance(loaded, LoadedYaml)
    with pytest.raises(AttributeError):
        loaded.source = "other.yaml"  # type: ignore[misc]


@pytest.mark.parametrize("word", ["on", "off", "yes", "no", "y", "n", "On", "OFF", "Yes", "NO", "Y"])
def test_yaml_11_booleans_stay_strings(word: str) -> None:
    assert load_yaml(f"value: {word}\n", "t.yaml").data == {"value": word}


@pytest.mark.parametrize(
    ("text", "expected"), [("true", True), ("false", False), ("True", True), ("FALSE", False)]
)
def test_only_true_and_false_are_booleans(text: str, expected: bool) -> None:
    assert load_yaml(f"value: {text}\n", "t.yaml").data["value"] is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("-3", -3),
        ("+7", 7),
        ("0x1F", 31),
        ("0o17", 15),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("~", None),
        ("null", None),
        ("Null", None),
        ("", None),
        ("6 months", "6 months"),
        ("'1'", "1"),
        ('"true"', "true"),
        ("'on'", "on"),
        ("10:30", "10:30"),
        ("2024-01-01", "2024-01-01"),
        ("1_000", "1_000"),
    ],
)
def test_scalars_resolve_like_yaml_12(text: str, expected: object) -> None:
    value = load_yaml(f"value: {text}\n", "t.yaml").data["value"]
    assert value == expected
    assert type(value) is type(expected)


def test_special_floats() -> None:
    data = load_yaml("a: .inf\nb: -.inf\nc: .nan\n", "t.yaml").data
    assert data["a"] == float("inf")
    assert data["b"] == float("-inf")
    assert data["c"] != data["c"]


def test_keys_are_strings_as_written() -> None:
    data = load_yaml("1: one\non: true\n~: tilde\n", "t.yaml").data
    assert data == {"1": "one", "on": True, "~": "tilde"}


def test_a_quoted_merge_key_is_an_ordinary_key() -> None:
    assert load_yaml("'<<': x\n", "t.yaml").data == {"<<": "x"}


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes("\ufeffpolicy: zoë\n".encode())
    assert load_yaml_file(path).data == {"policy": "zoë"}


# --- refusals -----------------------------------------------------------------------------


def test_duplicate_keys_name_both_lines() -> None:
    problem = only_problem("policy: a\nversion: 1\npolicy: b\n")
    assert problem.startswith("team.yaml:3: policy: duplicate key")
    assert "first on line 1" in problem


def test_nested_duplicate_keys_name_the_path() -> None:
    text = "phases:\n  intake:\n    initial: true\n  intake:\n    initial: false\n"
    problem = only_problem(text)
    assert problem.startswith("team.yaml:4: phases.intake: duplicate key (first on line 2")


def test_duplicate_keys_in_flow_mappings_and_lists() -> None:
    problem = only_problem("t:\n  - x: 1\n  - {trigger: a, trigger: b}\n")
    assert problem.startswith("team.yaml:3: t[1].trigger: duplicate key (first on line 3")


def test_every_problem_is_listed() -> None:
    text = "a: 1\na: 2\nb: !!str x\nc: &anchor 3\nd: *anchor\n"
    problems = problems_of(text)
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4"]  # in line order
    with pytest.raises(PolicyError) as caught:
        load_yaml(text, "team.yaml")
    assert "3 problems" in caught.value.message
    assert str(caught.value).splitlines()[1:] == problems


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object/apply:os.system ['echo hi']\n", "!!python/object/apply:os.system"),
        ("a: !!python/object:builtins.dict {}\n", "!!python/object:builtins.dict"),
        ("a: !foo bar\n", "!foo"),
        ("a: !!str 1\n", "!!str"),
        ("a: !!binary aGk=\n", "!!binary"),
        ("a: ! x\n", "!"),
        ("a: !!map {b: 1}\n", "!!map"),
        ("a: !!seq [1]\n", "!!seq"),
        ("a: !<tag:example.com,2024:x> 1\n", "tag:example.com,2024:x"),
    ],
)
def test_every_explicit_tag_is_refused(text: str, tag: str) -> None:
    problem = only_problem(text)
    assert problem.startswith(f"team.yaml:1: tag {tag} refused")


def test_a_tagged_top_level_is_refused() -> None:
    problems = problems_of("!!python/object/new:os.system [echo hi]\n")
    assert "team.yaml:1: tag !!python/object/new:os.system refused" in problems[1]


def test_anchors_and_aliases_are_refused() -> None:
    problems = problems_of("base: &b {x: 1}\nother: *b\nthird: *undefined\n")
    assert problems[0].startswith("team.yaml:1: anchor &b refused")
    assert problems[1].startswith("team.yaml:3: alias *undefined refused")
    assert len(problems) == 2  # *b is reported with its anchor


def test_billion_laughs_is_refused_quickly_without_expansion() -> None:
    lines = ['a0: &a0 "lol"'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 30)]
    problems = problems_of("\n".join(lines) + "\n")
    assert len(problems) == 30
    assert all("anchors and aliases are not allowed" in p for p in problems)


def test_merge_keys_are_refused() -> None:
    problem = only_problem("active:\n  <<: {cadence: weekly}\n  x: 1\n")
    assert problem.startswith("team.yaml:2: active: merge key `<<` refused")


def test_non_scalar_keys_are_refused() -> None:
    problems = problems_of("? [a, b]\n: 1\n? {c: d}\n: 2\n")
    assert problems[0].startswith("team.yaml:1: a key is a list")
    assert problems[1].startswith("team.yaml:3: a key is a mapping")


def test_a_second_document_is_refused() -> None:
    problem = only_problem("policy: a\n---\npolicy: b\n")
    assert problem == "team.yaml:2: a second document starts here (expected one document per file)"


def test_an_explicit_single_document_is_fine() -> None:
    assert load_yaml("---\npolicy: a\n...\n", "t.yaml").data == {"policy": "a"}


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n", "null\n"])
def test_an_empty_file_is_refused(text: str) -> None:
    assert only_problem(text) == (
        "team.yaml:1: the file is empty (expected a mapping with `policy:` and `phases:`)"
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "a list"), ("hello\n", "text"), ("\n\n42\n", "a number"), ("true\n", "true/false")],
)
def test_a_top_level_that_is_not_a_mapping_is_refused(text: str, kind: str) -> None:
    line = text.count("\n", 0, len(text) - len(text.lstrip("\n"))) + 1
    assert only_problem(text) == (
        f"team.yaml:{line}: the top level is {kind} (expected a mapping with `policy:` and `phases:`)"
    )


def test_tab_indentation_is_a_syntax_error_with_line_and_column() -> None:
    problem = only_problem("phases:\n\tintake: {}\n")
    assert problem.startswith("team.yaml:2: syntax error at column 1: found character '\\t'")
    assert problem.endswith("(indent with spaces, not tabs)")


def test_a_syntax_error_gives_pyyaml_problem_text_and_no_traceback() -> None:
    problem = only_problem("a: [1, 2\nb: 3\n")
    assert re.fullmatch(r"team\.yaml:2: syntax error at column \d+: expected ',' or '\]'.*", problem)
    assert "Traceback" not in problem


def test_a_syntax_error_after_other_problems_keeps_them() -> None:
    problems = problems_of("a: !!str x\nb: 'unterminated\n")
    assert "tag !!str refused" in problems[0]
    assert "syntax error" in problems[1]


def test_control_characters_are_refused_with_their_line() -> None:
    assert only_problem("a: 1\nb: \x07\n") == "team.yaml:2: character #x0007 not allowed (remove it)"


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    problem = only_problem("a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problem == "team.yaml:1: nested more than 64 deep"


def test_a_file_over_one_mib_is_refused() -> None:
    text = "a: '" + "x" * (1024 * 1024) + "'\n"
    assert only_problem(text).startswith("team.yaml:1: the file is larger than 1 MiB")


def test_one_mib_counts_bytes_not_characters() -> None:
    text = "a: '" + "ë" * (600 * 1024) + "'\n"  # 600 Ki characters, 1.2 MiB of UTF-8
    assert "larger than 1 MiB" in only_problem(text)


# --- files --------------------------------------------------------------------------------


def test_load_yaml_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text("policy: a\npolicy: b\n", encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_yaml_file(path)
    assert caught.value.problems[0].startswith(f"{path}:2: policy: duplicate key")
    assert str(path) in caught.value.message


def test_load_yaml_file_reads_utf8(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text("description: Zoë Çelik mentors Jeroen\n", encoding="utf-8")
    loaded = load_yaml_file(path)
    assert loaded.data == {"description": "Zoë Çelik mentors Jeroen"}
    assert loaded.source == str(path)


def test_a_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    with pytest.raises(PolicyError) as caught:
        load_yaml_file(path)
    assert str(path) in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_a_directory_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_yaml_file(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("policy: a\ndescription: Zoë\n".encode("latin-1"))
    with pytest.raises(PolicyError) as caught:
        load_yaml_file(path)
    assert caught.value.problems == [f"{path}:2: byte 0xeb is not UTF-8 (save it as UTF-8)"]


def test_a_large_file_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"a: '" + b"\xff" * (2 * 1024 * 1024) + b"'\n")
    with pytest.raises(PolicyError) as caught:
        load_yaml_file(path)
    assert caught.value.problems == [
        f"{path}:1: the file is larger than 1 MiB (expected a policy file of at most 1 MiB)"
    ]
