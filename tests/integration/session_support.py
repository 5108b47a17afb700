"""Helpers of the group-session tests: the default policy with a ``sessions:`` block, pairs in ``active``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy, load_policy_text, resolve_policy_path
from engine.services import recording

from .support import fire, import_examples

SESSIONS = """
sessions:
  intervisie:
    title: Peer session (intervisie)
    title_nl: Intervisie
    for: {audience}
    phases: [active]
    every: 8 weeks
    weekday: thursday
    at: "15:00"
    length: 90 minutes
    group_size: {size}
    place: Room 4.12 or Teams
"""
MENTORS = ("E1004", "E1004", "E1001", "E1004", "E1001", "E1001", "E1002", "E1002")
"""A trained mentor for each of the first mentees, within their capacity and outside their reporting line."""


def default_text() -> str:
    """The shipped default policy's text without a ``sessions:`` block of its own (the tests add theirs)."""
    lines = Path(resolve_policy_path("default")).read_text(encoding="utf-8").splitlines()
    kept, skipping = [], False
    for line in lines:
        if line and not line[0].isspace() and not line.startswith("#"):
            skipping = line.startswith("sessions:")
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def session_policy(audience: str = "mentors", size: int = 8, extra: str = "") -> Policy:
    """The default policy with an intervisie series for ``audience`` in groups of at most ``size``."""
    return load_policy_text(
        default_text() + SESSIONS.format(audience=audience, size=size) + extra, "sessions.yaml"
    )


def active_pairs(
    store: Engine,
    policy: Policy,
    clock: SimulatedClock,
    count: int,
    *,
    rels: list[int] | None = None,
    skip: int = 0,
) -> list[int]:
    """``count`` pairs walked to ``active`` (matched with trained mentors, kickoff held), after the first
    ``skip`` of ``rels`` (the example participants imported now without); returns their ids."""
    lifecycle = Lifecycle(policy)
    opened = rels if rels is not None else import_examples(store, policy, clock)
    for rel_id, mentor in zip(opened[skip : skip + count], MENTORS[skip:], strict=False):
        fire(store, lifecycle, clock, rel_id, "match", mentor=mentor)
        fire(store, lifecycle, clock, rel_id, "schedule_kickoff")
        recording.record_meeting(store, policy, clock, rel_id, "kickoff", None, actor="coordinator")
        fire(store, lifecycle, clock, rel_id, "start")
    return opened[skip : skip + count]
