"""What the conditions of a policy need to know about relationships, loaded in bulk.

A condition reads facts from the store (meetings held, survey answers, the
mentor's training, the mentee's goals); each source is one query for a whole
batch, and made only when a condition that will be checked reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from engine.domain.phase_time import Earlier, PhaseClock, earlier
from engine.domain.relationships import Relationship
from engine.domain.surveys import respondents_done
from engine.policy.model import Policy
from engine.policy.vocabulary import FACT_SOURCES, Facts
from engine.store import participants, records
from engine.store.database import UnitOfWork
from engine.store.records import MeetingStats, SurveyAnswerRow
from engine.store.relationships import RelationshipRow

NO_MEETINGS: MeetingStats = (0, False, None)
"""Meetings held, kickoff held, last meeting: for a relationship without any."""


def load_facts(
    uow: UnitOfWork,
    policy: Policy,
    rels: Sequence[Relationship | RelationshipRow],
    now: datetime,
    reason: str | None,
    mentors: dict[int, int | None] | None = None,
    meetings_of: dict[int, MeetingStats] | None = None,
    answers_of: dict[int, list[SurveyAnswerRow]] | None = None,
    *,
    reads: frozenset[str] = FACT_SOURCES,
) -> dict[int, Facts]:
    """What the conditions need to know, loaded in bulk for a batch of relationships.

    ``reads`` limits the queries to the facts some condition will read (see
    ``Lifecycle.reads``); the others keep their empty defaults.
    """
    ids = [r.id for r in rels]
    mentor_of = {r.id: (mentors or {}).get(r.id, r.mentor_id) for r in rels}
    trained: set[int] = set()
    if "training" in reads:
        trained = participants.trained_mentors(uow.conn, [m for m in mentor_of.values() if m is not None])
    if meetings_of is None:
        meetings_of = records.meeting_stats(uow.conn, ids) if "meetings" in reads else {}
    if answers_of is None:
        answers_of = records.survey_answers(uow.conn, rels) if "surveys" in reads else {}
    goals = participants.mentee_goals(uow.conn, ids) if "goals" in reads else {}
    facts: dict[int, Facts] = {}
    alike, before_of = _Alike(now, reason, trained), _Earlier()
    for rel in rels:
        held, kickoff, _ = meetings_of.get(rel.id, NO_MEETINGS)
        answers = answers_of.get(rel.id)
        surveys = respondents_done(policy.survey_plans.get(rel.phase, ()), answers) if answers else NONE
        before = before_of(rel.phase_clock, rel.phase)  # from the row: no query
        mentor, goals_set = mentor_of[rel.id], len(goals.get(rel.id, ()))
        facts[rel.id] = alike(rel.phase_entered_at, mentor, kickoff, held, goals_set, surveys, before)
    return facts


class _Alike:
    """The :class:`Facts` of one batch, one object per distinct content (they are frozen: relationships
    alike share one, and the lifecycle decides once per object)."""

    def __init__(self, now: datetime, reason: str | None, trained: set[int]) -> None:
        self.now, self.reason, self.trained = now, reason, trained
        self._made: dict[tuple[object, ...], Facts] = {}

    def __call__(
        self, entered: datetime, mentor: int | None, kickoff: bool, held: int, goals_set: int,
        surveys: frozenset[str], before: Earlier,
    ) -> Facts:  # fmt: skip
        key = (entered, mentor, kickoff, held, goals_set, surveys, before)
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = Facts(
                now=self.now,
                phase_entered_at=entered,
                mentor_id=mentor,
                mentor_trained=mentor in self.trained,
                kickoff_held=kickoff,
                meetings_held=held,
                goals_set=goals_set,
                surveys_answered=surveys,
                reason=self.reason,
                phase_time_before=before.spent,
                phase_first_entered_at=before.first_entered,
            )
        return made


NONE: frozenset[str] = frozenset()


class _Earlier:
    """:func:`engine.domain.phase_time.earlier`, once per phase clock object and phase (the memo keeps
    the clock, so no other object can take its id meanwhile): rows read alike share their clock."""

    def __init__(self) -> None:
        self._seen: dict[tuple[int, str], tuple[PhaseClock | None, Earlier]] = {}

    def __call__(self, clock: PhaseClock | None, phase: str) -> Earlier:
        kept = self._seen.get((id(clock), phase))
        if kept is None or kept[0] is not clock:
            kept = self._seen[(id(clock), phase)] = (clock, earlier(clock, phase))
        return kept[1]
