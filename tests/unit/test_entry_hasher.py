"""Entries hashed from their batch's shared text get the hash :func:`entry_hash` gives them, byte for byte."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.domain.audit import ENTRY_FIELDS, VARYING, EntryHasher, canonical, entry_hash, iso
from engine.domain.changes import Cause, Mover
from engine.domain.effects import OUTBOX_FIELDS
from engine.domain.phase_time import after_leaving
from engine.policy.model import Policy
from engine.store.relationships import RelationshipRow

NOW = datetime(2026, 1, 5, 9, 0, 0, 7, tzinfo=UTC)
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)  # quotes, controls, non-ASCII
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
)


@given(
    rel=st.integers(min_value=1), seq=st.integers(min_value=1), prev=text, actor=text,
    source=st.none() | text, reason=st.none() | text, data=st.dictionaries(text, json_value, max_size=4),
)  # fmt: skip
def test_a_hasher_gives_the_hash_of_the_whole_entry(
    rel: int, seq: int, prev: str, actor: str, source: str | None, reason: str | None, data: dict[str, Any]
) -> None:
    entry = {
        "relationship_id": rel, "seq": seq, "at": NOW, "actor": actor, "trigger": "match",
        "from_phase": source, "to_phase": "matched", "reason": reason, "policy_name": "défault",
        "policy_version": "sha256:abc", "data": data, "prev_hash": prev,
    }  # fmt: skip
    shared = {name: canonical(entry[name]) for name in ENTRY_FIELDS if name not in {*VARYING, "at"}}
    shared["at"] = canonical(iso(NOW))
    hasher = EntryHasher(shared)
    assert hasher.hash(canonical(data), prev, rel, seq) == entry_hash(entry)


def _row(rel_id: int, seq: int, clock: dict[str, list[Any]] | None) -> RelationshipRow:
    return RelationshipRow(rel_id, None, "intake", NOW, 1, seq, f"{seq:064x}", "default", clock)


def test_a_batch_s_changes_hash_and_clock_each_entry_as_one_change_alone(policy: Policy) -> None:
    later = NOW.replace(month=3)
    mover = Mover(policy, later)
    shared_data = {"mentor_id": 7, "mentor": "Zoë Çelik", "requires": ["mentor_assigned"]}
    causes = [Cause("ops", "match", None, shared_data), Cause("ops", "match", "why", {"n": 1.5})]
    clock = {"matched": [60, iso(NOW)]}
    rows = [_row(1, 1, None), _row(2, 4, clock), _row(3, 4, clock), _row(4, 2, {"matched": [5, iso(NOW)]})]
    for row in rows:
        for cause in causes:
            change = mover.change(row, "matched", cause)
            alone = Mover(policy, later).change(row, "matched", cause)
            assert change.entry["hash"] == entry_hash({**change.entry}) == alone.entry["hash"]
            expected = after_leaving(row.phase_clock, "intake", NOW, later, restart=False)
            assert change.update.phase_clock == expected == alone.update.phase_clock
            assert change.update == alone.update
    # rows with one clock object share the clock they leave with: the store renders it once
    second, third = (mover.change(row, "matched", causes[0]).update for row in rows[1:3])
    assert second.phase_clock is third.phase_clock


def test_a_batch_s_rows_are_what_each_change_writes_alone(policy: Policy) -> None:
    """:meth:`Mover.rows` writes, row for row, the update, entry and outbox rows of :meth:`Mover.change`."""
    later = NOW.replace(month=3)
    data = {"mentor_id": 7, "mentor": "Zoë Çelik", "requires": ["mentor_assigned"]}
    causes = [Cause("ops", "match", None, data), Cause("ops", "match", "why", {"n": 1.5})]
    clock = {"matched": [60, iso(NOW)]}
    rows = [_row(1, 1, None), _row(2, 4, clock), _row(3, 4, clock), _row(4, 2, {"matched": [5, iso(NOW)]})]
    moves = [
        (row, dest, cause, mentor)
        for row in rows
        for dest in ("matched", "closed")
        for cause in causes
        for mentor in (None, 9)
    ]
    written = Mover(policy, later).rows(moves, _AS_THEY_ARE)
    alone = [
        Mover(policy, later).change(row, dest, cause, mentor_id=mentor) for row, dest, cause, mentor in moves
    ]
    assert written.updates == [change.update for change in alone]
    columns = (*ENTRY_FIELDS, "hash", "reason_seal", "reason_salt")
    assert written.entries == [tuple(c.entry[name] for name in columns) for c in alone]
    assert written.effects == [tuple(row[name] for name in OUTBOX_FIELDS) for c in alone for row in c.effects]
    assert written.effects, "the policy's phases send messages on entry"


class _AsTheyAre:
    """A rendering that leaves every value as it is: the rows hold the values :meth:`Mover.change` gives."""

    def entry(self, names: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(values)

    message = update = entry


_AS_THEY_ARE = _AsTheyAre()
