"""What a participant's page shows once their personal link opened: read-only, for ``mentorflow web``.

A page needs a little more than :class:`~engine.services.links.OpenedLink` says:
the person's language and external id (the actor of what they record), the
pair's phase and start, the mentee's development goals (a survey's ``goals``
question lists them), which surveys were sent in the current stay and which of
them this person answered, and the meetings recorded so far. All of it is read
here with the same store functions the recording service checks against, so a
page offers what :mod:`engine.services.recording` will accept; the service
checks again when the page submits, in its own transaction. Nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from engine.domain.surveys import answered_in_stay, has_answered, sent_in_stay
from engine.policy.model import Policy
from engine.services.links import OpenedLink, link_actor
from engine.store import goals as goal_store
from engine.store import participants as people_store
from engine.store import records
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class PageGoal:
    """One of the mentee's development goals as their page shows it: ``program_goal`` is the id of the
    program goal it serves, ``level`` how far the mentee got (one of ``GOAL_LEVELS``)."""

    id: int
    title: str
    program_goal: str | None
    target_date: date | None
    level: str


@dataclass(frozen=True)
class LinkPage:
    """The relationship and the person a link opened, as their page needs them.

    ``open_surveys``: the surveys sent in the current stay that this person has not answered, latest
    first; ``answered_surveys``: those they answered. ``meetings``: (kind, held on) of every meeting
    recorded and not retracted. ``goal_records``: the mentee's goals as records, in the order they were
    set (``goals`` also holds a profile's goals for a pair begun before goals were records).
    """

    relationship_id: int
    role: str
    participant_id: int
    external_id: str | None
    email: str
    languages: tuple[str, ...]
    trained: bool
    policy_name: str
    phase: str
    mentor_id: int | None
    began: datetime
    goals: tuple[str, ...]
    open_surveys: tuple[str, ...]
    answered_surveys: tuple[str, ...]
    meetings: tuple[tuple[str, datetime], ...]
    goal_records: tuple[PageGoal, ...] = ()

    @property
    def reference(self) -> str:
        """How the services find this person (their external id, else their email: never a bare number,
        which could also be someone's external id)."""
        return self.external_id or self.email

    @property
    def actor(self) -> str:
        """Who the audit history says recorded what this page submits."""
        return link_actor(self.external_id, self.participant_id)


def link_page(store: Engine, policy: Policy, opened: OpenedLink, now: datetime) -> LinkPage | None:
    """What the page of ``opened`` shows at ``now``; ``None`` if the relationship or person is gone."""
    rel_id = opened.relationship_id
    with UnitOfWork(store, write=False) as uow:
        rel = rel_store.relationship_rows(uow.conn, [rel_id]).get(rel_id)
        person = people_store.participants_by_id(uow.conn, [opened.participant_id]).get(opened.participant_id)
        if rel is None or person is None:
            return None
        began = records.relationship_starts(uow.conn, [rel_id])[rel_id]
        goals = goal_store.mentee_goals(uow.conn, [rel_id]).get(rel_id, [])
        rows = goal_store.goal_rows(uow.conn, [rel_id]).get(rel_id, [])
        answered_rows = records.survey_answers(uow.conn, [rel]).get(rel_id, [])
        held = records.same_day_meetings(uow.conn, [rel_id]).get(rel_id, [])
    sent = sent_in_stay(policy.survey_plans.get(rel.phase, ()), rel.phase_entered_at, now)
    answered = answered_in_stay(answered_rows)
    done = [name for name, at in sent.items() if has_answered(answered, name, opened.role, at)]
    latest_first = sorted(
        (name for name in sent if name not in done), key=lambda name: sent[name], reverse=True
    )
    return LinkPage(
        relationship_id=rel_id, role=opened.role, participant_id=opened.participant_id,
        external_id=person.external_id, email=person.email, languages=tuple(person.languages or ()),
        trained=bool(person.trained), policy_name=rel.policy_name, phase=rel.phase, mentor_id=rel.mentor_id,
        began=began, goals=tuple(goals), open_surveys=tuple(latest_first), answered_surveys=tuple(done),
        meetings=tuple(held),
        goal_records=tuple(PageGoal(g.id, g.title, g.program_goal, g.target_date, g.status) for g in rows),
    )  # fmt: skip
