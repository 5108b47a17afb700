"""Taking back a meeting or survey answer recorded in error: a new audit entry, never an edit.

``retract`` appends an entry (trigger ``retract``, from and to the pair's
current phase) whose data names the retracted entry's seq and what it recorded.
The meeting or answer row stays as it was (the rows are append-only); the
conditions, the cadence, the report and insights leave out every record a
``retract`` entry names. An answer is corrected by retracting it and answering
again: a retracted answer no longer counts as given. A mentee's answer that
moved their goals (``goal_progress`` entries naming it) puts each goal back
where it was, with a ``goal_progress`` entry naming the retracted entry, unless
the goal has moved on since.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.domain.programs import other_program
from engine.errors import InputError, NotFoundError, RefusedError, field
from engine.policy.model import Policy
from engine.policy.vocabulary import GOAL_PROGRESS, RECORD_MEETING, RECORD_RETRACT, RECORD_SURVEY
from engine.services.fact_writing import write_facts
from engine.store import goals as goal_store
from engine.store import records
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.goals import level_fact

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.clock import Clock

RETRACTABLE = {RECORD_MEETING: "a meeting", RECORD_SURVEY: "a survey answer"}


def retract(
    store: Engine, policy: Policy, clock: Clock, rel_id: int, seq: int, *, reason: str, actor: str
) -> dict[str, Any]:
    """Retract the meeting or survey answer recorded by entry ``seq`` of the relationship's chain.

    Returns the data of the new entry (``{"retracted": {"seq", "trigger", ...}}``).
    Refused, with nothing written, for an unknown entry, an entry that recorded
    no meeting or answer, or one already retracted.
    """
    if not reason.strip():
        raise InputError(f"{field('reason')}: say why the record is retracted (it goes in the audit entry)")
    now = clock.now()
    with UnitOfWork(store) as uow:
        rel = rel_store.relationship_rows(uow.conn, [rel_id], lock=True).get(rel_id)
        if rel is None:
            raise NotFoundError(f"no relationship {rel_id}")
        if (elsewhere := other_program(rel_id, rel.policy_name, policy)) is not None:
            raise RefusedError(elsewhere)
        data = _retractable(uow, rel_id, seq)
        back = (
            goal_store.answer_reverts(uow.conn, rel_id, seq)
            if data["retracted"]["trigger"] == RECORD_SURVEY
            else []
        )
        facts = [
            (rel_id, data),
            *((rel_id, level_fact(g, was, now_at, retracted=seq)) for g, now_at, was in back),
        ]
        triggers = [RECORD_RETRACT, *(GOAL_PROGRESS for _ in back)]
        write_facts(
            uow, policy, now, {rel_id: rel}, RECORD_RETRACT, actor, facts, reason.strip(), triggers=triggers
        )
        goal_store.set_levels(uow.conn, [(g, was) for g, _, was in back], now)
        uow.commit()
    return data


def _retractable(uow: UnitOfWork, rel_id: int, seq: int) -> dict[str, Any]:
    """The data of the retraction of entry ``seq``, or the refusal saying why it cannot be retracted."""
    entry = records.recording_entry(uow.conn, rel_id, seq)
    if entry is None:
        raise NotFoundError(f"relationship {rel_id} has no entry {seq} (its history shows the seq of each)")
    trigger, recorded = entry
    if trigger not in RETRACTABLE:
        raise RefusedError(
            f"entry {seq} of relationship {rel_id} is {trigger!r}, not a meeting or survey answer "
            "(only those can be retracted)"
        )
    if (rel_id, seq) in records.retracted(uow.conn, [rel_id]):
        what = RETRACTABLE[trigger]
        raise RefusedError(f"entry {seq} of relationship {rel_id} ({what}) is already retracted")
    return {"retracted": {"seq": seq, "trigger": trigger, **recorded}}
