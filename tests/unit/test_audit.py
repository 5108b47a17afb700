"""The hash chain without a database: stable hashes, and verify_chain on hand-made chains."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.domain.audit import (
    ENTRY_FIELDS,
    GENESIS,
    Head,
    Problem,
    entry_hash,
    export_record,
    heads_digest,
    iso,
    replay,
    verify_chain,
)

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PHASES = ["intake", "matched", "kickoff", "active"]


def _entry(seq: int, prev_hash: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": seq,
        "relationship_id": 7,
        "seq": seq,
        "at": AT + timedelta(days=seq),
        "actor": "coordinator@example.com",
        "trigger": "create" if seq == 1 else f"step{seq}",
        "from_phase": None if seq == 1 else PHASES[seq - 2],
        "to_phase": PHASES[seq - 1],
        "reason": None,
        "policy_name": "default",
        "policy_version": "sha256:abc",
        "data": {"requires": []},
        "prev_hash": prev_hash,
        **changes,
    }
    entry["hash"] = entry_hash(entry)
    return entry


def _chain(length: int = 4) -> list[dict[str, Any]]:
    chain: list[dict[str, Any]] = []
    for seq in range(1, length + 1):
        chain.append(_entry(seq, chain[-1]["hash"] if chain else GENESIS))
    return chain


def _head(chain: list[dict[str, Any]]) -> Head:
    last = chain[-1]
    return Head(7, last["seq"], last["hash"], last["to_phase"])


def test_entry_hash_is_sha256_of_the_canonical_json() -> None:
    # A change here breaks every stored chain: it needs a migration, not a new expected value.
    canonical = (
        '{"actor":"coordinator@example.com","at":"2026-01-06T09:00:00.000000Z","data":{"requires":[]},'
        '"from_phase":null,"policy_name":"default","policy_version":"sha256:abc",'
        f'"prev_hash":"{GENESIS}","reason":null,"relationship_id":7,"seq":1,"to_phase":"intake",'
        '"trigger":"create"}'
    )

    entry = _entry(1, GENESIS)

    assert entry["hash"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert entry["hash"] == "136eaf9c371ac5fa966b9aec06b05d00c886243247d6c3ef774ad486bd20b407"


def test_entry_hash_keeps_non_ascii_text_as_utf8() -> None:
    entry = _entry(2, GENESIS, reason="Zoë verhuist naar Malmö")

    assert entry["hash"] != _entry(2, GENESIS, reason="Zoe verhuist naar Malmo")["hash"]
    assert entry_hash(entry) == entry["hash"]


def test_entry_hash_ignores_key_order_id_and_stored_hash() -> None:
    entry = _entry(2, "f" * 64)
    shuffled = dict(reversed(list(entry.items())))

    assert entry_hash(shuffled) == entry["hash"]
    assert entry_hash({**entry, "id": 999, "hash": "whatever"}) == entry["hash"]


def test_entry_hash_reads_a_time_and_its_iso_text_alike() -> None:
    entry = _entry(2, "f" * 64)

    assert entry_hash({**entry, "at": iso(entry["at"])}) == entry["hash"]
    amsterdam = entry["at"].astimezone(ZoneInfo("Europe/Amsterdam"))
    assert entry_hash({**entry, "at": amsterdam}) == entry["hash"]


@pytest.mark.parametrize("field", [f for f in ENTRY_FIELDS if f != "at"])
def test_entry_hash_covers_every_field(field: str) -> None:
    entry = _entry(2, "f" * 64)
    changed = {**entry, field: {"changed": True} if field == "data" else "changed"}

    assert entry_hash(changed) != entry["hash"]


def test_entry_hash_covers_the_time_to_the_microsecond() -> None:
    entry = _entry(2, "f" * 64)

    assert entry_hash({**entry, "at": entry["at"] + timedelta(microseconds=1)}) != entry["hash"]


def test_iso_is_utc_with_microseconds() -> None:
    assert iso(AT) == "2026-01-05T09:00:00.000000Z"


def test_an_intact_chain_has_no_problems() -> None:
    chain = _chain()

    assert verify_chain(_head(chain), chain) == []


def test_an_edited_entry_is_named() -> None:
    chain = _chain()
    head = _head(chain)
    chain[1] = {**chain[1], "reason": "rewritten"}

    assert verify_chain(head, chain) == [Problem(7, 2, "edited: its content does not match its hash")]


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link() -> None:
    chain = _chain()
    head = _head(chain)
    forged = {**chain[1], "reason": "rewritten"}
    chain[1] = {**forged, "hash": entry_hash(forged)}

    assert verify_chain(head, chain) == [
        Problem(7, 3, "broken chain: the entry before it was deleted or changed")
    ]


def test_a_deleted_middle_entry_is_named() -> None:
    chain = _chain()
    head = _head(chain)
    del chain[1]

    assert verify_chain(head, chain) == [
        Problem(7, 3, "missing or reordered: expected entry 2 here"),
        Problem(7, 3, "broken chain: the entry before it was deleted or changed"),
    ]


def test_a_deleted_last_entry_is_named() -> None:
    chain = _chain()
    head = _head(chain)
    chain.pop()

    assert verify_chain(head, chain) == [
        Problem(7, 4, "missing: the chain ends at entry 3, the relationship says 4")
    ]


def test_reordered_entries_are_named() -> None:
    chain = _chain()
    head = _head(chain)
    chain[1], chain[2] = chain[2], chain[1]

    problems = verify_chain(head, chain)

    assert Problem(7, 3, "missing or reordered: expected entry 2 here") in problems
    assert Problem(7, 2, "reordered or duplicated: expected entry 4 here") in problems


def test_a_duplicated_entry_is_named() -> None:
    chain = _chain()
    head = _head(chain)
    chain.insert(2, chain[1])

    problems = verify_chain(head, chain)

    assert Problem(7, 2, "reordered or duplicated: expected entry 3 here") in problems


def test_an_empty_chain_is_named() -> None:
    assert verify_chain(Head(7, 1, "a" * 64, "intake"), []) == [
        Problem(7, None, "has no audit entries at all (expected at least its creation)")
    ]


def test_a_phase_that_disagrees_with_the_chain_is_named() -> None:
    chain = _chain()
    head = Head(7, 4, chain[-1]["hash"], "closed")

    assert verify_chain(head, chain) == [
        Problem(7, None, "phase 'closed' does not match its history ('active')")
    ]


def test_a_chain_rewritten_from_the_start_is_caught_by_its_head() -> None:
    chain = _chain()
    head = _head(chain)
    rewritten = [_entry(1, GENESIS, actor="mallory")]
    for seq in range(2, 5):
        rewritten.append(_entry(seq, rewritten[-1]["hash"]))

    assert verify_chain(head, rewritten) == [
        Problem(7, 4, "missing: the chain ends at entry 4, the relationship says 4")
    ]


def test_problems_name_the_relationship_and_the_entry() -> None:
    assert str(Problem(7, 3, "edited")) == "relationship 7, entry 3: edited"
    assert str(Problem(7, None, "no entries")) == "relationship 7: no entries"


def test_heads_digest_is_independent_of_order_and_sees_any_head_move() -> None:
    heads = [Head(1, 3, "a" * 64, "active"), Head(2, 1, "b" * 64, "intake")]

    digest = heads_digest(heads)

    assert digest.startswith("sha256:")
    assert heads_digest(reversed(heads)) == digest
    assert heads_digest([heads[0], Head(2, 2, "b" * 64, "intake")]) != digest
    assert heads_digest([heads[0]]) != digest


def test_export_record_keeps_every_field_and_writes_times_as_iso() -> None:
    entry = _entry(1, GENESIS)

    record = export_record(entry)

    assert list(record) == ["id", *ENTRY_FIELDS, "hash", "reason_seal"]
    assert record["at"] == "2026-01-06T09:00:00.000000Z"
    assert entry_hash(record) == entry["hash"]


def test_replay_takes_the_last_entry_at_or_before_the_moment() -> None:
    chain = _chain()  # entries one day apart, from AT + 1 day
    other = {**_entry(1, GENESIS), "relationship_id": 8, "at": AT + timedelta(days=10)}

    assert list(replay([*chain, other], AT)) == []
    assert list(replay([*chain, other], AT + timedelta(days=2))) == [(7, "matched", AT + timedelta(days=2))]
    assert list(replay([*chain, other], AT + timedelta(days=30))) == [
        (7, "active", AT + timedelta(days=4)),
        (8, "intake", AT + timedelta(days=10)),
    ]
