"""A match result as plain data: the rows stored per relationship, the audit data of an approval.

Pure and JSON-ready (scores rounded to 4 places, names included), so what a
coordinator saw when the proposal was made is exactly what ``match explain``
shows later, whatever the participants' records say by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.domain.participants import Participant
from engine.matching.proposals import Explanation, MatchResult
from engine.matching.scores import Breakdown
from engine.policy.matching import CRITERION_LABELS
from engine.policy.model import Policy


def rounded(value: float) -> float:
    return round(float(value), 4)


def person(p: Participant) -> dict[str, str]:
    return {"key": p.key, "name": p.name}


def breakdown_data(breakdown: Breakdown) -> dict[str, Any]:
    """The score of a pair, criterion by criterion."""
    return {
        "total": rounded(breakdown.total),
        "criteria": [
            {
                "criterion": c.criterion,
                "label": CRITERION_LABELS[c.criterion],
                "weight": c.weight,
                "score": None if c.score is None else rounded(c.score),
                "detail": c.detail,
            }
            for c in breakdown.criteria
        ],
    }


def explanation_data(e: Explanation) -> dict[str, Any]:
    """Why this mentor (or none): ruled-out mentors, alternatives, unchecked constraints."""
    return {
        "mentee": person(e.mentee),
        "mentor": person(e.proposal.mentor) if e.proposal else None,
        "reason_kind": e.reason_kind,
        "reason": e.reason,
        "notes": list(e.proposal.notes) if e.proposal else [],
        "ruled_out_counts": e.ruled_out_counts,
        "ruled_out": [
            {**person(r.mentor), "score": rounded(r.score), "reasons": list(r.reasons)} for r in e.ruled_out
        ],
        "alternatives": [
            {**person(a.mentor), "score": rounded(a.score), "why_not": a.why_not} for a in e.alternatives
        ],
    }


def explanation_row(
    e: Explanation,
    rel_id: int,
    run: int,
    mode: str,
    ids: Mapping[str, int],
    policy_version: str,
    now: datetime,
) -> dict[str, Any]:
    """The ``match_proposals`` row of one mentee in one run."""
    proposal = e.proposal
    return {
        "run": run,
        "relationship_id": rel_id,
        "mentee_id": ids[e.mentee.key],
        "mentor_id": ids[proposal.mentor.key] if proposal else None,
        "score": rounded(proposal.score) if proposal else None,
        "breakdown": breakdown_data(proposal.breakdown) if proposal else {},
        "explanation": explanation_data(e),
        "status": "pending" if proposal else "unmatched",
        "mode": mode,
        "policy_version": policy_version,
        "created_at": now,
        "decided_by": None,
        "decided_at": None,
        "reason": None,
    }


def result_summary(
    result: MatchResult, policy: Policy, run: int, waiting: Mapping[str, int]
) -> dict[str, Any]:
    """The run as a whole: how many were matched, the total score, the blocking pairs."""
    return {
        "run": run,
        "policy": policy.policy,
        "mode": result.mode,
        "mentees": len(result.explanations),
        "mentors": result.mentors,
        "proposed": len(result.proposals),
        "unmatched": len(result.unmatched),
        "total_score": rounded(result.total),
        "min_score": policy.matching.min_score,
        "auto_approve_at": policy.matching.auto_approve_at,
        "blocking_pairs": result.blocking_count,
        "blocking_examples": [
            {
                "relationship_id": waiting[b.mentee.key],
                "mentee": person(b.mentee),
                "mentor": person(b.mentor),
                "score": rounded(b.score),
            }
            for b in result.blocking
        ],
    }


def proposal_data(row: Mapping[str, Any], approver: str, how: str) -> dict[str, Any]:
    """What the audit entry of an approval records about the proposal."""
    return {
        "id": row["id"],
        "run": row["run"],
        "mode": row["mode"],
        "score": row["score"],
        "breakdown": {
            c["criterion"]: {"score": c["score"], "weight": c["weight"]} for c in row["breakdown"]["criteria"]
        },
        "policy_version": row["policy_version"],
        "approved_by": approver,
        "approval": how,
    }
