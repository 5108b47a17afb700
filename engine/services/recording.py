"""Recording what happened: meetings held, trainings finished, surveys answered, one or many at once.

A single command and a batch (an import file, a simulated day) take the same
path: every item is checked first (a known meeting kind, nothing in the
future, an open and matched pair of the policy's own program; a survey that
was sent to this respondent in the pair's current phase and not answered yet,
with answers that fit its questions), all or nothing: one bad item and nothing
is written, and the error lists every problem. A meeting and a survey answer
each append an entry to the relationship's audit chain in the same transaction
(trigger ``record_meeting`` or ``record_survey``, from and to the phase it
happened in), so every figure of a report can be recomputed from the audit
export. Each relationship recorded becomes due, so the next tick reconsiders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.answers import check_answers
from engine.domain.programs import other_program
from engine.domain.relationships import MEETING_KINDS
from engine.domain.surveys import answered_in_stay, has_answered, sent_in_stay
from engine.errors import InputError, NotFoundError, RefusedError
from engine.policy.model import Policy
from engine.policy.surveys import RESPONDENTS, Survey
from engine.policy.vocabulary import GOAL_PROGRESS, RECORD_MEETING, RECORD_SURVEY
from engine.services.fact_writing import Problems, write_facts
from engine.services.meeting_checks import MeetingCheck
from engine.store import goals as goal_store
from engine.store import participant_entries as entry_store
from engine.store import participants as people_store
from engine.store import records
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.goals import GoalRow, level_fact
from engine.store.records import SurveyAnswerRow
from engine.store.relationships import RelationshipRow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.clock import Clock


@dataclass(frozen=True)
class HeldMeeting:
    """A meeting of a pair to record; ``held_on`` ``None`` is the moment it is recorded.

    ``again`` records a genuine second meeting of the same kind on the same day. ``actor``: who recorded
    this one (its audit entry's actor and the meeting's ``recorded_by``); the batch's actor where ``None``.
    """

    relationship_id: int
    kind: str
    held_on: datetime | None = None
    notes: str | None = None
    again: bool = False
    actor: str | None = None


@dataclass(frozen=True)
class SurveyResponse:
    """One respondent's answers to one survey of one relationship; ``where`` names its source in errors."""

    relationship_id: int
    survey: str
    respondent: str
    answers: dict[str, Any] = field(default_factory=dict)
    where: str | None = None  # e.g. "answers.csv:row 4": problems then name the row and the column
    actor: str | None = None  # who recorded this one (its audit entry's actor); the batch's actor where None


def record_meeting(
    store: Engine,
    policy: Policy,
    clock: Clock,
    rel_id: int,
    kind: str,
    held_on: datetime | None,
    *,
    actor: str,
    notes: str | None = None,
    again: bool = False,
) -> None:
    """Record one meeting as held; the relationship becomes due so the tick reconsiders it."""
    meeting = HeldMeeting(rel_id, kind, held_on, notes, again)
    _record_meetings(store, policy, clock, [meeting], actor, single=True)


def record_meetings(
    store: Engine, policy: Policy, clock: Clock, held: Sequence[HeldMeeting], *, actor: str
) -> int:
    """Record meetings as held, all or nothing; returns how many were recorded."""
    return _record_meetings(store, policy, clock, held, actor, single=False)


