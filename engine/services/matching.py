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
from typing import TYPE_CHECKING, Any

from engine.domain.lifecycle import Lifecycle
from engine.domain.participants import Participant
from engine.domain.programs import other_program
from engine.errors import ConflictError, InputError, NotFoundError, RefusedError
from engine.errors import field as named
from engine.matching import proposals as matching
from engine.matching.constraints import Pool
from engine.matching.records import explanation_row, proposal_data, result_summary
from engine.policy.model import Policy
from engine.services import advance as services
from engine.services.advance_each import advance_each
from engine.services.collector import collector_paused
from engine.store import participants as people_store
from engine.store import proposals as proposal_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.proposals import APPROVED, PENDING

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, RowMapping

    from engine.clock import Clock


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
    # thousands of participants, explanations and rows, none in a reference cycle: no collections
    with collector_paused(), UnitOfWork(store) as uow:
        waiting, pool, ids = _load_pool(uow.conn, policy)
        result = matching.match(pool, policy.matching, now, policy.program.timezone)
        run = proposal_store.next_run(uow.conn)
        proposal_store.supersede_open(uow.conn, policy.policy)
        rows = [
            explanation_row(e, waiting[e.mentee.key], run, result.mode, ids, policy.digest, now)
            for e in result.explanations
        ]
        proposal_store.insert_proposals(uow.conn, rows)
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
    """(mentee key -> waiting relationship, the pool, participant key -> id).

    Everyone's keys, roles and reporting lines are read (a few columns); whole participants only for
    the pool: the active mentors and the waiting mentees.
    """
    sources = _match_sources(policy)
    everyone = _Everyone(people_store.import_keys(conn))
    ids, key_of = everyone.ids, everyone.key_of
    waiting: dict[str, int] = {}
    for rel_id, mentee_id in rel_store.waiting_for_mentor(conn, policy.policy, sources):
        if everyone.status[mentee_id] == "active":  # on leave or gone: not matched now
            waiting.setdefault(key_of[mentee_id], rel_id)  # a mentee waits once, oldest first
    mentor_ids = everyone.active_mentors()
    people = people_store.as_domain(conn, [*mentor_ids, *(ids[key] for key in waiting)])
    mentors = [people[pid] for pid in mentor_ids]
    # A mentor's load is global: their open relationships in every program count against capacity.
    taken = rel_store.active_mentee_counts(conn, [ids[m.key] for m in mentors], policy.terminal_phases)
    # the constraints of this run's mentees only: earlier pairs and rejections of the others bind nobody here
    mentee_ids = [ids[key] for key in waiting]
    pool = Pool(
        mentees=[people[ids[key]] for key in waiting],
        mentors=mentors,
        taken={p.key: taken.get(pid, 0) for p, pid in ((m, ids[m.key]) for m in mentors)},
        previous=frozenset((key_of[a], key_of[b]) for a, b in rel_store.mentored_pairs(conn, mentee_ids)),
        rejected={
            (key_of[a], key_of[b]): reason or ""
            for a, b, reason in proposal_store.rejected_pairs(conn, mentee_ids)
        },
        managers=everyone.managers,
    )
    return waiting, pool, ids


class _Everyone:
    """What a run needs of every participant (:func:`engine.store.participants.import_keys`, in the
    table's order): each one's key (the external id, else the email), status and role, and the
    reporting lines."""

    def __init__(self, rows: Sequence[RowMapping]) -> None:
        self.rows = rows
        self.key_of: dict[int, str] = {
            int(r["id"]): r["external_id"] if r["external_id"] is not None else r["email"] for r in rows
        }
        self.ids = {key: pid for pid, key in self.key_of.items()}
        self.status: dict[int, str] = {int(r["id"]): r["status"] for r in rows}
        self.managers: dict[str, str] = {
            r["external_id"]: r["manager_id"] for r in rows if r["external_id"] and r["manager_id"]
        }

    def active_mentors(self) -> list[int]:
        """The ids of the active mentors, by id (the order of the table's rows on SQLite; on PostgreSQL a
        scan's order follows the rows' updates, so the ids are sorted)."""
        return sorted(int(r["id"]) for r in self.rows if r["role"] == "mentor" and r["status"] == "active")


