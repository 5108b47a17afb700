"""A participant asks for help, or for a pause, from their personal link: the coordinator is told.

One transaction: where the participant wishes a pause and the policy lets the pair pause from its
phase (a ``pause`` trigger), the pair pauses (an entry as any phase change, the participant its
actor); the request itself is an entry of the pair's chain (trigger ``help_requested``: what was
wished and whether the pair paused, never the participant's own words) and a message to the
coordinator (the ``help_requested`` notice: who asked, what for, their words, what happened). Their
words go to the coordinator only, not into the audit chain, so erasing a person leaves a chain that
verifies. The same request sent twice (the same link's form submitted again) is recognised by its
key and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from engine.domain.changes import Cause, Mover
from engine.domain.effects import outbox_row
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, NotFoundError, RefusedError, field
from engine.policy.vocabulary import HELP_REQUESTED
from engine.services.advance import AdvanceRequest
from engine.services.advance_each import advance_each
from engine.store import audit, due
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from engine.clock import Clock

WISHES = ("help", "pause")
ROLES = ("mentee", "mentor")
MAX_NOTE = 2000
"""Characters of the participant's own words the coordinator is sent (a few paragraphs)."""
PAUSE_REASON = "asked for a pause through their personal link"
"""The reason of a pause a participant asked for: fixed text, as their own words stay out of the chain."""


@dataclass(frozen=True)
class HelpRequest:
    """What a participant asks: ``wish`` help or a pause, in their own words (``note``, optional).

    ``key`` makes a request the same when it is sent again (the page gives its link's issue moment).
    """

    relationship_id: int
    role: str
    wish: str
    note: str | None
    key: str


@dataclass(frozen=True)
class HelpOutcome:
    """``recorded``: False when the same request was recorded before (nothing written now); ``paused``:
    the pair paused; ``not_paused``: why a pause that was asked for did not happen (``None``: it did, or
    none was asked for)."""

    recorded: bool
    paused: bool = False
    not_paused: str | None = None


def ask_for_help(
    store: Engine, lifecycle: Lifecycle, clock: Clock, request: HelpRequest, *, actor: str
) -> HelpOutcome:
    """Record ``request`` and tell the coordinator; pause the pair where it asks and the policy allows."""
    note = _checked(request)
    key = f"help_requested:{request.relationship_id}:{request.role}:{request.key}"
    now, policy = clock.now(), lifecycle.policy
    with UnitOfWork(store) as uow:
        if due.known_keys(uow.conn, [key]):
            return HelpOutcome(recorded=False)
        rel = rel_store.relationship_rows(uow.conn, [request.relationship_id], lock=True).get(
            request.relationship_id
        )
        if rel is None:
            raise NotFoundError(f"no relationship {request.relationship_id}")
        if rel.phase in policy.terminal_phases:
            raise RefusedError(f"relationship {rel.id} is {rel.phase!r}: the program has ended for this pair")
        paused, not_paused = False, None
        if request.wish == "pause":
            paused, not_paused = _pause(uow, lifecycle, request, actor, now)
            rel = rel_store.relationship_rows(uow.conn, [rel.id], lock=True)[rel.id]
        data = {"role": request.role, "wish": request.wish, "paused": paused}
        recorded = Mover(policy, now).facts(rel, [Cause(actor, HELP_REQUESTED, None, data)])
        params = {
            "recipient": "coordinator",
            "help": {**data, "note": note, "not_paused": not_paused},
        }
        message = outbox_row(rel.id, key, HELP_REQUESTED, params, now)
        rel_store.apply_moves(uow.conn, [recorded.update], recorded.entries, [message])
        audit.record_policy_version(uow.conn, policy, now)
        uow.commit()
    return HelpOutcome(True, paused, not_paused)


def request_problems(role: str, wish: str, note: str | None) -> dict[str, str]:
    """What is wrong with a request, by field (``role``, ``wish``, ``note``), in that order; empty when
    nothing is. The words are judged as they would be sent: trimmed."""
    found: dict[str, str] = {}
    if role not in ROLES:
        found["role"] = f"{role!r} is not one of {', '.join(ROLES)}"
    if wish not in WISHES:
        found["wish"] = f"{wish!r} is not one of {', '.join(WISHES)}"
    words = (note or "").strip()
    if len(words) > MAX_NOTE:
        found["note"] = f"{len(words)} characters; at most {MAX_NOTE}"
    elif any(ord(c) < 32 and c not in "\n\r\t" for c in words):
        found["note"] = "holds control characters"
    return found


def _checked(request: HelpRequest) -> str | None:
    """The participant's words, trimmed (``None``: none); InputError naming the first thing wrong."""
    problems = request_problems(request.role, request.wish, request.note)
    if problems:
        name, problem = next(iter(problems.items()))
        raise InputError(f"{field(name)}: {problem}")
    return (request.note or "").strip() or None


def _pause(
    uow: UnitOfWork, lifecycle: Lifecycle, request: HelpRequest, actor: str, now: datetime
) -> tuple[bool, str | None]:
    """Fire ``pause`` on the pair in this transaction, as an operator's advance would: (paused, why not)."""
    if not any(edge.trigger == "pause" for edge in lifecycle.policy.edges):
        return False, f"the policy {lifecycle.policy.policy!r} has no pause"
    pause = AdvanceRequest(request.relationship_id, "pause", actor, reason=PAUSE_REASON)
    done = advance_each(uow, lifecycle, now, [pause])
    if request.relationship_id in done.moved:
        return True, None
    return False, done.refused.get(request.relationship_id, "the pair cannot pause now")
