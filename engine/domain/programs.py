"""Several programs in one store: which relationships a policy acts on, and what to tell the operator.

Every relationship records the name of the policy it was opened under. A
command or flow run with a policy acts on that policy's relationships only
(a new version of the policy, same name, applies to them as it did to the old):
a relationship of another program is refused, or never selected by the tick.
A relationship of the policy in a phase its current version no longer has (the
operator removed the phase) is *stranded*: no rule of the policy can move it, so
it is left alone and pointed out, never advanced by a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from engine.errors import field

if TYPE_CHECKING:  # imported where used: `status` reports other programs without the policy models
    from engine.policy.model import Policy


def refusal(rel_id: int, policy_name: str, phase: str, policy: Policy) -> str | None:
    """Why a command run with ``policy`` may not move this relationship, or ``None`` when it may."""
    if policy_name != policy.policy:
        return other_program(rel_id, policy_name, policy)
    if phase not in policy.phases:
        return (
            f"relationship {rel_id} is in phase {phase!r}, which policy {policy.policy!r} "
            f"(version {policy.version}) no longer has: add the phase back to the policy, or run "
            f"the command with {field('policy')} and a version of the policy that has it"
        )
    return None


def other_program(rel_id: int, policy_name: str, policy: Policy) -> str | None:
    """Why a command run with ``policy`` may not act on a relationship of policy ``policy_name``, or
    ``None`` when that is ``policy`` itself."""
    if policy_name == policy.policy:
        return None
    return (
        f"relationship {rel_id} belongs to the program under policy {policy_name!r}, "
        f"not {policy.policy!r}: run the command with {_policy_option(policy_name)}"
    )


def _policy_option(name: str) -> str:
    """``--policy onboarding-buddy`` for a shipped policy; a custom one is given by its file."""
    from engine.policy.model import shipped_policies

    if name in shipped_policies():
        return f"{field('policy')} {name}"
    return f"{field('policy')} and the file of policy {name!r}"


def stranded_note(phases: Mapping[str, int]) -> str:
    """``2 relationship(s) are in a phase the policy no longer has: paused 2``; empty for none."""
    if not phases:
        return ""
    listed = ", ".join(f"{phase} {count}" for phase, count in sorted(phases.items()))
    return f"{sum(phases.values())} relationship(s) are in a phase the policy no longer has: {listed}"


def other_policies(counts: Mapping[str, int], policy_name: str) -> dict[str, int]:
    """The relationships per policy name, but ``policy_name``'s own, by name."""
    return {name: count for name, count in sorted(counts.items()) if name != policy_name and count}


def others_note(others: Mapping[str, int]) -> str:
    """``(12 relationship(s) under other policies: onboarding-buddy 12; use --policy to see them)``.

    Empty when there are none: a store holding one program reads as it always did.
    """
    if not others:
        return ""
    listed = ", ".join(f"{name} {count}" for name, count in sorted(others.items()))
    total = sum(others.values())
    return f"({total} relationship(s) under other policies: {listed}; use {field('policy')} to see them)"
