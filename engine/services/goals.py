"""A mentee's development goals: set (by the mentee through their link, by a coordinator, from the
participants file), and how far they got with each (from the link, the command line, a survey).

Every goal set and every change of its level is an audit entry of its
relationship's chain (trigger ``set_goal`` or ``goal_progress``, in the phase it
happened in), holding the goal's id, the program goal it serves, its target date
and its level: never its title, which is the mentee's own words and may be
erased. All items of a batch are checked first; one bad item and nothing is
written. Each relationship written becomes due, so the next tick reconsiders it
(a condition like ``goals_reached`` may now hold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from engine.domain.programs import other_program
from engine.errors import InputError, NotFoundError, RefusedError
from engine.policy.model import Policy
from engine.policy.surveys import GOAL_LEVELS
from engine.policy.vocabulary import GOAL_PROGRESS, SET_GOAL
from engine.services.fact_writing import Problems, write_facts
from engine.store import goals as goal_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.goals import GoalRow, goal_fact, level_fact
from engine.store.relationships import RelationshipRow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.clock import Clock

MAX_GOALS = 12  # per relationship: a mentee works on a few goals, not a backlog
MAX_TITLE = 200


@dataclass(frozen=True)
class NewGoal:
    """A development goal to set for the mentee of a relationship; ``where`` names its source in errors."""

    relationship_id: int
    title: str
    program_goal: str | None = None
    target: date | None = None
    actor: str | None = None  # who set it; the batch's actor where None
    where: str | None = None


@dataclass(frozen=True)
class GoalLevel:
    """How far the mentee of a relationship got with one of their goals (by its id)."""

    relationship_id: int
    goal_id: int
    level: str
    actor: str | None = None
    where: str | None = None


def set_goals(
    store: Engine, policy: Policy, clock: Clock, new: Sequence[NewGoal], *, actor: str, single: bool = False
) -> list[int]:
    """Set development goals, all or nothing; returns their ids, in order."""
    now, problems = clock.now(), Problems()
    with UnitOfWork(store) as uow:
        ids = sorted({g.relationship_id for g in new})
        rels = rel_store.relationship_rows(uow.conn, ids, lock=True)
        check = _GoalCheck(policy, _today(policy, now), rels, goal_store.goal_rows(uow.conn, ids), problems)
        for goal in new:
            check.new(goal)
        problems.raise_any("goals", single=single)
        goal_ids = write_goals(uow, policy, now, rels, new, actor)
        uow.commit()
    return goal_ids


def write_goals(
    uow: UnitOfWork,
    policy: Policy,
    now: datetime,
    rels: dict[int, RelationshipRow],
    new: Sequence[NewGoal],
    actor: str,
) -> list[int]:
    """Write checked goals and their ``set_goal`` entries in the caller's transaction; their ids."""
    goal_ids = _insert(uow, new, actor, now)
    facts = [
        (g.relationship_id, goal_fact(gid, g.program_goal, g.target))
        for g, gid in zip(new, goal_ids, strict=True)
    ]
    seqs = write_facts(uow, policy, now, rels, SET_GOAL, actor, facts, actors=[g.actor or actor for g in new])
    goal_store.set_entry_seqs(uow.conn, list(zip(goal_ids, seqs, strict=True)))
    return goal_ids


def _insert(
    uow: UnitOfWork, new: Sequence[NewGoal], actor: str, now: datetime, seq: int | None = None,
    *, first: bool = False,
) -> list[int]:  # fmt: skip
    """Insert the goal rows of ``new``; ``first``: their relationships have none yet (one driver call)."""
    rows = [
        {"relationship_id": g.relationship_id, "text": tidy(g.title), "program_goal": g.program_goal,
         "target_date": g.target, "status": "not_started", "set_by": g.actor or actor, "created_at": now,
         "entry_seq": seq}
        for g in new
    ]  # fmt: skip
    if not rows:
        return []
    return (goal_store.insert_first_goals if first else goal_store.insert_goals)(uow.conn, rows)


def created_goals(
    uow: UnitOfWork, policy: Policy, now: datetime, mentee_of: dict[int, int], actor: str,
    *, profiles: Mapping[int, Sequence[str]] | None = None,
) -> dict[int, list[dict[str, object]]]:  # fmt: skip
    """The goals the participants file names for the mentee of each new relationship (by relationship id,
    its mentee's id), written as its goal records in the caller's transaction; per relationship with
    any, what its creation entry (seq 1) records of them (:func:`goal_fact` each): that entry sets them.

    A goal written ``ID: title`` with ID a program goal of the policy serves it (``leadership: Lead
    the team meeting``); any other text is the title as it stands."""
    new = _from_profiles(uow, policy, mentee_of, fresh=True, profiles=profiles)
    made: dict[int, list[dict[str, object]]] = {}
    for g, gid in zip(new, _insert(uow, new, actor, now, seq=1, first=True), strict=True):
        made.setdefault(g.relationship_id, []).append(goal_fact(gid, g.program_goal, g.target)["goal"])
    return made


