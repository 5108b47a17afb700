"""Many operators' requests advanced in one transaction: the coordinator's approvals, each its own.

:func:`advance_each` does what :func:`engine.services.advance.advance` does for each request in turn
(the same checks, refusals, audit entries and outbox rows), with each query made once for them all,
in the caller's transaction. Unlike :func:`engine.services.advance.advance_many`, every request names
its own trigger, mentor, reason and entry data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.change_rows import Change
from engine.domain.changes import Cause, Mover
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, NotFoundError, RefusedError
from engine.errors import field as named
from engine.policy.model import Policy
from engine.services.advance import (
    AdvanceRequest,
    BatchResult,
    _check_program,
    _has_mentor,
    _no_mentor,
    _write,
)
from engine.services.facts import NO_MEETINGS, load_facts
from engine.store import participants as people_store
from engine.store import records
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.relationships import RelationshipRow

if TYPE_CHECKING:
    from sqlalchemy import Row

    from engine.matching.manual import Overrides
    from engine.services.pairing import PairCheck


def advance_each(
    uow: UnitOfWork, lifecycle: Lifecycle, now: datetime, requests: Sequence[AdvanceRequest]
) -> BatchResult:
    """:func:`~engine.services.advance.advance` of each of ``requests`` (one per relationship), in the
    caller's transaction (which commits). A refused request is skipped and the others go on.

    ``moved`` keeps the order of ``requests``. Overrides are validated first, so an InputError stops
    them all before anything is read. A mentee with two requests has the second checked after the
    first is written (as in turn: the first pair is then an earlier pair of theirs). A ConflictError
    (a row changed meanwhile) leaves the caller's transaction to roll back.
    """
    allowed = {r.relationship_id: _overrides_of(r) for r in requests}
    result, order = BatchResult(), {r.relationship_id: n for n, r in enumerate(requests)}
    pending = list({r.relationship_id: r for r in requests}.values())
    while pending:
        read = _Round.read(uow, lifecycle, now, pending)
        _advance_round(uow, lifecycle, now, read, allowed, result)
        pending = read.later
    result.moved.sort(key=order.__getitem__)
    return result


def _overrides_of(request: AdvanceRequest) -> Overrides | None:
    """What ``request`` overrules (``None``: it names no mentor), or InputError as ``advance`` says."""
    if request.mentor is None:
        if request.overrides:
            raise InputError(f"{named('override')} applies to a mentor chosen by hand ({named('mentor')})")
        return None
    from engine.matching.manual import overrides

    return overrides(request.overrides, request.reason)


def _first_of_each_mentee(
    requests: list[AdvanceRequest], mentees: Mapping[int, int]
) -> tuple[list[AdvanceRequest], list[AdvanceRequest]]:
    """The first request of each mentee among ``requests``, and the others (to advance next round)."""
    first, later, seen = [], [], set()
    for request in requests:
        mentee = mentees.get(request.relationship_id)
        if mentee is not None and mentee in seen:
            later.append(request)
        else:
            first.append(request)
            seen.add(mentee)
    return first, later


@dataclass
class _Round:
    """What one round of requests reads, once for them all: the relationships (locked), their mentees,
    the mentors named (locked, as ``advance`` locks its mentor, so that two pairs matched at once
    cannot both take a last place) and their open pairs, the pair checks, meetings and facts. The
    round advances the first request of each mentee; ``later`` holds the others, for the next."""

    requests: list[AdvanceRequest]
    later: list[AdvanceRequest]
    rels: dict[int, RelationshipRow]
    mentees: dict[int, int]
    by_ref: dict[str, Row[Any]]
    taken: dict[int, int]
    pairs: PairCheck | None
    meetings: dict[int, Any]
    facts: dict[int, Any]

    @classmethod
    def read(
        cls, uow: UnitOfWork, lifecycle: Lifecycle, now: datetime, pending: list[AdvanceRequest]
    ) -> _Round:
        from engine.services.pairing import PairCheck

        conn, policy = uow.conn, lifecycle.policy
        rels = rel_store.relationship_rows(conn, [r.relationship_id for r in pending], lock=True)
        mentees = rel_store.mentees(rels)
        requests, later = _first_of_each_mentee(pending, mentees)
        by_ref = people_store.participants_by_refs(conn, {r.mentor for r in requests if r.mentor}, lock=True)
        mentor_ids = {int(row.id) for row in by_ref.values()}
        taken = {m: 0 for m in mentor_ids} | rel_store.active_mentee_counts(
            conn, mentor_ids, policy.terminal_phases
        )
        checked = [mentees[r.relationship_id] for r in requests if r.mentor and r.relationship_id in mentees]
        pairs = PairCheck.load(conn, policy, now, checked, mentor_ids) if checked else None
        wanted = {
            r.relationship_id: int(by_ref[r.mentor].id)
            for r in requests
            if r.mentor is not None and r.mentor in by_ref and r.relationship_id in rels
        }
        present = [rels[r.relationship_id] for r in requests if r.relationship_id in rels]
        meetings = records.meeting_stats(conn, [rel.id for rel in present])
        facts: dict[int, Any] = {}
        for reason in dict.fromkeys(r.reason for r in requests):
            given = [r for r in requests if r.reason == reason and r.relationship_id in rels]
            alike = [rels[r.relationship_id] for r in given]
            # only the stored facts the conditions of these requests' triggers read, as ``advance`` loads
            reads = frozenset[str]().union(
                *(lifecycle.reads(t) for t in dict.fromkeys(r.trigger for r in given))
            )
            facts.update(load_facts(uow, policy, alike, now, reason, dict(wanted), meetings, reads=reads))
        return cls(requests, later, rels, mentees, by_ref, taken, pairs, meetings, facts)

    def mentor_for(
        self, rel: RelationshipRow, request: AdvanceRequest, allowed: Overrides | None
    ) -> tuple[int | None, dict[str, Any]]:
        """The mentor ``request`` attaches and what the entry says of them, checked as ``advance``
        checks it; raises its RefusedError or NotFoundError."""
        from engine.services.pairing import mentor_data

        if request.mentor is None:
            return rel.mentor_id, {}
        mentor = self.by_ref.get(request.mentor)
        if mentor is None:
            raise NotFoundError(_no_mentor(request.mentor))
        mentor_id, data = int(mentor.id), mentor_data(mentor)
        if rel.mentor_id is not None and rel.mentor_id != mentor_id:
            raise RefusedError(_has_mentor(rel.id, rel.mentor_id))
        if rel.mentor_id is None:
            assert self.pairs is not None and allowed is not None
            broken = self.pairs.check(
                self.mentees[rel.id], mentor, request.mentor, self.taken[mentor_id], allowed, mentor_id
            )
            data = {**data, **allowed.data(broken)}
        return mentor_id, data


def _advance_round(
    uow: UnitOfWork, lifecycle: Lifecycle, now: datetime, read: _Round,
    allowed: Mapping[int, Overrides | None], result: BatchResult,
) -> None:  # fmt: skip
    """Advance the requests of one round (no two of one mentee), each refused on its own."""
    policy = lifecycle.policy
    mover, changes = Mover(policy, now), list[Change]()
    for request in read.requests:
        rel = read.rels.get(request.relationship_id)
        if rel is None:
            result.refused[request.relationship_id] = f"no relationship {request.relationship_id}"
            continue
        try:
            _check_program(rel, policy)
            mentor_id, data = read.mentor_for(rel, request, allowed[rel.id])
            move = lifecycle.fire(rel.phase, request.trigger, read.facts[rel.id])
        except (RefusedError, NotFoundError) as exc:
            result.refused[rel.id] = exc.message
            continue
        entry = {**data, **(request.data or {}), "requires": [c.name for c in move.edge.requires]}
        cause = Cause(request.actor, request.trigger, request.reason, entry)
        last = read.meetings.get(rel.id, NO_MEETINGS)[2]
        changes.append(mover.change(rel, move.dest, cause, mentor_id=mentor_id, last_meeting_at=last))
        _count_move(read.taken, policy, rel, move.dest, mentor_id)
        result.moved.append(rel.id)
    if changes:
        _write(uow, policy, changes, now)


def _count_move(
    taken: dict[int, int], policy: Policy, rel: RelationshipRow, dest: str, mentor_id: int | None
) -> None:
    """Keep ``taken`` (open relationships per mentor) as the store counts them once ``rel`` moved."""
    terminal = policy.terminal_phases
    if rel.mentor_id in taken and rel.phase not in terminal:
        taken[rel.mentor_id] -= 1
    after = mentor_id if mentor_id is not None else rel.mentor_id
    if after in taken and dest not in terminal:
        taken[after] += 1