def _match_sources(policy: Policy) -> list[str]:
    sources = sorted({edge.source for edge in policy.edges if edge.trigger == "match"})
    if not sources:
        raise InputError(
            f"policy {policy.policy!r} has no 'match' trigger, so nobody can be matched under it"
        )
    return sources


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
        with UnitOfWork(store, write=False) as uow:
            rel_ids = proposal_store.pending_scoring(uow.conn, lifecycle.policy.policy, above)
    return _approve(store, lifecycle, clock, list(rel_ids), actor, automatic=False)


def _approve(
    store: Engine, lifecycle: Lifecycle, clock: Clock, rel_ids: list[int], actor: str, *, automatic: bool
) -> Decisions:
    if not rel_ids:
        return Decisions()
    policy = lifecycle.policy
    with UnitOfWork(store, write=False) as uow:
        _, pool, ids = _load_pool(uow.conn, policy)
    people = {pid: p for p in (*pool.mentees, *pool.mentors) if (pid := ids.get(p.key)) is not None}
    approval = _Approval(lifecycle, clock.now(), pool, people, actor, automatic)
    wanted = list(dict.fromkeys(rel_ids))
    try:
        return approval.together(store, wanted)
    except ConflictError:  # a pair changed by another writer meanwhile: each on its own, as it comes
        return approval.in_turn(store, clock, wanted)


@dataclass
class _Approval:
    """Approving proposals: the checks of each, the entry data of its match, and the two ways of writing.

    :meth:`together` approves them all in one transaction (the matches through
    :func:`engine.services.advance_each.advance_each`, which refuses each on its own, and the marks), so a
    crash leaves none matched but unmarked; :meth:`in_turn` is an advance and a mark per proposal.
    Either way, a relationship already matched to the proposed mentor (a crash between the two, in
    a version that wrote them apart) has its proposal marked without being matched again.
    """

    lifecycle: Lifecycle
    now: datetime
    pool: Pool
    people: dict[int, Participant]
    actor: str
    automatic: bool

    def together(self, store: Engine, rel_ids: list[int]) -> Decisions:
        decided, policy = Decisions(), self.lifecycle.policy
        with UnitOfWork(store) as uow:
            found = proposal_store.pending_proposals(uow.conn, rel_ids)
            rels = rel_store.relationship_rows(uow.conn, list(found))
            marked: dict[int, int] = {}  # relationship -> its proposal, to mark approved
            requests: dict[int, services.AdvanceRequest] = {}
            for rel_id in rel_ids:
                try:
                    proposal = _proposal(rel_id, found.get(rel_id))
                    rel = rels.get(rel_id)
                    if rel is not None and (elsewhere := other_program(rel.id, rel.policy_name, policy)):
                        raise RefusedError(elsewhere)
                    if rel is None or rel.mentor_id != proposal["mentor_id"]:
                        requests[rel_id] = self.request(proposal)
                    marked[rel_id] = proposal["id"]
                except (RefusedError, NotFoundError) as exc:
                    decided.refused[rel_id] = exc.message
            moved = advance_each(uow, self.lifecycle, self.now, list(requests.values()))
            decided.refused.update(moved.refused)
            decided.done = [rel_id for rel_id in rel_ids if rel_id in marked and rel_id not in moved.refused]
            proposals = [marked[rel_id] for rel_id in decided.done]
            proposal_store.mark_all_decided(uow.conn, proposals, APPROVED, self.actor, self.now, None)
            uow.commit()
        decided.refused = {rel_id: decided.refused[rel_id] for rel_id in rel_ids if rel_id in decided.refused}
        return decided

    def in_turn(self, store: Engine, clock: Clock, rel_ids: list[int]) -> Decisions:
        decided = Decisions()
        for rel_id in rel_ids:
            try:
                proposal = _pending(store, rel_id)
                if not _already_matched(store, self.lifecycle.policy, proposal):
                    services.advance(store, self.lifecycle, clock, self.request(proposal))
                _mark(store, proposal["id"], APPROVED, self.actor, clock.now(), None)
                decided.done.append(rel_id)
            except (RefusedError, NotFoundError, ConflictError) as exc:
                decided.refused[rel_id] = exc.message
        return decided

    def request(self, proposal: dict[str, Any]) -> services.AdvanceRequest:
        """The match of ``proposal``, once it is checked against today's data; RefusedError if it fails."""
        policy = self.lifecycle.policy
        _recheck(policy, self.now, proposal, self.pool, self.people)
        how = _approval_text(policy, proposal["score"]) if self.automatic else "by the coordinator"
        data = {"proposal": proposal_data(proposal, self.actor, how)}
        rel_id, mentor = proposal["relationship_id"], proposal["mentor_key"]
        return services.AdvanceRequest(rel_id, "match", self.actor, mentor=mentor, data=data)


