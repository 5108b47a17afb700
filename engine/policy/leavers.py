"""What happens to a participant's open relationships when they go on leave, or leave the organisation.

A policy says it with two optional keys, each with a small fixed vocabulary::

    on_leave: {fire: pause, otherwise: notify_coordinator, resume: resume}
    on_left: {fire: close, otherwise: notify_coordinator}

``fire`` names a trigger of the policy, fired (with the leave's reason) on each
open relationship of the participant where the policy allows it from the pair's
phase; where it does not, the ``otherwise`` action tells the coordinator (or
``nothing`` happens). ``resume`` (``on_leave`` only) is fired on the pairs the leave
moved when the participant returns. Without the keys a policy behaves as
:data:`DEFAULT_ON_LEAVE` and :data:`DEFAULT_ON_LEFT` say, and its digest does not
change; a default trigger the policy does not have is simply never allowed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from engine.policy.fields import NAME_PATTERN, PolicyModel
from engine.policy.problems import Loc
from engine.policy.vocabulary import ACTIONS

if TYPE_CHECKING:
    from engine.policy.model import Policy

NOTHING = "nothing"
COORDINATOR_ACTIONS = tuple(name for name, term in ACTIONS.items() if term.recipients == ("coordinator",))
"""The actions ``otherwise`` may name: those that reach the coordinator alone."""


class LeftRule(PolicyModel):
    """``on_left:``: the trigger that ends a leaver's pairs, and what happens where it is not allowed."""

    fire: str | None = Field(default=None, pattern=NAME_PATTERN)
    otherwise: str = "notify_coordinator"

    @field_validator("otherwise")
    @classmethod
    def _coordinator_action(cls, value: str) -> str:
        allowed = (*COORDINATOR_ACTIONS, NOTHING)
        if value not in allowed:
            raise ValueError(
                f"{value!r} is not an action for the coordinator (allowed: {', '.join(allowed)})"
            )
        return value


class LeaveRule(LeftRule):
    """``on_leave:``: as ``on_left:``, and the trigger that resumes the pairs when the participant returns."""

    resume: str | None = Field(default=None, pattern=NAME_PATTERN)


# built without validation (these values pass it), so importing the policy models builds no validator
DEFAULT_ON_LEAVE = LeaveRule.model_construct(fire="pause", otherwise="notify_coordinator", resume="resume")
DEFAULT_ON_LEFT = LeftRule.model_construct(fire="close", otherwise="notify_coordinator")


def leave_rule(policy: Policy) -> LeaveRule:
    """The policy's ``on_leave:``, or the default."""
    return policy.on_leave or DEFAULT_ON_LEAVE


def left_rule(policy: Policy) -> LeftRule:
    """The policy's ``on_left:``, or the default."""
    return policy.on_left or DEFAULT_ON_LEFT


def leaver_problems(policy: Policy) -> list[tuple[Loc, str]]:
    """A trigger named in ``on_leave:`` or ``on_left:`` that no transition of the policy has."""
    triggers = sorted({t.trigger for t in policy.transitions})
    problems: list[tuple[Loc, str]] = []
    for key, rule in (("on_leave", policy.on_leave), ("on_left", policy.on_left)):
        if rule is None:
            continue
        names = [("fire", rule.fire)] + ([("resume", rule.resume)] if isinstance(rule, LeaveRule) else [])
        for name, trigger in names:
            if trigger is not None and trigger not in triggers:
                problems.append(
                    (
                        (key, name),
                        f"{trigger!r} is not a trigger of this policy (expected one of: {', '.join(triggers)})",  # noqa: E501
                    )
                )
    return problems
