"""The policy's program goals: a text or an id with titles, ids distinct, errors at their line."""

from __future__ import annotations

import pytest

from engine.errors import PolicyError
from engine.policy.model import load_policy_text
from engine.policy.program import goal_id, title_in

HEAD = "policy: p\nprogram:\n  duration: 6 months\n  goals:\n"
TAIL = (
    "phases: {intake: {initial: true}, closed: {terminal: true}}\n"
    "transitions: [{trigger: close, from: intake, to: closed, requires: [reason]}]\n"
)


def _policy(goals: str) -> str:
    return HEAD + goals + TAIL


def test_a_text_is_a_title_whose_id_is_made_from_it_and_a_mapping_gives_its_own() -> None:
    policy = load_policy_text(
        _policy("    - Leadership & vision\n    - {id: career, title: Career, title_nl: Loopbaan}\n"),
        "p.yaml",
    )
    goals = policy.program.goal_list
    assert [(g.id, g.title) for g in goals] == [
        ("leadership_vision", "Leadership & vision"),
        ("career", "Career"),
    ]
    assert [title_in(g, "nl") for g in goals] == ["Leadership & vision", "Loopbaan"]
    assert policy.normalised()["program"]["goals"][0] == "Leadership & vision"  # a text stays a text


@pytest.mark.parametrize(
    ("title", "expected"),
    [("Career", "career"), ("2 languages", "goal_2_languages"), ("Één team", "een_team")],
)
def test_the_id_of_a_text(title: str, expected: str) -> None:
    assert goal_id(title) == expected


@pytest.mark.parametrize(
    ("goals", "line", "fragment"),
    [
        (
            "    - Career\n    - {id: career, title: Careers}\n",
            4,
            "more than one program goal has the id 'career'",
        ),
        ("    - {id: Career, title: x}\n", 5, "program.goals[0].id"),
        ("    - {id: career}\n", 5, "program.goals[0].title"),
        ("    - {id: career, title: x, colour: red}\n", 5, "colour"),
    ],
)
def test_a_bad_program_goal_is_refused_at_its_line(goals: str, line: int, fragment: str) -> None:
    with pytest.raises(PolicyError) as raised:
        load_policy_text(_policy(goals), "p.yaml")
    text = str(raised.value)
    assert f"p.yaml:{line}:" in text and fragment in text, text