def _approval_text(policy: Policy, score: float) -> str:
    threshold = policy.matching.auto_approve_at or 0.0
    return f"automatically: score {score:.2f} is at least auto_approve_at {threshold:.2f} ({policy.policy})"


def _pending(store: Engine, rel_id: int) -> dict[str, Any]:
    with UnitOfWork(store, write=False) as uow:
        row = proposal_store.pending_proposal(uow.conn, rel_id)
    return _proposal(rel_id, row)


def _proposal(rel_id: int, row: RowMapping | None) -> dict[str, Any]:
    """The pending proposal ``row`` of ``rel_id`` with its mentor's reference; NotFoundError if none."""
    if row is None:
        raise NotFoundError(f"no pending proposal for relationship {rel_id} (see `mentorflow match propose`)")
    return {**row, "mentor_key": row["external_id"] or row["email"]}


def _already_matched(store: Engine, policy: Policy, proposal: dict[str, Any]) -> bool:
    """Whether an earlier approval matched the pair but did not get to mark the proposal.

    A proposal for a relationship of another program is refused: its own policy approves it.
    """
    with UnitOfWork(store, write=False) as uow:
        rel = rel_store.relationship(uow.conn, proposal["relationship_id"])
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
    with UnitOfWork(store) as uow:
        # superseded too: a run that started while this approval was under way
        proposal_store.mark_decided(uow.conn, proposal_id, status, actor, now, reason)
        uow.commit()


def reject(store: Engine, clock: Clock, rel_ids: Sequence[int], reason: str, *, actor: str) -> list[int]:
    """Reject pending proposals, all or none; the pairs are never proposed again."""
    if not reason.strip():
        raise InputError(f"{named('reason')}: say why the proposal is rejected")
    now = clock.now()
    with UnitOfWork(store) as uow:
        found = proposal_store.pending_among(uow.conn, rel_ids)
        missing = [r for r in rel_ids if r not in found]
        if missing:
            shown = ", ".join(map(str, missing))
            raise NotFoundError(f"no pending proposal for relationship {shown}; nothing was rejected")
        proposal_store.reject_pending(uow.conn, rel_ids, actor, now, reason.strip())
        uow.commit()
    return sorted(found)


def proposals_of(store: Engine, rel_id: int) -> list[dict[str, Any]]:
    """Every proposal row of a relationship, newest first, with mentee and mentor names."""
    with UnitOfWork(store, write=False) as uow:
        if rel_store.relationship(uow.conn, rel_id) is None:
            raise NotFoundError(f"no relationship {rel_id} (see `mentorflow relationships list`)")
        rows = proposal_store.proposals_of(uow.conn, rel_id)
    if not rows:
        raise NotFoundError(
            f"relationship {rel_id} has no matching proposal yet (run `mentorflow match propose`)"
        )
    return rows