def _record_meetings(
    store: Engine, policy: Policy, clock: Clock, held: Sequence[HeldMeeting], actor: str, *, single: bool
) -> int:
    now, problems = clock.now(), Problems()
    for m in held:
        if m.kind not in MEETING_KINDS:
            expected = ", ".join(MEETING_KINDS)
            problems.add(
                InputError, f"relationship {m.relationship_id}: {m.kind!r} is not a meeting kind ({expected})"
            )
        if m.held_on is not None and m.held_on > now:
            problems.add(
                InputError,
                f"relationship {m.relationship_id}: {m.held_on:%Y-%m-%d} is in the future "
                "(record a meeting once it was held)",
            )
    with UnitOfWork(store) as uow:
        ids = sorted({m.relationship_id for m in held})
        rels = rel_store.relationship_rows(uow.conn, ids, lock=True)
        for rel_id in dict.fromkeys(m.relationship_id for m in held):
            _check_meeting_pair(policy, rel_id, rels.get(rel_id), problems)
        if not problems.found:
            check = MeetingCheck(policy, now, records.relationship_starts(uow.conn, ids),
                                 records.same_day_meetings(uow.conn, ids))  # fmt: skip
            for m in held:
                for text in check.meeting(m, rels[m.relationship_id].phase):
                    problems.add(RefusedError, text)
        problems.raise_any("meetings", single=single)
        facts = [(m.relationship_id, records.meeting_fact(m.kind, m.held_on or now)) for m in held]
        actors = [m.actor or actor for m in held]
        seqs = write_facts(uow, policy, now, rels, RECORD_MEETING, actor, facts, actors=actors)
        rows = [
            {"relationship_id": m.relationship_id, "kind": m.kind, "held_on": m.held_on or now,
             "recorded_at": now, "recorded_by": by, "notes": m.notes, "entry_seq": seq}
            for m, by, seq in zip(held, actors, seqs, strict=True)
        ]  # fmt: skip
        records.insert_meetings(uow.conn, rows)
        uow.commit()
    return len(held)


def _check_meeting_pair(policy: Policy, rel_id: int, rel: RelationshipRow | None, problems: Problems) -> None:
    if rel is None:
        problems.add(NotFoundError, f"no relationship {rel_id}")
    elif (elsewhere := other_program(rel_id, rel.policy_name, policy)) is not None:
        problems.add(RefusedError, elsewhere)
    elif policy.phases.get(rel.phase) is not None and policy.phases[rel.phase].terminal:
        problems.add(RefusedError, f"relationship {rel_id} is {rel.phase}; no meetings can be recorded")
    elif rel.mentor_id is None:
        problems.add(
            RefusedError, f"relationship {rel_id} has no mentor yet; record meetings once it is matched"
        )


def record_training(
    store: Engine, clock: Clock, mentor_ref: str, *, actor: str = "mentorflow", revoke: bool = False
) -> list[int]:
    """Record that a mentor finished the mentor training (``revoke``: that they are not trained after all).

    The change is an entry of the mentor's participant chain (cause ``training`` or
    ``training_revoked``, field ``trained``); recording a training again changes
    nothing. Their pairs become due; returns their ids.
    """
    now = clock.now()
    with UnitOfWork(store) as uow:
        mentor = people_store.participant_by_ref(uow.conn, mentor_ref, lock=True)
        if mentor is None or mentor.role != "mentor":
            raise NotFoundError(f"no mentor {mentor_ref!r} (give an id, external id or email)")
        if revoke and not mentor.trained:
            raise RefusedError(f"mentor {mentor_ref!r} is not trained: there is no training to revoke")
        if revoke or not mentor.trained:
            people_store.update_participant(uow.conn, mentor.id, {"trained": not revoke}, now)
            cause = "training_revoked" if revoke else "training"
            entry_store.record_participant_change(uow.conn, mentor.id, actor, ["trained"], cause, now)
        rel_ids = rel_store.ids_of_mentor(uow.conn, mentor.id)
        # what happened may let a pair move on (or no longer): the next tick looks at it
        rel_store.make_due(uow.conn, rel_ids, now)
        uow.commit()
    return rel_ids


def record_survey(
    store: Engine,
    policy: Policy,
    clock: Clock,
    rel_id: int,
    survey: str,
    respondent: str,
    answers: dict[str, Any],
    *,
    actor: str,
) -> dict[str, Any]:
    """Record one respondent's answers to a survey; returns the answers as stored (normalised)."""
    response = SurveyResponse(rel_id, survey, respondent, answers)
    return _record_surveys(store, policy, clock, [response], actor, single=True)[0]


def record_surveys(
    store: Engine, policy: Policy, clock: Clock, responses: Sequence[SurveyResponse], *, actor: str
) -> int:
    """Record survey responses, all or nothing; returns how many were recorded."""
    return len(_record_surveys(store, policy, clock, responses, actor, single=False))


