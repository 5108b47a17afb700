"""The policy's ``links.confirm_training``: whether a mentor's reported training waits for a coordinator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import PolicyError
from engine.policy.durations import Duration
from engine.policy.model import load_policy, load_policy_text, resolve_policy_path
from tests.design_policy import DESIGN_BLOCK, DESIGN_DIGEST

BASE_DIGEST = DESIGN_DIGEST
"""The version of the policy the blocks below are added to (DESIGN_BLOCK), as it was before `links:`."""


def _with(block: str) -> str:
    return DESIGN_BLOCK.rstrip("\n") + "\n" + block


def test_without_the_block_a_training_is_recorded_at_once_and_the_digest_stays() -> None:
    design = load_policy_text(DESIGN_BLOCK, "p.yaml")
    shipped = load_policy(resolve_policy_path("default"))  # it has no `links:` either
    for without in (design, shipped):
        assert without.confirm_training is False and without.links is None
        assert without.link_lifetime.approx() == timedelta(days=30)
    assert design.digest == BASE_DIGEST


def test_a_block_without_the_key_keeps_the_digest_it_had_before_the_key_existed() -> None:
    before = load_policy_text(_with("links:\n  expire_after: 2w\n"), "p.yaml")
    spelled = load_policy_text(_with("links:\n  expire_after: 2w\n  confirm_training: false\n"), "p.yaml")
    assert before.confirm_training is False
    assert before.normalised()["links"] == {"expire_after": "2 weeks"} == spelled.normalised()["links"]
    assert spelled.digest == before.digest
    empty = load_policy_text(_with("links: {}\n"), "p.yaml")
    assert empty.link_lifetime == Duration(seconds=30 * 86400) and not empty.confirm_training


def test_confirm_training_is_part_of_the_version() -> None:
    policy = load_policy_text(_with("links:\n  confirm_training: true\n"), "p.yaml")
    assert policy.confirm_training is True
    assert policy.link_lifetime == Duration(seconds=30 * 86400)  # the default lifetime still
    assert policy.normalised()["links"] == {"expire_after": "30 days", "confirm_training": True}
    assert policy.digest not in (BASE_DIGEST, load_policy_text(_with("links: {}\n"), "p.yaml").digest)
    both = load_policy_text(_with("links: {expire_after: 10 days, confirm_training: true}\n"), "p.yaml")
    assert both.link_lifetime.approx() == timedelta(days=10) and both.confirm_training


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (
            "yes",
            'links.confirm_training: "yes" is read as text, not as a yes/no switch (expected true or false)',
        ),
        ("1", "links.confirm_training: 1 is a number (expected true or false)"),
        ('"true"', "links.confirm_training:"),
    ],
)
def test_a_wrong_value_names_its_file_line_and_what_to_write(value: str, said: str) -> None:
    text = _with(f"links:\n  expire_after: 2 weeks\n  confirm_training: {value}\n")
    line = text.count("\n", 0, text.index("confirm_training")) + 1
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.yaml")
    assert f"p.yaml:{line}: {said}" in str(caught.value)


def test_a_misspelt_key_is_named_with_the_right_one() -> None:
    text = _with("links:\n  confirm_trainings: true\n")
    line = text.count("\n", 0, text.index("confirm_trainings")) + 1
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.yaml")
    assert f"p.yaml:{line}: " in str(caught.value)
    assert 'did you mean "confirm_training"?' in str(caught.value)


@pytest.mark.parametrize("lifetime", ["12 hours", "400 days"])
def test_the_lifetime_stays_between_a_day_and_a_year_beside_the_switch(lifetime: str) -> None:
    text = _with(f"links:\n  confirm_training: true\n  expire_after: {lifetime}\n")
    line = text.count("\n", 0, text.index("expire_after")) + 1
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.yaml")
    assert f"p.yaml:{line}: links.expire_after: {lifetime} is not a link lifetime" in str(caught.value)
