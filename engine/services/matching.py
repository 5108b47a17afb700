"""Matching against the store: propose pairs for everyone waiting, explain, approve, reject.

A run loads the pool (the relationships of the policy's program waiting for
a mentor, every mentor with their open relationships in any program, earlier
pairs, the coordinator's rejections, reporting lines), matches it with
:mod:`engine.matching`, and stores one row per waiting relationship in
``match_proposals``: the proposed mentor with the score breakdown and
explanation (``pending``), or ``unmatched`` with the reason. Pending rows of
an earlier run of the same program are ``superseded``.

Approval fires the lifecycle's ``match`` trigger through
:func:`engine.services.advance`, so the phase change, its audit entry (which
carries the proposal, its breakdown and the approver) and its outbox rows
commit together; the proposal row is marked afterwards. Should a crash fall
in between, the next approval finds the relationship already matched to
that mentor and marks the row then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, func, select, update

from engine.clock import Clock
from engine.domain.lifecycle import Lifecycle
from engine.domain.participants import Participant
from engine.domain.programs import other_program
from engine.errors import ConflictError, InputError, NotFoundError, RefusedError
from engine.matching import proposals as matching
from engine.matching.constraints import Pool
from engine.matching.records import explanation_row, proposal_data, result_summary
from engine.policy.model import Policy
from engine.services import advance as services
from engine.store import repository as repo
from engine.store.database import UnitOfWork, translated_errors
from engine.store.tables import LIST_FIELDS, match_proposals, participants, relationships

PENDING, APPROVED, REJECTED, UNMATCHED, SUPERSEDED = (
    "pending",
    "approved",
    "rejected",
    "unmatched",
    "superseded",
)


@dataclass
class ProposalRun:
    """What ``match propose`` did: the stored rows, the totals, and the automatic approvals."""

    run: int
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    approved: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


@dataclass
class Decisions:
    """What an approval or rejection did, per relationship."""

    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def propose(store: Engine, lifecycle: Lifecycle, clock: Clock, *, actor: str) -> ProposalRun:
    """Match everyone waiting for a mentor; store the proposals; approve those the policy lets through."""
    policy = lifecycle.policy
    now = clock.now()
    with translated_errors(store), UnitOfWork(store) as uow:
        waiting, pool, ids = _load_pool(uow.conn, policy)
        result = matching.match(pool, policy.matching, now, policy.program.timezone)
        run = (
            int(uow.conn.execute(select(func.coalesce(func.max(match_proposals.c.run), 0))).scalar_one()) + 1
        )
        uow.conn.execute(
            update(match_proposals)
            .where(match_proposals.c.status.in_([PENDING, UNMATCHED]), _of_policy(policy))
            .values(status=SUPERSEDED)
        )
        rows = [
            explanation_row(e, waiting[e.mentee.key], run, result.mode, ids, policy.digest, now)
            for e in result.explanations
        ]
        if rows:
            uow.conn.execute(match_proposals.insert(), rows)
        uow.commit()
    outcome = ProposalRun(run, rows, result_summary(result, policy, run, waiting))
    threshold = policy.matching.auto_approve_at
    if threshold is not None:
        chosen = [r["relationship_id"] for r in rows if r["status"] == PENDING and r["score"] >= threshold]
        decided = _approve(store, lifecycle, clock, chosen, actor, automatic=True)
        outcome.approved, outcome.refused = decided.done, decided.refused
        for row in rows:
            if row["relationship_id"] in decided.done:
                row["status"] = APPROVED
    return outcome


def _load_pool(conn: Connection, policy: Policy) -> tuple[dict[str, int], Pool, dict[str, int]]:
    """(mentee key -> waiting relationship, the pool, participant key -> id)."""
    sources = _match_sources(policy)
    people = {row.id: row for row in conn.execute(select(participants))}
    as_participant = {pid: _participant(row) for pid, row in people.items()}
    ids = {p.key: pid for pid, p in as_participant.items()}
    waiting: dict[str, int] = {}
    query = (
        select(relationships.c.id, relationships.c.mentee_id)
        .where(
            relationships.c.policy_name == policy.policy,
            relationships.c.phase.in_(sources),
            relationships.c.mentor_id.is_(None),
        )
        .order_by(relationships.c.id)
    )
    for rel_id, mentee_id in conn.execute(query):
        waiting.setdefault(as_participant[mentee_id].key, rel_id)  # a mentee waits once, oldest first
    mentors = [p for p in as_participant.values() if p.role == "mentor"]
    # A mentor's load is global: their open relationships in every program count against capacity.
    taken = repo.active_mentee_counts(conn, [ids[m.key] for m in mentors], policy.terminal_phases)
    pool = Pool(
        mentees=[as_participant[ids[key]] for key in waiting],
        mentors=mentors,
        taken={p.key: taken.get(pid, 0) for p, pid in ((m, ids[m.key]) for m in mentors)},
        previous=_previous_pairs(conn, as_participant),
        rejected=_rejected_pairs(conn, as_participant),
        managers={
            p.external_id: p.manager_id for p in as_participant.values() if p.external_id and p.manager_id
        },
    )
    return waiting, pool, ids


def _of_policy(policy: Policy) -> ColumnElement[bool]:
    """Proposals for the relationships of ``policy``'s program (another program's are its own)."""
    return match_proposals.c.relationship_id.in_(repo.ids_of_policy(policy.policy))


def _match_sources(policy: Policy) -> list[str]:
    sources = sorted({edge.source for edge in policy.edges if edge.trigger == "match"})
    if not sources:
        raise InputError(
            f"policy {policy.policy!r} has no 'match' trigger, so nobody can be matched under it"
        )
    return sources


def _participant(row: Any) -> Participant:
    values = {name: row._mapping[name] for name in Participant.model_fields}
    values.update({name: tuple(row._mapping[name] or ()) for name in LIST_FIELDS})
    return Participant.model_construct(**values)


def _previous_pairs(conn: Connection, people: dict[int, Participant]) -> frozenset[tuple[str, str]]:
    query = (
        select(relationships.c.mentee_id, relationships.c.mentor_id)
        .where(relationships.c.mentor_id.is_not(None))
        .distinct()
    )
    return frozenset((people[a].key, people[b].key) for a, b in conn.execute(query))


def _rejected_pairs(conn: Connection, people: dict[int, Participant]) -> dict[tuple[str, str], str]:
    query = (
        select(match_proposals.c.mentee_id, match_proposals.c.mentor_id, match_proposals.c.reason)
        .where(match_proposals.c.status == REJECTED)
        .order_by(match_proposals.c.id)
    )
    return {(people[a].key, people[b].key): reason or "" for a, b, reason in conn.execute(query)}


def approve(
    store: Engine,
    lifecycle: Lifecycle,
    clock: Clock,
    rel_ids: Sequence[int] = (),
    *,
    above: float | None = None,
    actor: str,
) -> Decisions:
    """Approve pending proposals (by relationship, or every one scoring at least ``above``)."""
    if above is not None:
        with translated_errors(store), UnitOfWork(store, write=False) as uow:
            query = select(match_proposals.c.relationship_id).where(
                match_proposals.c.status == PENDING,
                match_proposals.c.score >= above,
                _of_policy(lifecycle.policy),
            )
            rel_ids = sorted(uow.conn.execute(query).scalars())
    return _approve(store, lifecycle, clock, list(rel_ids), actor, automatic=False)


def _approve(
    store: Engine, lifecycle: Lifecycle, clock: Clock, rel_ids: list[int], actor: str, *, automatic: bool
) -> Decisions:
    decided = Decisions()
    if not rel_ids:
        return decided
    policy = lifecycle.policy
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        _, pool, ids = _load_pool(uow.conn, policy)
    people = {pid: p for p in (*pool.mentees, *pool.mentors) if (pid := ids.get(p.key)) is not None}
    for rel_id in dict.fromkeys(rel_ids):
        try:
            proposal = _pending(store, rel_id)
            if not _already_matched(store, policy, proposal):
                _recheck(policy, clock.now(), proposal, pool, people)
                how = _approval_text(policy, proposal["score"]) if automatic else "by the coordinator"
                data = {"proposal": proposal_data(proposal, actor, how)}
                mentor = proposal["mentor_key"]
                services.advance(
                    store,
                    lifecycle,
                    clock,
                    services.AdvanceRequest(rel_id, "match", actor, mentor=mentor, data=data),
                )
            _mark(store, proposal["id"], APPROVED, actor, clock.now(), None)
            decided.done.append(rel_id)
        except (RefusedError, NotFoundError, ConflictError) as exc:
            decided.refused[rel_id] = exc.message
    return decided


def _approval_text(policy: Policy, score: float) -> str:
    threshold = policy.matching.auto_approve_at or 0.0
    return f"automatically: score {score:.2f} is at least auto_approve_at {threshold:.2f} ({policy.policy})"


def _pending(store: Engine, rel_id: int) -> dict[str, Any]:
    mentor = participants.alias("mentor")
    query = (
        select(match_proposals, mentor.c.external_id, mentor.c.email)
        .join(mentor, mentor.c.id == match_proposals.c.mentor_id)
        .where(match_proposals.c.relationship_id == rel_id, match_proposals.c.status == PENDING)
    )
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        row = uow.conn.execute(query).mappings().first()
    if row is None:
        raise NotFoundError(f"no pending proposal for relationship {rel_id} (see `mentorflow match propose`)")
    return {**row, "mentor_key": row["external_id"] or row["email"]}


def _already_matched(store: Engine, policy: Policy, proposal: dict[str, Any]) -> bool:
    """Whether an earlier approval matched the pair but did not get to mark the proposal.

    A proposal for a relationship of another program is refused: its own policy approves it.
    """
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        rel = repo.relationship(uow.conn, proposal["relationship_id"])
    if rel is not None and (elsewhere := other_program(rel.id, rel.policy_name, policy)):
        raise RefusedError(elsewhere)
    return rel is not None and rel.mentor_id == proposal["mentor_id"]


def _recheck(
    policy: Policy, now: datetime, proposal: dict[str, Any], pool: Pool, people: dict[int, Participant]
) -> None:
    """Refuse a proposal that today's data no longer allows (capacity is checked by the advance)."""
    mentee, mentor = people.get(proposal["mentee_id"]), people.get(proposal["mentor_id"])
    if mentee is None or mentor is None or mentor.role != "mentor":
        raise RefusedError(
            f"relationship {proposal['relationship_id']} is no longer waiting for a mentor, or the proposed "
            "mentor is no longer a mentor; run `mentorflow match propose` again"
        )
    loose = policy.matching.constraints.model_copy(update={"capacity": False})
    checked = policy.matching.model_copy(update={"constraints": loose})
    _, broken = matching.proposal_for(mentee, mentor, pool, checked, now, policy.program.timezone)
    if broken:
        reasons = "; ".join(text for _, text in broken)
        raise RefusedError(
            f"the proposal of relationship {proposal['relationship_id']} no longer holds ({reasons}); "
            "run `mentorflow match propose` again"
        )


