"""Writing what happened to pairs: their audit entries appended in bulk, and the problems of a batch.

Recording a meeting, a survey answer, a goal or an attendance, and taking one
back, all end here: every item of a batch is checked first and the problems
collected (:class:`Problems`), then :func:`write_facts` appends an entry per fact
to its relationship's chain (``from_phase`` and ``to_phase`` both the phase it
happened in) and makes the relationship due.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.domain.changes import Cause, Mover
from engine.errors import InputError, NotFoundError, RefusedError, listed
from engine.policy.model import Policy
from engine.store import audit
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.relationships import RelationshipRow


class Problems:
    """Problems found while checking a batch, each of a kind that picks the error raised."""

    def __init__(self) -> None:
        self.found: list[tuple[type[InputError], str]] = []

    def add(self, kind: type[InputError], text: str) -> None:
        self.found.append((kind, text))

    def raise_any(self, what: str, *, single: bool) -> None:
        """Raise if anything was found: the most basic kind wins (bad input, then unknown, then refused)."""
        if not self.found:
            return
        kinds = {kind for kind, _ in self.found}
        error = next(k for k in (InputError, NotFoundError, RefusedError) if k in kinds)
        texts = [text for _, text in self.found]
        if single and len(texts) == 1:
            raise error(texts[0])
        raise error(
            f"the {what} cannot be recorded ({len(texts)} problem(s)); nothing was recorded", listed(texts)
        )


def write_facts(
    uow: UnitOfWork,
    policy: Policy,
    now: datetime,
    rels: dict[int, RelationshipRow],
    trigger: str,
    actor: str,
    facts: Sequence[tuple[int, dict[str, Any]]],
    reason: str | None = None,
    *,
    actors: Sequence[str] | None = None,
    triggers: Sequence[str] | None = None,
) -> list[int]:
    """Append an entry per fact to its relationship's chain; each row takes its new head and becomes due.

    ``actors``: who recorded each fact, in the order of ``facts`` (``actor`` for all of them without);
    ``triggers`` likewise, the trigger of each (``trigger`` for all of them without).
    Returns the seq of each fact's entry, in the order of ``facts``.
    """
    by_rel: dict[int, list[Cause]] = defaultdict(list)
    who = [actor] * len(facts) if actors is None else actors
    what = [trigger] * len(facts) if triggers is None else triggers
    for (rel_id, data), by, named in zip(facts, who, what, strict=True):
        by_rel[rel_id].append(Cause(by, named, reason, data))
    mover = Mover(policy, now)
    recorded = [mover.facts(rels[rel_id], causes) for rel_id, causes in by_rel.items()]
    rel_store.apply_moves(
        uow.conn, [r.update for r in recorded], [e for r in recorded for e in r.entries], []
    )
    if recorded:
        audit.record_policy_version(uow.conn, policy, now)
    seqs = {rel_id: iter(e["seq"] for e in r.entries) for rel_id, r in zip(by_rel, recorded, strict=True)}
    return [next(seqs[rel_id]) for rel_id, _ in facts]
