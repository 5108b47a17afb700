"""Erasing a person (GDPR art. 17) and the free text of relationships, keeping every chain verifying.

``erase_participant`` replaces every personal field of a participant by a pseudonym or nothing,
erases the free text of their relationships (reasons, meeting notes, survey answers' text, their
goals, help requests' words, proposals' and revocations' reasons) and the addresses their messages
went to, names them by id where a matching explanation or an audit entry named them, skips the
messages not yet sent to them, revokes their links and drops the API's kept answers that mention
them. One transaction; the erasure is an entry in each of their relationships' chains (trigger
``erase``, vouching for what it redacted: :mod:`engine.domain.erasure`) and in their own history.
Refused while they have an open relationship, unless the request closes those first.

``forget_relationships`` and ``forget_participants`` are the steps it is made of, for retention.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.audit import Cause
from engine.domain.erasure import erasure_entry, redactions
from engine.errors import InputError, NotFoundError, RefusedError
from engine.errors import field as named
from engine.policy.vocabulary import ERASE
from engine.store import erasure as erase_store
from engine.store import links as link_store
from engine.store import participant_entries as entry_store
from engine.store import participants as people_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.tables import LIST_FIELDS

if TYPE_CHECKING:
    from sqlalchemy import Engine, Row

    from engine.clock import Clock
    from engine.domain.lifecycle import Lifecycle

PERSONAL_FIELDS = (
    "external_id", "name", "email", "department", "manager_id", "level", "timezone", *LIST_FIELDS,
)  # fmt: skip
"""The fields of a participant an erasure replaces (the participant's own history names them)."""


@dataclass(frozen=True)
class ErasureRequest:
    """Erase ``person`` (id, external id or email) because of ``reason``; ``close`` closes their open
    relationships first (trigger ``close``, with the same reason)."""

    person: str
    reason: str
    actor: str
    close: bool = False


@dataclass
class Erasure:
    """What an erasure did."""

    participant_id: int
    closed: list[int] = field(default_factory=list)
    relationships: int = 0
    entries: int = 0
    texts: dict[str, int] = field(default_factory=dict)
    messages_skipped: int = 0


def erase_participant(store: Engine, lifecycle: Lifecycle, clock: Clock, request: ErasureRequest) -> Erasure:
    """Erase the participant of ``request``; RefusedError (nothing written) while a relationship of
    theirs is open and ``close`` is not given, NotFoundError for an unknown person."""
    reason = request.reason.strip()
    if not reason:
        raise InputError(f"{named('reason')}: say why the person is erased (e.g. the request's number)")
    terminal = lifecycle.policy.terminal_phases
    with UnitOfWork(store, write=False) as uow:
        person = _person(uow, request.person)
        if person.erased_at is not None:
            raise RefusedError(
                f"participant {request.person!r} was erased already, on {person.erased_at:%Y-%m-%d}"
            )
        still_open = _open(uow, int(person.id), terminal)
    closed = []
    if still_open and not request.close:
        raise RefusedError(
            f"participant {request.person!r} has open relationship(s): {_listed(still_open)}; "
            f"close them first, or give {named('close')} to close them with this reason"
        )
    if still_open:
        closed = _close(store, lifecycle, clock, request, reason, still_open)
    now = clock.now()
    with UnitOfWork(store) as uow:
        person = _person(uow, request.person, lock=True)
        if remaining := _open(uow, int(person.id), terminal):
            raise RefusedError(
                f"participant {request.person!r} has open relationship(s): {_listed(remaining)}"
            )
        done = _erase(uow, person, now, request.actor, reason)
        uow.commit()
    done.closed = closed
    return done


def forget_relationships(
    uow: UnitOfWork,
    now: datetime,
    rel_ids: Collection[int],
    *,
    actor: str,
    trigger: str,
    reason: str | None = None,
    refs: Collection[str] = (),
    goals_of: Collection[int] = (),
    data: Mapping[str, Any] | None = None,
) -> tuple[int, int, dict[str, int]]:
    """Erase the free text of ``rel_ids`` in their chains (and what names a person by ``refs`` or an
    address there) and outside them (the goals' texts only of ``goals_of``), appending to each chain an
    entry of ``trigger`` that vouches for what it redacted. (relationships, entries, texts erased)."""
    if not rel_ids:
        return 0, 0, {}
    versions = erase_store.versions(uow.conn, rel_ids)
    chains = erase_store.chains(uow.conn, versions)
    cause = Cause(actor, trigger, reason, dict(data or {}))
    entries, moved, redacted = [], [], 0
    for rid, chain in chains.items():
        found = redactions(chain, refs)
        redacted += erase_store.redact(uow.conn, found)
        entry = erasure_entry(chain[-1], cause, found, now)
        entries.append(entry)
        moved.append((rid, versions[rid], entry["seq"], entry["hash"]))
    rel_store.append(uow.conn, entries, [])
    erase_store.advance_heads(uow.conn, moved)
    texts = erase_store.erase_texts(uow.conn, [r for r in versions if r not in goals_of], goals_too=False)
    goals = erase_store.erase_texts(uow.conn, [r for r in versions if r in goals_of], goals_too=True)
    texts = {kind: texts[kind] + goals[kind] for kind in texts}
    return len(entries), redacted, texts


def forget_participants(
    uow: UnitOfWork, now: datetime, participant_ids: Collection[int], *, actor: str, reason: str
) -> int:
    """:func:`erase_participant`'s work for participants whose relationships are all closed (retention
    calls it for people who left long enough ago); how many were erased."""
    erased = 0
    for row in people_store.participants_by_id(uow.conn, participant_ids, lock=True).values():
        if row.erased_at is None:
            _erase(uow, row, now, actor, reason)
            erased += 1
    return erased


def _erase(uow: UnitOfWork, person: Row[Any], now: datetime, actor: str, reason: str) -> Erasure:
    pid, email, external_id = int(person.id), str(person.email), person.external_id
    if person.erased_at is not None:
        raise RefusedError(f"participant {pid} was erased already, on {person.erased_at:%Y-%m-%d}")
    mentee_of, mentor_of = people_store.relationship_ids_of(uow.conn, pid)
    refs = {email} | ({external_id} if external_id else set())
    done = Erasure(pid)
    done.relationships, done.entries, done.texts = forget_relationships(
        uow, now, [*mentee_of, *mentor_of], actor=actor, trigger=ERASE, reason=reason, refs=refs,
        goals_of=mentee_of, data={"participant_id": pid},
    )  # fmt: skip
    done.messages_skipped = erase_store.unsent_to(uow.conn, mentee_of, mentor_of, "the recipient was erased")
    _rename_in_explanations(uow, external_id or email, str(person.name), pid)
    erase_store.clear_breakdowns(uow.conn, pid)
    erase_store.pseudonymise(uow.conn, pid, email, now)
    entry_store.record_participant_change(uow.conn, pid, actor, PERSONAL_FIELDS, ERASE, now)
    link_store.insert_revocation(
        uow.conn, relationship_id=None, participant_id=pid, revoked_at=now, revoked_by=actor, reason=None
    )
    erase_store.forget_requests(uow.conn, [str(person.name), email, *(refs - {email})])
    return done


def _rename_in_explanations(uow: UnitOfWork, key: str, name: str, pid: int) -> None:
    """Name the person by id, not by name or key, in every matching explanation that names them (as a
    candidate, or in the text of why another was not proposed)."""
    pseudonym = {"key": f"#{pid}", "name": f"Erased participant {pid}"}

    def renamed(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get("key") == key and "name" in value:  # and why they were ruled out, which quotes them
                return {**value, **pseudonym, **{k: None for k in ("reasons", "why_not") if k in value}}
            return {k: renamed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [renamed(v) for v in value]
        if isinstance(value, str) and name and name in value:
            return value.replace(name, pseudonym["name"])
        return value

    found = erase_store.proposals_naming(uow.conn, [key, name])
    erase_store.set_explanations(uow.conn, [(i, renamed(x)) for i, x in found])


def _person(uow: UnitOfWork, ref: str, *, lock: bool = False) -> Row[Any]:
    row = people_store.participant_by_ref(uow.conn, ref, lock=lock)
    if row is None:
        raise NotFoundError(f"no participant {ref!r} (give an id, external id or email)")
    return row


def _open(uow: UnitOfWork, pid: int, terminal: Collection[str]) -> dict[int, str]:
    """The person's relationships not in a terminal phase (of the program's policy), with their phase."""
    return people_store.relationship_phases(uow.conn, pid, exclude=terminal)


def _listed(found: Mapping[int, str]) -> str:
    return ", ".join(f"{rid} ({phase})" for rid, phase in sorted(found.items()))


def _close(
    store: Engine,
    lifecycle: Lifecycle,
    clock: Clock,
    request: ErasureRequest,
    reason: str,
    found: Mapping[int, str],
) -> list[int]:
    """Close each of ``found`` (trigger ``close``); RefusedError naming what was closed before a refusal."""
    from engine.services.advance import AdvanceRequest, advance

    closed: list[int] = []
    for rid in sorted(found):
        try:
            advance(store, lifecycle, clock, AdvanceRequest(rid, "close", request.actor, reason))
        except (RefusedError, InputError) as exc:
            before = f" (closed before it: {', '.join(map(str, closed))})" if closed else ""
            raise RefusedError(
                f"relationship {rid} could not be closed: {exc}{before}; nothing was erased"
            ) from exc
        closed.append(rid)
    return closed