def _record_surveys(
    store: Engine,
    policy: Policy,
    clock: Clock,
    responses: Sequence[SurveyResponse],
    actor: str,
    *,
    single: bool,
) -> list[dict[str, Any]]:
    now, problems = clock.now(), Problems()
    with UnitOfWork(store) as uow:
        ids = sorted({r.relationship_id for r in responses})
        rels = rel_store.relationship_rows(uow.conn, ids, lock=True)
        goal_rows = goal_store.goal_rows(uow.conn, list(rels))
        check = _SurveyCheck(policy, now, rels, records.survey_answers(uow.conn, list(rels.values())),
                             goal_store.mentee_goals(uow.conn, list(rels)), problems)  # fmt: skip
        checked = [check.response(r) for r in responses]
        problems.raise_any("survey answers", single=single)
        rows = [
            {"relationship_id": r.relationship_id, "survey": r.survey, "respondent": r.respondent,
             "answered_at": now, "answers": answers}
            for r, answers in zip(responses, checked, strict=True)
        ]  # fmt: skip
        split = [
            _split_free_text(policy.survey_definitions[r.survey], answers)
            for r, answers in zip(responses, checked, strict=True)
        ]
        causes = [
            (r.relationship_id, records.answer_fact(r.survey, r.respondent, kept))
            for r, (kept, _) in zip(responses, split, strict=True)
        ]
        actors = [r.actor or actor for r in responses]
        answered = _answer_seqs(rels, responses)
        moved = goal_moves(policy, responses, checked, goal_rows, answered)
        seqs = write_facts(
            uow, policy, now, rels, RECORD_SURVEY, actor, [*causes, *(fact for fact, _, _ in moved)],
            actors=[*actors, *(by or actor for _, _, by in moved)],
            triggers=[RECORD_SURVEY] * len(causes) + [GOAL_PROGRESS] * len(moved),
        )  # fmt: skip
        if seqs[: len(rows)] != answered:
            raise RuntimeError("the survey answers' entries are not where their goals' entries name them")
        for row, (kept, text), seq in zip(rows, split, answered, strict=True):
            row.update(answers=kept, free_text=text or None, entry_seq=seq)
        records.insert_survey_responses(uow.conn, rows)
        goal_store.set_levels(uow.conn, [level for _, level, _ in moved], now)
        uow.commit()
    return [answers or {} for answers in checked]


def _answer_seqs(rels: dict[int, RelationshipRow], responses: Sequence[SurveyResponse]) -> list[int]:
    """The seq each response's entry will have: :func:`write_facts` appends a relationship's facts in
    order, the answers before the goals they move."""
    heads = {rel_id: rel.audit_seq for rel_id, rel in rels.items()}
    seqs = []
    for r in responses:
        heads[r.relationship_id] += 1
        seqs.append(heads[r.relationship_id])
    return seqs


def goal_moves(
    policy: Policy,
    responses: Sequence[SurveyResponse],
    checked: Sequence[dict[str, Any] | None],
    goal_rows: dict[int, list[GoalRow]],
    answered: Sequence[int],
) -> list[tuple[tuple[int, dict[str, Any]], tuple[int, str], str | None]]:
    """What the mentees' answers to ``goals`` questions change of their goal records: per goal given
    another level, its ``goal_progress`` fact (naming the answer's entry, of seq ``answered``), (goal id,
    level) and who answered. A mentor's view of the mentee's goals stays in the survey; a pair begun
    before goals were records has none to change."""
    last: dict[int, tuple[GoalRow, str, SurveyResponse, int]] = {}
    for r, answers, seq in zip(responses, checked, answered, strict=True):
        rows = goal_rows.get(r.relationship_id)
        if r.respondent != "mentee" or not rows or not answers:
            continue
        for q in policy.survey_definitions[r.survey].questions:
            if q.type == "goals" and answers.get(q.id):
                last.update(
                    (row.id, (row, level, r, seq)) for row, level in zip(rows, answers[q.id], strict=False)
                )
    return [
        (
            (row.relationship_id, level_fact(row.id, level, row.status, survey=r.survey, answer=seq)),
            (row.id, level),
            r.actor,
        )
        for row, level, r, seq in last.values()
        if row.status != level
    ]


