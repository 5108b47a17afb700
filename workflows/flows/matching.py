"""Matching: propose a mentor for everyone waiting; approve the proposals the policy lets through."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from workflows.flows import resources

if TYPE_CHECKING:
    from engine.services.matching import ProposalRun


@task(name="propose-matches", cache_policy=NO_CACHE)
def propose_matches(database: str, policy: str, now: str, actor: str) -> ProposalRun:
    """One matching run: proposals stored, those at or above ``auto_approve_at`` approved."""
    from engine.clock import SimulatedClock
    from engine.services.matching import propose

    clock = SimulatedClock(resources.moment(now))
    return propose(resources.store(database), resources.lifecycle(policy), clock, actor=actor)


@flow(name="matching", log_prints=False)
def matching(
    database: str | None = None, policy: str | None = None, now: str | None = None, actor: str = "matching"
) -> ProposalRun:
    """Propose pairs for the mentees waiting for a mentor; the coordinator approves the rest."""
    target = resources.resolve(database, policy, now)
    return propose_matches(target.database, target.policy, target.now, actor)