def add_profile_goals(
    uow: UnitOfWork, policy: Policy, now: datetime, mentee_of: dict[int, int], actor: str
) -> list[int]:
    """The goals a re-import adds to the profiles of the mentees of open relationships (by relationship
    id, its mentee's id), set as their records with a ``set_goal`` entry each; none is removed."""
    new = _from_profiles(uow, policy, mentee_of)
    if not new:
        return []
    rels = rel_store.relationship_rows(uow.conn, sorted({g.relationship_id for g in new}))
    return write_goals(uow, policy, now, rels, new, actor)


def _from_profiles(
    uow: UnitOfWork, policy: Policy, mentee_of: dict[int, int], *, fresh: bool = False,
    profiles: Mapping[int, Sequence[str]] | None = None,
) -> list[NewGoal]:  # fmt: skip
    """The goals of the mentees' profiles (read, unless ``profiles`` gives them) that their relationships
    do not have yet (``fresh`` ones have none), as goals to set."""
    if profiles is None or any(m not in profiles for m in mentee_of.values()):
        profiles = goal_store.profile_goals_of(uow.conn, list(mentee_of.values()))
    have = {} if fresh else goal_store.goal_rows(uow.conn, list(mentee_of))
    known = {goal.id for goal in policy.program.goal_list}
    return [
        NewGoal(rel_id, title, program_goal)
        for rel_id, mentee in mentee_of.items()
        for title, program_goal in _distinct(profiles.get(mentee, ()), known, have.get(rel_id, []))
    ]


def _distinct(texts: Sequence[str], known: set[str], have: Sequence[GoalRow]) -> list[tuple[str, str | None]]:
    """(title, program goal) of each of a profile's goals not among ``have``, the first of each title, up
    to MAX_GOALS in all."""
    found: dict[str, tuple[str, str | None]] = {
        " ".join(g.title.split()).casefold(): ("", None) for g in have
    }
    for text in texts:
        head, colon, rest = text.partition(":")
        served = head.strip().lower() if colon and head.strip().lower() in known and rest.strip() else None
        title = tidy(rest if served else text)[:MAX_TITLE]
        if title:
            found.setdefault(title.casefold(), (title, served))
    return [item for item in list(found.values())[:MAX_GOALS] if item[0]]


def record_levels(
    store: Engine,
    policy: Policy,
    clock: Clock,
    levels: Sequence[GoalLevel],
    *,
    actor: str,
    single: bool = False,
) -> int:
    """Record how far mentees got with their goals, all or nothing; returns how many goals changed (a goal
    given the level it has changes nothing and writes no entry)."""
    now, problems = clock.now(), Problems()
    with UnitOfWork(store) as uow:
        ids = sorted({g.relationship_id for g in levels})
        rels = rel_store.relationship_rows(uow.conn, ids, lock=True)
        check = _GoalCheck(policy, _today(policy, now), rels, goal_store.goal_rows(uow.conn, ids), problems)
        changed = [(item, was) for item in levels if (was := check.level(item)) is not None]
        problems.raise_any("goal levels", single=single)
        if changed:
            facts = [(g.relationship_id, level_fact(g.goal_id, g.level, was)) for g, was in changed]
            actors = [g.actor or actor for g, _ in changed]
            write_facts(uow, policy, now, rels, GOAL_PROGRESS, actor, facts, actors=actors)
            goal_store.set_levels(uow.conn, [(g.goal_id, g.level) for g, _ in changed], now)
        uow.commit()
    return len(changed)


def tidy(title: str) -> str:
    """A title on one line, its runs of white space one space."""
    return " ".join(title.split())


def goal_rows_of(store: Engine, policy: Policy, rel_id: int | None = None) -> list[GoalRow]:
    """The development goals of the pairs of ``policy``'s program (or of relationship ``rel_id``), each
    relationship's in the order they were set; an unknown relationship or another program's is refused."""
    with UnitOfWork(store, write=False) as uow:
        if rel_id is None:
            ids: list[int] = list(uow.conn.scalars(rel_store.ids_of_policy(policy.policy)))
        else:
            rel = rel_store.relationship_rows(uow.conn, [rel_id]).get(rel_id)
            if rel is None:
                raise NotFoundError(f"no relationship {rel_id}")
            if (elsewhere := other_program(rel_id, rel.policy_name, policy)) is not None:
                raise RefusedError(elsewhere)
            ids = [rel_id]
        found = goal_store.goal_rows(uow.conn, ids)
    return [goal for rows in found.values() for goal in rows]


