"""What makes a meeting plausible before it is recorded: not twice, not before the pair began, a kickoff
where the policy expects one.

A meeting in the future is refused where it is read (:mod:`engine.services.recording`);
these checks need the pair's phase, its start and the meetings already recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from engine.errors import field
from engine.policy.model import Policy

if TYPE_CHECKING:
    from engine.services.recording import HeldMeeting

KICKOFF_CONDITION = "kickoff_held"


def kickoff_phases(policy: Policy) -> list[str]:
    """The phases where the policy expects a kickoff: those a transition requiring ``kickoff_held`` leaves,
    and the (non-terminal) phase it leads to, for a kickoff recorded just after the pair moved on.

    Empty when no transition requires a kickoff: then a kickoff may be recorded in any phase.
    """
    found: dict[str, None] = {}
    for t in policy.transitions:
        if not any(call.name == KICKOFF_CONDITION for call in t.requires):
            continue
        sources = list(policy.phases) if "*" in t.sources else t.sources
        for phase in [*sources, t.to]:
            if phase in policy.phases and not policy.phases[phase].terminal:
                found[phase] = None
    return list(found)


@dataclass
class MeetingCheck:
    """Checks each meeting of a batch against the pair and the meetings recorded before (and in the batch)."""

    policy: Policy
    now: datetime
    starts: dict[int, datetime]
    held: dict[int, list[tuple[str, datetime]]]

    def meeting(self, m: HeldMeeting, phase: str) -> list[str]:
        """What is wrong with recording ``m`` for a pair in ``phase`` (nothing: an empty list)."""
        rid, on = m.relationship_id, m.held_on or self.now
        problems: list[str] = []
        start = self.starts.get(rid)
        if start is not None and self._day(on) < self._day(start):
            problems.append(
                f"relationship {rid}: {self._day(on)} is before the relationship began ({self._day(start)})"
            )
        expected = kickoff_phases(self.policy)
        if m.kind == "kickoff" and expected and phase not in expected:
            problems.append(
                f"relationship {rid} is {phase}: the policy expects a kickoff only in {', '.join(expected)}"
            )
        same = [
            at for kind, at in self.held.get(rid, []) if kind == m.kind and self._day(at) == self._day(on)
        ]
        if same and not m.again:
            problems.append(
                f"relationship {rid}: a {m.kind} meeting on {self._day(on)} is already recorded "
                f"(give {field('again')} to record a genuine second one)"
            )
        self.held.setdefault(rid, []).append((m.kind, on))
        return problems

    def _day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.policy.program.timezone)).date()
