"""`on_leave:` / `on_left:` in a policy: validated at load with file:line; shipped digests kept."""

from __future__ import annotations

import pytest

from engine.errors import PolicyError
from engine.policy.leavers import leave_rule, left_rule
from engine.policy.model import load_policy, load_policy_text, shipped_policies
from tests.design_policy import DESIGN_BLOCK, DESIGN_DIGEST


def _with(extra: str) -> str:
    text = shipped_policies()["with-pause"].read_text("utf-8")
    return text + extra


def test_a_policy_without_the_keys_keeps_its_digest_and_the_defaults() -> None:
    # the design's policy: its digest is the one it had before the keys existed
    policy = load_policy_text(DESIGN_BLOCK, "policies/default.yaml")
    assert policy.on_leave is None and policy.on_left is None
    assert policy.digest == DESIGN_DIGEST
    shipped = load_policy(shipped_policies()["default"])  # nor does the shipped default set them
    for without in (policy, shipped):
        assert (leave_rule(without).fire, leave_rule(without).otherwise, left_rule(without).fire) == (
            "pause", "notify_coordinator", "close",
        )  # fmt: skip


def test_the_keys_are_read() -> None:
    policy = load_policy_text(
        _with("on_leave: {fire: pause, otherwise: escalate}\non_left: {fire: close}\n"), "p.yaml"
    )
    assert leave_rule(policy).otherwise == "escalate" and left_rule(policy).fire == "close"


def test_an_unknown_trigger_is_refused_with_its_line() -> None:
    text = _with("on_leave: {fire: pauze}\n")
    line = text.splitlines().index("on_leave: {fire: pauze}") + 1
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.yaml")
    assert f"p.yaml:{line}: on_leave.fire: 'pauze' is not a trigger of this policy" in str(caught.value)


def test_an_action_not_for_the_coordinator_is_refused() -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(_with("on_left: {otherwise: notify_pair}\n"), "p.yaml")
    assert "on_left.otherwise" in str(caught.value) and "not an action for the coordinator" in str(
        caught.value
    )