def goal_list(store: Engine, policy: Policy, rel_id: int | None = None) -> list[dict[str, object]]:
    """:func:`goal_rows_of` as rows to print: id, relationship, title, program goal, target date, level,
    who set it, when it was set, changed and reached."""
    return [
        {"id": g.id, "rel": g.relationship_id, "title": g.title, "program_goal": g.program_goal,
         "target_date": g.target_date and g.target_date.isoformat(), "status": g.status, "set_by": g.set_by,
         "created_at": g.created_at, "updated_at": g.updated_at, "reached_at": g.reached_at}
        for g in goal_rows_of(store, policy, rel_id)
    ]  # fmt: skip


def _today(policy: Policy, now: datetime) -> date:
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(policy.program.timezone)).date()


@dataclass
class _GoalCheck:
    """Checks goals to set and levels to record against the policy, the pairs and their goals."""

    policy: Policy
    today: date
    rels: dict[int, RelationshipRow]
    goals: dict[int, list[GoalRow]]
    problems: Problems
    batch: dict[int, list[str]] | None = None
    levels: dict[int, str] = field(default_factory=dict)  # goal id -> its level as the batch left it

    def new(self, g: NewGoal) -> None:
        before = len(self.problems.found)
        title = tidy(g.title)
        if not title:
            self._add(InputError, g, "title", "the goal has no title (expected a few words)")
        elif len(title) > MAX_TITLE:
            self._add(InputError, g, "title", f"the title is {len(title)} characters (at most {MAX_TITLE})")
        known = [p.id for p in self.policy.program.goal_list]
        if g.program_goal is not None and g.program_goal not in known:
            expected = (
                f"expected one of: {', '.join(known)}" if known else "the policy names no program goals"
            )
            self._add(InputError, g, "program_goal", f"unknown program goal {g.program_goal!r} ({expected})")
        if g.target is not None and g.target < self.today:
            self._add(InputError, g, "target", f"{g.target} is in the past (a target date is still to come)")
        if not self._open(g) or len(self.problems.found) > before:
            return
        have = self.batch_titles(g.relationship_id)
        if title.casefold() in have:
            self._add(
                RefusedError, g, None, f"relationship {g.relationship_id} already has the goal {title!r}"
            )
        elif len(have) >= MAX_GOALS:
            self._add(
                RefusedError, g, None, f"relationship {g.relationship_id} has {MAX_GOALS} goals already"
            )
        have.append(title.casefold())

    def batch_titles(self, rel_id: int) -> list[str]:
        if self.batch is None:
            self.batch = {}
        if rel_id not in self.batch:
            self.batch[rel_id] = [tidy(r.title).casefold() for r in self.goals.get(rel_id, [])]
        return self.batch[rel_id]

    def level(self, g: GoalLevel) -> str | None:
        """The level the goal of ``g`` has, if ``g`` changes it (after adding what is wrong, if anything);
        a batch that moves one goal twice moves it from where the first move left it."""
        if g.level not in GOAL_LEVELS:
            expected = ", ".join(GOAL_LEVELS)
            self._add(
                InputError, g, "level", f"{g.level!r} is not a goal level (expected one of: {expected})"
            )
            return None
        if not self._open(g):
            return None
        goal = next((r for r in self.goals.get(g.relationship_id, []) if r.id == g.goal_id), None)
        if goal is None:
            self._add(NotFoundError, g, "goal", f"relationship {g.relationship_id} has no goal {g.goal_id}")
            return None
        was = self.levels.get(goal.id, goal.status)
        self.levels[goal.id] = g.level
        return was if was != g.level else None

    def _open(self, g: NewGoal | GoalLevel) -> bool:
        rel = self.rels.get(g.relationship_id)
        if rel is None:
            self._add(NotFoundError, g, "relationship", f"no relationship {g.relationship_id}")
        elif (elsewhere := other_program(rel.id, rel.policy_name, self.policy)) is not None:
            self._add(RefusedError, g, None, elsewhere)
        elif (phase := self.policy.phases.get(rel.phase)) is not None and phase.terminal:
            self._add(RefusedError, g, None, f"relationship {rel.id} is {rel.phase}: its goals are final")
        else:
            return True
        return False

    def _add(self, kind: type[InputError], g: NewGoal | GoalLevel, column: str | None, message: str) -> None:
        """A problem named by where the item came from: a JSON pointer (``/goals/2/title: ...``), a file's
        row (``goals.csv:row 3: column title: ...``), or nothing (a command's one item)."""
        if g.where is None:
            self.problems.add(kind, message)
        elif g.where.startswith("/"):
            self.problems.add(kind, f"{g.where}/{column}: {message}" if column else f"{g.where}: {message}")
        else:
            self.problems.add(
                kind, f"{g.where}: column {column}: {message}" if column else f"{g.where}: {message}"
            )
