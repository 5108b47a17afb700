"""The report and the insights of a store, at a moment: the entry points the CLI calls."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.errors import InputError, field
from engine.policy.model import Policy
from engine.reporting.insights import Insights, insights
from engine.reporting.metrics import program_report
from engine.reporting.outcomes import PairOutcome, load_other_policies, load_outcomes, load_pair_names

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _outcomes(
    store: Engine, policy: Policy, now: datetime, as_of: datetime | None, since: datetime | None
) -> tuple[list[PairOutcome], datetime]:
    moment = as_of or now
    if since is not None and since > moment:
        shown = field("as_of") if as_of is not None else "now"
        raise InputError(
            f"{field('since')}: {since:%Y-%m-%d} is after {shown} ({moment:%Y-%m-%d}); nothing to report"
        )
    return load_outcomes(store, policy, as_of=as_of, since=since), moment


def report(
    store: Engine,
    policy: Policy,
    now: datetime,
    *,
    as_of: datetime | None = None,
    since: datetime | None = None,
) -> dict[str, Any]:
    """Every figure of the program as it stood at ``as_of`` (or ``now``), for the policy's pairs open since
    ``since``; the heading counts the relationships of other programs (``other_policies``)."""
    pairs, moment = _outcomes(store, policy, now, as_of, since)
    return program_report(
        pairs,
        policy,
        moment=moment,
        generated_at=now,
        since=since,
        replayed=as_of is not None,
        other_policies=load_other_policies(store, policy, as_of=as_of),
    )


def program_insights(
    store: Engine,
    policy: Policy,
    now: datetime,
    *,
    as_of: datetime | None = None,
    since: datetime | None = None,
) -> tuple[Insights, dict[int, tuple[str, str | None]]]:
    """What to change, at ``as_of`` (or ``now``), and the names of the pairs that need attention."""
    pairs, moment = _outcomes(store, policy, now, as_of, since)
    found = insights(pairs, policy, moment)
    found.other_policies = load_other_policies(store, policy, as_of=as_of)
    return found, load_pair_names(store, [item.relationship_id for item in found.attention])
