"""Operations on who takes part: import participants, open a relationship per mentee.

Each is one transaction: a new mentee's relationship is opened in the policy's
initial phase with the first entry of its audit chain and the outbox rows of
entering that phase, in the same commit as the participant rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.domain.cadence import Standing, next_due
from engine.domain.changes import Cause, Mover
from engine.domain.participants import Participant
from engine.errors import NotFoundError, ParticipantsError
from engine.policy.model import Policy
from engine.store import audit
from engine.store import participants as people_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.clock import Clock


@dataclass(frozen=True)
class ImportSummary:
    """What a participants import did."""

    created: int
    updated: int
    unchanged: int
    relationships_opened: list[int]


def import_participants(
    store: Engine, policy: Policy, clock: Clock, people: Sequence[Participant], *, actor: str
) -> ImportSummary:
    """Add or update participants (matched by external id, else email); open a relationship per new mentee."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        existing = {_key(row): row for row in people_store.all_participants(uow.conn)}
        _refuse_taken_emails(existing, people)
        created, updated, unchanged, new_mentees = 0, 0, 0, []
        for person in people:
            values = person.model_dump(exclude={"key"})
            row = existing.get(person.key)
            if row is None:
                new_id = people_store.insert_participant(uow.conn, values, now)
                created += 1
                if person.role == "mentee":
                    new_mentees.append((new_id, person.key))
            elif any(_comparable(row[k]) != _comparable(v) for k, v in values.items()):
                people_store.update_participant(uow.conn, row["id"], values, now)
                updated += 1
            else:
                unchanged += 1
        opened = _open_relationships(uow, policy, new_mentees, actor, now)
        audit.record_policy_version(uow.conn, policy, now)
        uow.commit()
    return ImportSummary(created, updated, unchanged, opened)


def _refuse_taken_emails(existing: dict[str, Any], people: Sequence[Participant]) -> None:
    """A new participant whose email another participant already has would break the import midway."""
    owners = {row["email"]: key for key, row in existing.items()}
    clashes = [
        f"participant {p.key}: email {p.email} already belongs to participant {owners[p.email]}"
        for p in people
        if p.key not in existing and owners.get(p.email, p.key) != p.key
    ]
    if clashes:
        raise ParticipantsError("two participants cannot share an email; nothing was imported", clashes)


def _key(row: Any) -> str:
    return str(row["external_id"] or row["email"])


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple | list) else value


def open_relationships(
    store: Engine, policy: Policy, clock: Clock, mentee_ids: Sequence[int], *, actor: str
) -> list[int]:
    """Open a relationship per mentee in one transaction, writing what an import writes for each."""
    now = clock.now()
    with UnitOfWork(store) as uow:
        found = people_store.participants_by_id(uow.conn, mentee_ids)
        missing = [m for m in mentee_ids if m not in found or found[m].role != "mentee"]
        if missing:
            raise NotFoundError(f"no mentee with id {', '.join(map(str, missing[:10]))}")
        mentees = [(m, _key(found[m]._mapping)) for m in mentee_ids]
        opened = _open_relationships(uow, policy, mentees, actor, now)
        audit.record_policy_version(uow.conn, policy, now)
        uow.commit()
    return opened


def _open_relationships(
    uow: UnitOfWork, policy: Policy, mentees: Sequence[tuple[int, str]], actor: str, now: datetime
) -> list[int]:
    """A relationship per (mentee id, mentee key) in the initial phase, its chain begun, its outbox rows."""
    initial = policy.initial_phase
    due = next_due(policy, Standing(initial, now))
    rel_ids = rel_store.insert_relationships(
        uow.conn,
        [
            {"mentee_id": mentee_id, "mentor_id": None, "policy_name": policy.policy, "phase": initial,
             "phase_entered_at": now, "due_at": due, "version": 1, "audit_seq": 0, "audit_head": "",
             "created_at": now}
            for mentee_id, _ in mentees
        ],
    )  # fmt: skip
    causes = [
        Cause(actor, "create", None, {"mentee_id": mentee_id, "mentee": key}) for mentee_id, key in mentees
    ]
    mover = Mover(policy, now)
    entries = [mover.creation(i, cause) for i, cause in zip(rel_ids, causes, strict=True)]
    rel_store.set_chain_heads(uow.conn, [(e["relationship_id"], e["seq"], e["hash"]) for e in entries])
    effects = [row for rel_id in rel_ids for row in mover.effects(rel_id, 1, initial)]
    rel_store.append(uow.conn, entries, effects)
    return rel_ids
