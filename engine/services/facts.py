"""What the conditions of a policy need to know about relationships, loaded in bulk.

A condition reads facts from the store (meetings held, survey answers, the
mentor's training, the mentee's goals); each source is one query for a whole
batch, and made only when a condition that will be checked reads it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from engine.domain.phase_time import Earlier, PhaseClock, earlier
from engine.domain.relationships import Relationship
from engine.domain.surveys import respondents_done
from engine.policy.model import Policy
from engine.policy.vocabulary import FACT_SOURCES, Facts
from engine.store import goals as goal_store
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
    mentors: Mapping[int, int | None] | None = None,
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
    wanted = mentors or {}  # most batches attach no mentor: each row's own is read as it comes
    trained: set[int] = set()
    if "training" in reads:
        chosen = (wanted.get(r.id, r.mentor_id) for r in rels)
        trained = participants.trained_mentors(uow.conn, [m for m in chosen if m is not None])
    if meetings_of is None:
        meetings_of = records.meeting_stats(uow.conn, ids) if "meetings" in reads else {}
    if answers_of is None:
        answers_of = records.survey_answers(uow.conn, rels) if "surveys" in reads else {}
    goals = goal_store.goal_facts(uow.conn, ids) if "goals" in reads else {}
    facts: dict[int, Facts] = {}
    alike, before_of = _Alike(now, reason, trained), _Earlier()
    made, seen, plans = alike.made, before_of.seen, policy.survey_plans
    for rel in rels:
        rel_id, phase = rel.id, rel.phase
        held, kickoff, _ = meetings_of.get(rel_id, NO_MEETINGS) if meetings_of else NO_MEETINGS
        answers = answers_of.get(rel_id) if answers_of else None
        surveys = respondents_done(plans.get(phase, ()), answers) if answers else NONE
        clock = rel.phase_clock  # the earlier stays, from the row (no query), once per clock object
        kept = seen.get((id(clock), phase))
        before = before_of(clock, phase) if kept is None or kept[0] is not clock else kept[1]
        set_reached = goals.get(rel_id, NO_GOALS) if goals else NO_GOALS
        entered, mentor = rel.phase_entered_at, wanted.get(rel_id, rel.mentor_id) if wanted else rel.mentor_id
        found = made.get((entered, mentor, kickoff, held, set_reached, surveys, id(before)))
        if found is None:  # _Alike's memo, looked up here: most rows of a batch are alike
            found = alike(entered, mentor, kickoff, held, set_reached, surveys, before)
        facts[rel_id] = found
    return facts


class _Alike:
    """The :class:`Facts` of one batch, one object per distinct content (they are frozen: relationships
    alike share one, and the lifecycle decides once per object)."""

    def __init__(self, now: datetime, reason: str | None, trained: set[int]) -> None:
        self.now, self.reason, self.trained = now, reason, trained
        self.made: dict[tuple[object, ...], Facts] = {}
        """The facts made, by their key: the arguments of :meth:`__call__`, in order (``before`` by id)."""

    def __call__(
        self, entered: datetime, mentor: int | None, kickoff: bool, held: int, goals: tuple[int, int],
        surveys: frozenset[str], before: Earlier,
    ) -> Facts:  # fmt: skip
        # ``before`` by identity (its dataclass hash is a Python call): :class:`_Earlier` keeps every one
        # it made while the batch's facts are made, so no other object can take its id meanwhile
        key = (entered, mentor, kickoff, held, goals, surveys, id(before))
        made = self.made.get(key)
        if made is None:
            made = self.made[key] = Facts(
                now=self.now,
                phase_entered_at=entered,
                mentor_id=mentor,
                mentor_trained=mentor in self.trained,
                kickoff_held=kickoff,
                meetings_held=held,
                goals_set=goals[0],
                goals_reached=goals[1],
                surveys_answered=surveys,
                reason=self.reason,
                phase_time_before=before.spent,
                phase_first_entered_at=before.first_entered,
            )
        return made


NONE: frozenset[str] = frozenset()
NO_GOALS = (0, 0)  # no development goals set, none reached


class _Earlier:
    """:func:`engine.domain.phase_time.earlier`, once per phase clock object and phase (the memo keeps
    the clock, so no other object can take its id meanwhile): rows read alike share their clock."""

    def __init__(self) -> None:
        self.seen: dict[tuple[int, str], tuple[PhaseClock | None, Earlier]] = {}
        """By (id of the clock, phase): the clock and its earlier stays there."""

    def __call__(self, clock: PhaseClock | None, phase: str) -> Earlier:
        kept = self.seen.get((id(clock), phase))
        if kept is None or kept[0] is not clock:
            kept = self.seen[(id(clock), phase)] = (clock, earlier(clock, phase))
        return kept[1]
