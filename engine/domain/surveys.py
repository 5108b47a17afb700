"""When a pair's surveys go out and are reminded: pure decisions for the tick and the recorder.

In each stay in a phase, a survey is sent either on entering it
(``{send_survey: NAME}`` in ``on_enter``, written with the phase change) or,
timed, once the pair has been in the phase for ``send.after`` (written by the
tick). Reminders go to each recipient who has not answered since it was sent,
every ``remind.every`` and ``remind.times`` at most, until they answer or the
phase moves on. A tick that was not run for a while sends only the latest
reminder due, never a burst of them. Every notice carries a key tail that the
tick puts after the stay's ``rel:ID:entry:SEQ:``, so each is written once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.audit import iso
from engine.policy.survey_plans import SEND, SurveyPlan
from engine.policy.surveys import RESPONDENTS

if TYPE_CHECKING:
    pass

REMINDER = "survey_reminder"

Answered = Mapping[str, Mapping[str, datetime]]
"""Per survey, per respondent: when they last answered it in the current stay."""


@dataclass(frozen=True)
class SurveyNotice:
    """A survey message the tick sends: ``key_tail`` goes after the stay's ``rel:ID:entry:SEQ:``."""

    action: str
    recipient: str
    key_tail: str
    params: dict[str, Any]


def answered_in_stay(rows: Iterable[tuple[str, str, datetime]]) -> dict[str, dict[str, datetime]]:
    """(survey, respondent, answered at) rows of one stay, as :data:`Answered`."""
    answered: dict[str, dict[str, datetime]] = {}
    for survey, respondent, at in rows:
        by = answered.setdefault(survey, {})
        by[respondent] = max(at, by.get(respondent, at))
    return answered


def has_answered(answered: Answered, survey: str, respondent: str, since: datetime) -> bool:
    at = answered.get(survey, {}).get(respondent)
    return at is not None and at >= since


def respondents_done(
    plans: Sequence[SurveyPlan], rows: Iterable[tuple[str, str, datetime]]
) -> frozenset[str]:
    """Who answered "the survey of the phase" in this stay (``survey_complete``).

    Those who answered every survey sent on entering the phase; in a phase that
    sends none on entering, those who answered any survey in the stay.
    """
    entering = [plan.survey for plan in plans if plan.after is None]
    answered = answered_in_stay(rows)
    if not entering:
        return frozenset(who for by in answered.values() for who in by)
    return frozenset(who for who in RESPONDENTS if all(who in answered.get(s, {}) for s in entering))


def sent_in_stay(plans: Sequence[SurveyPlan], entered: datetime, now: datetime) -> dict[str, datetime]:
    """The surveys sent so far in a stay that began at ``entered``, with when each went out."""
    sent: dict[str, datetime] = {}
    for plan in plans:
        at = plan.sent_at(entered)
        if at <= now:
            sent.setdefault(plan.survey, at)
    return sent


def survey_notices(
    plans: Sequence[SurveyPlan],
    phase: str,
    entered: datetime,
    now: datetime,
    answered: Answered,
    recipients: Sequence[str],
) -> list[SurveyNotice]:
    """The timed sends and reminders due at ``now`` in a stay in ``phase`` that began at ``entered``."""
    notices: list[SurveyNotice] = []
    for plan in plans:
        sent = plan.sent_at(entered)
        if not plan.ticks or sent > now:
            continue
        params = {"survey": plan.survey, "phase": phase}
        if plan.after is not None:
            notices += [
                SurveyNotice(SEND, who, f"{SEND}:{plan.survey}:{who}", {**params, "recipient": who})
                for who in recipients
            ]
        due = sum(1 for moment in plan.reminders_at(entered) if moment <= now)
        if due and plan.remind is not None:
            extra: dict[str, Any] = {"reminder": due, "times": plan.remind.times, "since": iso(sent)}
            notices += [
                SurveyNotice(
                    REMINDER,
                    who,
                    f"{REMINDER}:{plan.survey}:{due}:{who}",
                    {**params, **extra, "recipient": who},
                )
                for who in recipients
                if not has_answered(answered, plan.survey, who, sent)
            ]
    return notices


def next_survey_moment(
    plans: Sequence[SurveyPlan],
    entered: datetime,
    now: datetime,
    answered: Answered,
    recipients: Sequence[str],
) -> datetime | None:
    """The next moment after ``now`` a survey of this stay is sent or reminded (``None``: none is)."""
    moments: list[datetime] = []
    for plan in plans:
        sent = plan.sent_at(entered)
        if not plan.ticks:
            continue
        if sent > now:
            moments.append(sent)
        elif any(not has_answered(answered, plan.survey, who, sent) for who in recipients):
            moments += [m for m in plan.reminders_at(entered) if m > now][:1]
    return min(moments, default=None)
