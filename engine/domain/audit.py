"""The audit history: append-only, hash-chained per relationship.

Each entry's hash covers its content and the previous entry's hash, starting
from the relationship's creation; the relationship row keeps the chain head.
``verify`` recomputes every chain and names each edited, deleted, inserted or
reordered entry; ``heads_digest`` lets an operator keep a fingerprint of all
chain heads outside the database, since a superuser could rewrite a whole chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
ENTRY_FIELDS = (
    "relationship_id",
    "seq",
    "at",
    "actor",
    "trigger",
    "from_phase",
    "to_phase",
    "reason",
    "policy_name",
    "policy_version",
    "data",
    "prev_hash",
)


def iso(moment: datetime) -> str:
    """The one text form of a time in the audit history: UTC, microseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""One encoder for every hash: ``json.dumps`` with options would build a new one per entry."""


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hash of an entry: SHA-256 of its canonical JSON, previous hash included."""
    content = {name: entry[name] for name in ENTRY_FIELDS}
    content["at"] = iso(content["at"]) if isinstance(content["at"], datetime) else content["at"]
    return hashlib.sha256(_CANONICAL.encode(content).encode()).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing ``verify`` found wrong, for the relationship and entry it concerns."""

    relationship_id: int
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"relationship {self.relationship_id}"
        if self.seq is not None:
            where += f", entry {self.seq}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Head:
    """What the relationship row says about its chain and current phase."""

    relationship_id: int
    seq: int
    head: str
    phase: str


def verify_chain(head: Head, entries: Iterable[Mapping[str, Any]]) -> list[Problem]:
    """Check one relationship's entries (ordered by ``id``) against their hashes and its row."""
    problems: list[Problem] = []
    expected_prev, expected_seq, last = GENESIS, 1, None
    for entry in entries:
        rid, seq = head.relationship_id, entry["seq"]
        if seq != expected_seq:
            kind = "missing or reordered" if seq > expected_seq else "reordered or duplicated"
            problems.append(Problem(rid, seq, f"{kind}: expected entry {expected_seq} here"))
        if entry_hash(entry) != entry["hash"]:
            problems.append(Problem(rid, seq, "edited: its content does not match its hash"))
        elif entry["prev_hash"] != expected_prev:
            problems.append(Problem(rid, seq, "broken chain: the entry before it was deleted or changed"))
        expected_prev, expected_seq, last = entry["hash"], seq + 1, entry
    problems += _check_head(head, last)
    return problems


def _check_head(head: Head, last: Mapping[str, Any] | None) -> list[Problem]:
    rid = head.relationship_id
    if last is None:
        return [Problem(rid, None, "has no audit entries at all (expected at least its creation)")]
    problems = []
    if last["seq"] != head.seq or last["hash"] != head.head:
        problems.append(
            Problem(
                rid,
                head.seq,
                f"missing: the chain ends at entry {last['seq']}, the relationship says {head.seq}",
            )
        )
    elif last["to_phase"] != head.phase:
        problems.append(
            Problem(rid, None, f"phase {head.phase!r} does not match its history ({last['to_phase']!r})")
        )
    return problems


def heads_digest(heads: Iterable[Head]) -> str:
    """One fingerprint of every chain head, to keep outside the database and verify later."""
    digest = hashlib.sha256()
    for head in sorted(heads, key=lambda h: h.relationship_id):
        digest.update(f"{head.relationship_id}:{head.seq}:{head.head}\n".encode())
    return "sha256:" + digest.hexdigest()


def export_record(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as it is exported: every field, times in ISO 8601 UTC."""
    record = {"id": entry["id"], **{name: entry[name] for name in ENTRY_FIELDS}, "hash": entry["hash"]}
    record["at"] = iso(record["at"])
    return record


def replay(records: Iterable[Mapping[str, Any]], as_of: datetime) -> Iterator[tuple[int, str, datetime]]:
    """(relationship, phase, entered at) at ``as_of``, from entries in chain order."""
    state: dict[int, tuple[str, datetime]] = {}
    for record in records:
        at = record["at"]
        if at <= as_of:
            state[record["relationship_id"]] = (record["to_phase"], at)
    for rid, (phase, entered) in sorted(state.items()):
        yield rid, phase, entered