def _mark(
    store: Engine, proposal_id: int, status: str, actor: str, now: datetime, reason: str | None
) -> None:
    with translated_errors(store), UnitOfWork(store) as uow:
        uow.conn.execute(
            update(match_proposals)
            # superseded too: a run that started while this approval was under way
            .where(match_proposals.c.id == proposal_id, match_proposals.c.status.in_([PENDING, SUPERSEDED]))
            .values(status=status, decided_by=actor, decided_at=now, reason=reason)
        )
        uow.commit()


def reject(store: Engine, clock: Clock, rel_ids: Sequence[int], reason: str, *, actor: str) -> list[int]:
    """Reject pending proposals, all or none; the pairs are never proposed again."""
    if not reason.strip():
        raise InputError("--reason: say why the proposal is rejected")
    now = clock.now()
    with translated_errors(store), UnitOfWork(store) as uow:
        query = select(match_proposals.c.relationship_id).where(
            match_proposals.c.relationship_id.in_(list(rel_ids)), match_proposals.c.status == PENDING
        )
        found = set(uow.conn.execute(query).scalars())
        missing = [r for r in rel_ids if r not in found]
        if missing:
            shown = ", ".join(map(str, missing))
            raise NotFoundError(f"no pending proposal for relationship {shown}; nothing was rejected")
        uow.conn.execute(
            update(match_proposals)
            .where(match_proposals.c.relationship_id.in_(list(rel_ids)), match_proposals.c.status == PENDING)
            .values(status=REJECTED, decided_by=actor, decided_at=now, reason=reason.strip())
        )
        uow.commit()
    return sorted(found)


