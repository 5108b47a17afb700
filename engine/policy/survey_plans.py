"""The surveys a policy sends in each stay in a phase: on entering it, or timed, with their reminders.

Part of the compiled policy (:attr:`engine.policy.model.Policy.survey_plans`);
what the tick and the recorder decide from these plans is in
:mod:`engine.domain.surveys`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from engine.policy.durations import Duration

if TYPE_CHECKING:
    from engine.policy.model import Policy
    from engine.policy.surveys import SurveyRemind

SEND = "send_survey"


@dataclass(frozen=True)
class SurveyPlan:
    """A survey sent in each stay in a phase: on entering it (``after`` is ``None``), or ``after`` in."""

    survey: str
    after: Duration | None
    remind: SurveyRemind | None

    @property
    def ticks(self) -> bool:
        """Whether the tick has anything to do for it: a timed send, or reminders."""
        return self.after is not None or self.remind is not None

    def sent_at(self, entered: datetime) -> datetime:
        return entered if self.after is None else self.after.after(entered)

    def reminders_at(self, entered: datetime) -> list[datetime]:
        """The moments of its reminders in a stay that began at ``entered``."""
        if self.remind is None:
            return []
        moments, moment = [], self.sent_at(entered)
        for _ in range(self.remind.times):
            moment = self.remind.every.after(moment)
            moments.append(moment)
        return moments

    def first_moment(self, entered: datetime) -> datetime | None:
        """When the tick first has something to do for it in a stay (``None``: never)."""
        if self.after is not None:
            return self.sent_at(entered)
        reminders = self.reminders_at(entered)
        return reminders[0] if reminders else None


def plans_by_phase(policy: Policy) -> dict[str, tuple[SurveyPlan, ...]]:
    """Per phase (only those that send any), the surveys each stay in it sends, in policy order."""
    surveys = policy.survey_definitions
    plans: dict[str, tuple[SurveyPlan, ...]] = {}
    for name, phase in policy.phases.items():
        sends = [call for call in phase.on_enter if call.name == SEND]
        entering = dict.fromkeys(str(getattr(call.param, "survey", "")) for call in sends)
        found = [SurveyPlan(s, None, surveys[s].remind) for s in entering if s in surveys]
        found += [
            SurveyPlan(s, survey.send.after, survey.remind)
            for s, survey in surveys.items()
            if survey.send is not None and survey.send.phase == name
        ]
        if found:
            plans[name] = tuple(found)
    return plans
