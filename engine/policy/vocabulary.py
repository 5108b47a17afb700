"""The fixed vocabulary of conditions and actions a policy may name.

A policy refers to conditions (``requires:``) and actions (``on_enter:``,
deadline actions) by name, optionally with one parameter, as a plain name
or a one-key mapping (``{meetings_held: {at_least: 6}}``). Every name is
checked against this registry when the file loads, so an unknown name is an
error at load time, never at tick time. Nothing from YAML is ever evaluated
as code: a condition is a Python function chosen from this table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine import errors


@dataclass(frozen=True)
class Facts:
    """What the engine knows about one relationship when a trigger is tried."""

    now: datetime
    phase_entered_at: datetime
    mentor_id: int | None = None
    mentor_trained: bool = False
    kickoff_held: bool = False
    meetings_held: int = 0
    goals_set: int = 0
    goals_reached: int = 0
    surveys_answered: frozenset[str] = field(default_factory=frozenset)
    reason: str | None = None
    # the clocks of `after:` timers (engine.policy.timers): earlier stays in the phase
    phase_time_before: timedelta = timedelta(0)
    phase_first_entered_at: datetime | None = None


class AtLeast(BaseModel):
    """Parameter of a counting condition: ``{at_least: N}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)
    at_least: int = Field(ge=0)