def _split_free_text(survey: Survey, answers: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(every answer but free text, the free text) of one response.

    The first is what the audit entry holds and the ``answers`` column keeps;
    free text stays only in the ``free_text`` column, where it can be erased on
    request: the append-only chain must never hold what a person wrote.
    """
    kept: dict[str, Any] = {}
    text: dict[str, Any] = {}
    for qid, value in (answers or {}).items():
        q = survey.question(qid)
        (text if q is None or q.type == "text" else kept)[qid] = value
    return kept, text


@dataclass
class _SurveyCheck:
    """Checks survey responses against the policy, the pairs and what they answered before."""

    policy: Policy
    now: datetime
    rels: dict[int, RelationshipRow]
    answered: dict[int, list[SurveyAnswerRow]]
    goals: dict[int, list[str]]
    problems: Problems
    batch: set[tuple[int, str, str]] = field(default_factory=set)

    def response(self, r: SurveyResponse) -> dict[str, Any] | None:
        """The answers of ``r`` in normal form, or ``None`` after adding what is wrong with it."""
        before = len(self.problems.found)
        rel = self.rels.get(r.relationship_id)
        if rel is not None and (elsewhere := other_program(rel.id, rel.policy_name, self.policy)):
            self._add(RefusedError, r, None, elsewhere)
            return None  # the surveys of its own policy apply, not these
        if r.respondent not in RESPONDENTS:
            self._add(InputError, r, "respondent", f"{r.respondent!r} is not a respondent (mentor or mentee)")
        survey = self.policy.survey_definitions.get(r.survey)
        if survey is None:
            known = ", ".join(sorted(self.policy.survey_definitions))
            self._add(InputError, r, "survey", f"unknown survey {r.survey!r} (expected one of: {known})")
        if rel is None:
            self._add(NotFoundError, r, "relationship", f"no relationship {r.relationship_id}")
        if survey is None or rel is None or len(self.problems.found) > before:
            return None
        self._check_sent(r, rel)
        if len(self.problems.found) > before:
            return None  # a survey this respondent may not answer now: its answers do not matter
        answers, wrong = check_answers(survey, r.answers, len(self.goals.get(rel.id, [])))
        for problem in wrong:
            self._add(InputError, r, problem.question, problem.message)
        return answers if len(self.problems.found) == before else None

    def _check_sent(self, r: SurveyResponse, rel: RelationshipRow) -> None:
        plans = self.policy.survey_plans.get(rel.phase, ())
        sent = sent_in_stay(plans, rel.phase_entered_at, self.now).get(r.survey)
        if sent is None:
            when = _when_sent(self.policy, r.survey)
            self._add(
                RefusedError, r, None,
                f"the {r.survey} survey was not sent to relationship {rel.id} in its current phase "
                f"({rel.phase}){when}",
            )  # fmt: skip
        elif r.respondent == "mentor" and rel.mentor_id is None:
            self._add(RefusedError, r, None, f"relationship {rel.id} has no mentor to answer the survey")
        elif has_answered(answered_in_stay(self.answered.get(rel.id, [])), r.survey, r.respondent, sent):
            self._add(RefusedError, r, None, f"the {r.respondent} already answered the {r.survey} survey")
        elif (rel.id, r.survey, r.respondent) in self.batch:
            self._add(RefusedError, r, None, f"the {r.respondent}'s answers to {r.survey} are given twice")
        self.batch.add((rel.id, r.survey, r.respondent))

    def _add(self, kind: type[InputError], r: SurveyResponse, column: str | None, message: str) -> None:
        """A problem named by row and column for a file, by relationship and question for a command."""
        if r.where is not None:
            self.problems.add(kind, f"{r.where}: " + (f"column {column}: {message}" if column else message))
        elif column in _RESPONSE_FIELDS:
            prefix = "" if kind is NotFoundError else f"relationship {r.relationship_id}: "
            self.problems.add(kind, prefix + message)
        elif column is None:
            self.problems.add(kind, message)
        else:
            who = f"relationship {r.relationship_id}, {r.survey} survey of the {r.respondent}"
            self.problems.add(kind, f"{who}: {column}: {message}")


_RESPONSE_FIELDS = ("relationship", "respondent", "survey")


def _when_sent(policy: Policy, survey: str) -> str:
    """`` (it is sent on entering review)``: where a survey goes out under ``policy``, if anywhere."""
    places = [
        f"on entering {phase}" if plan.after is None else f"{plan.after} into {phase}"
        for phase, plans in policy.survey_plans.items()
        for plan in plans
        if plan.survey == survey
    ]
    return f" (it is sent {' and '.join(places)})" if places else " (this policy never sends it)"