def proposals_of(store: Engine, rel_id: int) -> list[dict[str, Any]]:
    """Every proposal row of a relationship, newest first, with mentee and mentor names."""
    mentee, mentor = participants.alias("mentee"), participants.alias("mentor")
    query = (
        select(
            match_proposals,
            mentee.c.name.label("mentee_name"),
            func.coalesce(mentee.c.external_id, mentee.c.email).label("mentee_key"),
            mentor.c.name.label("mentor_name"),
            func.coalesce(mentor.c.external_id, mentor.c.email).label("mentor_key"),
        )
        .join(mentee, mentee.c.id == match_proposals.c.mentee_id)
        .outerjoin(mentor, mentor.c.id == match_proposals.c.mentor_id)
        .where(match_proposals.c.relationship_id == rel_id)
        .order_by(match_proposals.c.run.desc())
    )
    with translated_errors(store), UnitOfWork(store, write=False) as uow:
        if repo.relationship(uow.conn, rel_id) is None:
            raise NotFoundError(f"no relationship {rel_id} (see `mentorflow relationships list`)")
        rows = [dict(row) for row in uow.conn.execute(query).mappings()]
    if not rows:
        raise NotFoundError(
            f"relationship {rel_id} has no matching proposal yet (run `mentorflow match propose`)"
        )
    return rows
