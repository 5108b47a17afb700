"""Erasing personal data from a relationship's audit chain without breaking it.

An entry's reason written since seals existed is erased by dropping its text and salt: the chain
hashes the seal, which stays. Anything else an entry may hold about a person (a reason written
before seals, an override's reason and the constraints' texts it overruled, a mentor or mentee named
by address or by an employee id being erased) is redacted in place; such an entry no longer matches
its hash, so the erasure entry appended after it lists, per redacted entry, its seq and the hash of
what is left (:func:`engine.domain.audit.verify_chain` accepts an entry so vouched for). The chain's
hashes and its head stay what they were; only the erasure entry is new.

Pure functions over plain data: :mod:`engine.services.erasure` reads the chains and writes the result.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.domain.audit import Cause, entry_hash, iso

PERSON_KEYS = {
    "mentee": "mentee_id",
    "mentor": "mentor_id",
    "old_mentor": "old_mentor_id",
    "participant": "leave_of",
}
"""The keys of an entry's data that name a participant, each with the key of their store id beside it."""


def reference(external_id: str | None, participant_id: int) -> str:
    """How an audit entry names a participant beside their id: the employee id, else ``#<id>`` (never an
    address or a name)."""
    return external_id if external_id is not None else f"#{participant_id}"


def redacted_data(data: Any, refs: Collection[str]) -> Any:
    """``data`` without what identifies a person: a participant named by an address or by one of
    ``refs`` (the erased person's employee id) becomes ``#<id>``; an override loses its reason and the
    texts of what it overruled (which quote departments and coordinators' reasons)."""
    if not isinstance(data, dict):
        return data
    kept = dict(data)
    for key, id_key in PERSON_KEYS.items():
        value = kept.get(key)
        if isinstance(value, str) and ("@" in value or value in refs):
            found = kept.get(id_key)
            kept[key] = f"#{found}" if isinstance(found, int) else None
    override = kept.get("override")
    if isinstance(override, dict) and (override.get("reason") is not None or override.get("overruled")):
        kept["override"] = {**override, "reason": None, "overruled": []}
    return kept


@dataclass(frozen=True, slots=True)
class Redaction:
    """What erasing changes of one entry: its new data, whether its reason text goes, and the hash of
    what is left when the entry no longer matches its own (``None``: it still does)."""

    entry_id: int
    seq: int
    data: Any
    vouch: str | None


def redactions(chain: Sequence[Mapping[str, Any]], refs: Collection[str]) -> list[Redaction]:
    """The entries of ``chain`` that hold free text or name a person by ``refs`` or an address, redacted."""
    found = []
    for entry in chain:
        data = redacted_data(entry["data"], refs)
        if entry["reason"] is None and entry.get("reason_salt") is None and data == entry["data"]:
            continue
        left = {**entry, "reason": None, "reason_salt": None, "data": data}
        vouch = None if entry_hash(left) == entry["hash"] else entry_hash(left)
        found.append(Redaction(int(entry["id"]), int(entry["seq"]), data, vouch))
    return found


def erasure_entry(
    last: Mapping[str, Any], cause: Cause, done: Sequence[Redaction], now: datetime
) -> dict[str, Any]:
    """The entry that records an erasure after ``last`` (the chain's head entry): the pair stays in its
    phase, under the policy version it was under; its data lists the redacted entries, with the hash of
    what is left of each that needs it."""
    data = {
        **cause.data,
        "redacted": [{"seq": r.seq, "hash": r.vouch} if r.vouch else {"seq": r.seq} for r in done],
    }
    entry: dict[str, Any] = {
        "relationship_id": last["relationship_id"],
        "seq": last["seq"] + 1,
        "at": now,
        "actor": cause.actor,
        "trigger": cause.trigger,
        "from_phase": last["to_phase"],
        "to_phase": last["to_phase"],
        "reason": cause.reason,
        "policy_name": last["policy_name"],
        "policy_version": last["policy_version"],
        "data": data,
        "prev_hash": last["hash"],
        "reason_seal": cause.seal,
        "reason_salt": cause.salt,
    }
    entry["hash"] = entry_hash({**entry, "at": iso(now)})
    return entry
