"""Hand-built relationship histories for the metric and insight tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.reporting.outcomes import Answers, HeldMeeting, PairOutcome, build_outcomes

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
TERMINAL = {"closed"}


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


class History:
    """One relationship's audit entries, written step by step."""

    def __init__(self, rel_id: int, created: float = 0) -> None:
        self.rel_id = rel_id
        self.entries: list[dict[str, Any]] = []
        self.phase: str | None = None
        self.meetings: list[tuple[int, HeldMeeting]] = []
        self.answers: list[tuple[int, Answers]] = []
        self.move(created, "create", "intake")

    def move(self, on: float, trigger: str, to: str, *, reason: str | None = None, **data: Any) -> History:
        self.entries.append(
            {"relationship_id": self.rel_id, "seq": len(self.entries) + 1, "at": day(on), "trigger": trigger,
             "from_phase": self.phase, "to_phase": to, "reason": reason, "data": data}
        )  # fmt: skip
        self.phase = to
        return self

    def match(self, on: float, score: float | None = None, **criteria: float | None) -> History:
        proposal = {
            "score": score,
            "breakdown": {c: {"score": s, "weight": 1.0} for c, s in criteria.items()},
        }
        return self.move(on, "match", "matched", proposal=proposal, requires=["mentor_assigned"])

    def through(self, matched: float, active: float) -> History:
        """Matched, kickoff and active: matched on ``matched``, active from ``active``."""
        self.match(matched, 0.5)
        self.move(matched, "schedule_kickoff", "kickoff", requires=["mentor_trained"])
        return self.move(active, "start", "active", requires=["kickoff_held"])

    def close_early(self, on: float, reason: str) -> History:
        return self.move(on, "close", "closed", reason=reason, requires=["reason"])

    def met(self, on: float, kind: str = "check-in") -> History:
        self.meetings.append((self.rel_id, HeldMeeting(kind, day(on))))
        # what recording a meeting appends to the audit history: no phase change
        return self.move(on, "record_meeting", self.phase or "intake")

    def answered(self, on: float, respondent: str, survey: str = "final", **answers: Any) -> History:
        self.answers.append((self.rel_id, Answers(survey, respondent, day(on), answers)))
        return self


def outcomes(*histories: History) -> list[PairOutcome]:
    built = build_outcomes(
        [e for h in histories for e in h.entries],
        [m for h in histories for m in h.meetings],
        [a for h in histories for a in h.answers],
        TERMINAL,
    )
    return [built[rid] for rid in sorted(built)]