class SurveyName(BaseModel):
    """Parameter of ``send_survey``: which survey, e.g. ``final``."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, defer_build=True)
    survey: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")


Check = Callable[[Facts, Any], "str | None"]


@dataclass(frozen=True)
class Term:
    """One name of the vocabulary: what it means, its parameter, and for conditions its check."""

    name: str
    description: str
    param: type[BaseModel] | None = None
    scalar_field: str | None = None
    check: Check | None = None
    recipients: tuple[str, ...] = ()
    reads: frozenset[str] = frozenset()  # for conditions: the stored facts their check needs (FACT_SOURCES)

    def parse_param(self, raw: object) -> BaseModel | None:
        """Validate the YAML parameter; a scalar fills ``scalar_field`` (``{send_survey: final}``)."""
        if self.param is None:
            if raw is not None:
                raise ValueError(f"{self.name} takes no parameter (expected the plain name: {self.name})")
            return None
        if raw is None:
            usage = self.description[self.description.find("{") :]
            raise ValueError(f"{self.name} needs a parameter (expected {usage})")
        if self.scalar_field is not None and not isinstance(raw, Mapping):
            raw = {self.scalar_field: raw}
        return self.param.model_validate(raw)


def _mentor_assigned(facts: Facts, _: Any) -> str | None:
    return (
        None if facts.mentor_id is not None else f"no mentor is assigned (give {errors.field('mentor')} ID)"
    )


def _mentor_trained(facts: Facts, _: Any) -> str | None:
    if facts.mentor_id is None:
        return "no mentor is assigned"
    return None if facts.mentor_trained else "the mentor has not finished the mentor training"


def _kickoff_held(facts: Facts, _: Any) -> str | None:
    return None if facts.kickoff_held else "no kickoff meeting has been recorded"


def _survey_complete(facts: Facts, _: Any) -> str | None:
    missing = sorted({"mentee", "mentor"} - facts.surveys_answered)
    if not missing:
        return None
    return f"the survey of this phase is not answered by the {' and the '.join(missing)}"


def _reason(facts: Facts, _: Any) -> str | None:
    return (
        None
        if facts.reason and facts.reason.strip()
        else f"a reason is required (give {errors.field('reason')})"
    )


def _meetings_held(facts: Facts, param: Any) -> str | None:
    need = param.at_least
    held = facts.meetings_held
    return None if held >= need else f"{held} meeting(s) held, at least {need} required"


def _goals_set(facts: Facts, param: Any) -> str | None:
    need = param.at_least
    count = facts.goals_set
    return None if count >= need else f"{count} development goal(s) set, at least {need} required"


def _goals_reached(facts: Facts, param: Any) -> str | None:
    need = param.at_least
    count = facts.goals_reached
    return None if count >= need else f"{count} development goal(s) reached, at least {need} required"


FACT_SOURCES = frozenset({"goals", "meetings", "surveys", "training"})
"""The facts a condition may read from the store; each is one bulk query, made only when needed."""

CONDITIONS: dict[str, Term] = {
    t.name: t
    for t in (
        Term("mentor_assigned", "a mentor is attached to the relationship", check=_mentor_assigned),
        Term(
            "mentor_trained",
            "the mentor finished the mentor training",
            check=_mentor_trained,
            reads=frozenset({"training"}),
        ),
        Term(
            "kickoff_held",
            "the kickoff meeting was recorded as held",
            check=_kickoff_held,
            reads=frozenset({"meetings"}),
        ),
        Term(
            "survey_complete",
            "mentor and mentee answered the survey of the current phase",
            check=_survey_complete,
            reads=frozenset({"surveys"}),
        ),
        Term("reason", "the operator gave a reason", check=_reason),
        Term(
            "meetings_held",
            "at least N meetings were held: {meetings_held: {at_least: N}}",
            param=AtLeast,
            scalar_field="at_least",
            check=_meetings_held,
            reads=frozenset({"meetings"}),
        ),
        Term(
            "goals_set",
            "the mentee has set at least N development goals: {goals_set: {at_least: N}}",
            param=AtLeast,
            scalar_field="at_least",
            check=_goals_set,
            reads=frozenset({"goals"}),
        ),
        Term(
            "goals_reached",
            "the mentee reached at least N of their development goals: {goals_reached: {at_least: N}}",
            param=AtLeast,
            scalar_field="at_least",
            check=_goals_reached,
            reads=frozenset({"goals"}),
        ),
    )
}

ACTIONS: dict[str, Term] = {
    t.name: t
    for t in (
        Term(
            "notify_pair", "tell mentor and mentee they are matched, and why", recipients=("mentee", "mentor")
        ),
        Term(
            "enrol_mentor_training",
            "enrol the mentor in the mentor training if not trained",
            recipients=("mentor",),
        ),
        Term(
            "schedule_kickoff_meeting",
            "send both a calendar invitation for the kickoff",
            recipients=("mentee", "mentor"),
        ),
        Term("send_mentee_guide", "send the mentee the guide to the program", recipients=("mentee",)),
        Term(
            "send_survey",
            "send mentor and mentee a survey: {send_survey: NAME}",
            param=SurveyName,
            scalar_field="survey",
            recipients=("mentee", "mentor"),
        ),
        Term("notify_coordinator", "tell the program coordinator", recipients=("coordinator",)),
        Term(
            "schedule_group_session",
            "invite the pair to the next peer session (intervisie)",
            recipients=("mentee", "mentor"),
        ),
        Term("remind", "remind the pair of what is due (deadline action)", recipients=("mentee", "mentor")),
        Term(
            "escalate",
            "tell the coordinator the pair is overdue (deadline action)",
            recipients=("coordinator",),
        ),
    )
}

DEADLINE_ACTIONS = ("remind", "escalate")

NOTICES: dict[str, Term] = {
    t.name: t
    for t in (
        Term(
            "survey_reminder",
            "remind a respondent who has not answered a survey yet (sent by the tick, as the survey's "
            "`remind:` says; not an action a policy names)",
            recipients=("mentee", "mentor"),
        ),
        Term(
            "help_requested",
            "tell the coordinator a participant asked for help or a pause through their personal link "
            "(sent when they ask; not an action a policy names)",
            recipients=("coordinator",),
        ),
    )
}
"""Messages only the engine sends, never named in a policy; they have texts like the actions."""

RECORD_MEETING = "record_meeting"
RECORD_SURVEY = "record_survey"
RECORD_RETRACT = "retract"  # a meeting or survey answer recorded in error, taken back
REPLACE_MENTOR = "replace_mentor"  # a match corrected: the pair has another mentor, in the same phase
HELP_REQUESTED = "help_requested"  # a participant asked for help or a pause through their personal link
PURGE = "purge"  # personal data past the policy's retention erased (engine.services.retention)
ERASE = "erase"  # a participant erased, on request (engine.services.erasure)
POLICY_APPLIED = "policy_applied"  # a new policy version applied to a pair, in its phase (policy apply)
POLICY_MAPPED = "policy_mapped"  # the same, moving it from a removed phase to the one it was mapped to
SET_GOAL = "set_goal"  # a development goal of the mentee set (engine.services.goals)
GOAL_PROGRESS = "goal_progress"  # how far the mentee got with one of their goals
SESSION_INVITED = "session_invited"  # the pair invited to a group session (engine.services.sessions)
RECORD_ATTENDANCE = "record_attendance"  # whether the mentor or mentee attended a group session
RECORD_TRIGGERS = frozenset(
    {
        SET_GOAL,
        GOAL_PROGRESS,
        SESSION_INVITED,
        RECORD_ATTENDANCE,
        RECORD_MEETING,
        RECORD_SURVEY,
        RECORD_RETRACT,
        REPLACE_MENTOR,
        HELP_REQUESTED,
        PURGE,
        ERASE,
        POLICY_APPLIED,
    }
)
"""The triggers of audit entries that record a fact (a meeting held, a survey answered, data erased)
without moving the phase: ``from_phase`` and ``to_phase`` are both the phase it happened in. A policy may
not use them. :data:`POLICY_MAPPED` is not one: it moves the pair, though no edge of a policy does."""
RESERVED_TRIGGERS = RECORD_TRIGGERS | {POLICY_MAPPED}
"""The triggers of the entries mentorflow writes itself: a policy may name none of them."""
