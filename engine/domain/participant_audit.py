"""The history of each participant: append-only entries, hash-chained per participant.

An entry says who changed a participant, when, why (its ``cause``: ``create``,
``update``, ``training``, ``leave``, ``left``, ``return``, ...) and the NAMES of
the fields that changed, never their values: the personal data stays in the
participants table, where it can be erased, and the chain still verifies. Each
entry's hash is the SHA-256 of its fields in canonical JSON (the encoding of
:mod:`engine.domain.audit`), the first chained to 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.domain.audit import GENESIS, canonical, iso

PARTICIPANT_ENTRY_FIELDS = ("participant_id", "seq", "at", "actor", "cause", "fields", "prev_hash")

_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def participant_entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 of the entry's canonical JSON, previous hash included."""
    content = {name: entry[name] for name in PARTICIPANT_ENTRY_FIELDS}
    content["at"] = iso(content["at"]) if isinstance(content["at"], datetime) else content["at"]
    content["fields"] = list(content["fields"])
    return hashlib.sha256(_CANONICAL.encode(content).encode()).hexdigest()


def participant_entry(
    participant_id: int,
    seq: int,
    prev_hash: str,
    actor: str,
    cause: str,
    fields: Sequence[str],
    now: datetime,
) -> dict[str, Any]:
    """The next entry of a participant's chain, with its hash."""
    entry: dict[str, Any] = {
        "participant_id": participant_id,
        "seq": seq,
        "at": now,
        "actor": actor,
        "cause": cause,
        "fields": sorted(set(fields)),
        "prev_hash": prev_hash,
    }
    entry["hash"] = participant_entry_hash(entry)
    return entry


class ParticipantEntries:
    """:func:`participant_entry` of many entries by one ``actor`` at one moment, ``now``: the same entries
    and hashes, the text around each entry's own values put together once.

    The canonical JSON of an entry is its members in sorted order (actor, at, cause,
    fields, participant_id, prev_hash, seq), each its key, a colon and its value as
    the encoder writes it (:func:`engine.domain.audit.canonical`), separated by commas;
    a set of field names that recurs is encoded once, and its entries share one list.
    """

    def __init__(self, actor: str, now: datetime) -> None:
        self.actor, self.now = actor, now
        self._head = '{"actor":' + canonical(actor) + ',"at":' + canonical(iso(now)) + ',"cause":'
        self._fields: dict[tuple[str, ...], tuple[list[str], str]] = {}

    def entry(
        self, participant_id: int, seq: int, prev_hash: str, cause: str, fields: Sequence[str]
    ) -> dict[str, Any]:
        """The next entry of a participant's chain, with its hash (as :func:`participant_entry`)."""
        names, encoded = self._names(fields)
        text = (
            self._head + canonical(cause) + ',"fields":' + encoded + ',"participant_id":'
            + canonical(participant_id) + ',"prev_hash":' + canonical(prev_hash) + ',"seq":'
            + canonical(seq) + "}"
        )  # fmt: skip
        return {
            "participant_id": participant_id, "seq": seq, "at": self.now, "actor": self.actor,
            "cause": cause, "fields": names, "prev_hash": prev_hash,
            "hash": hashlib.sha256(text.encode()).hexdigest(),
        }  # fmt: skip

    def _names(self, fields: Sequence[str]) -> tuple[list[str], str]:
        """The field names as an entry holds them (sorted, once each) and their canonical JSON."""
        key = tuple(fields)
        found = self._fields.get(key)
        if found is None:
            names = sorted(set(fields))
            found = self._fields[key] = (names, canonical(names))
        return found


@dataclass(frozen=True)
class ParticipantProblem:
    """One thing ``audit verify`` found wrong in a participant's chain."""

    participant_id: int
    seq: int | None
    message: str

    def __str__(self) -> str:
        where = f"participant {self.participant_id}"
        if self.seq is not None:
            where += f", entry {self.seq}"
        return f"{where}: {self.message}"


def verify_participant_chain(
    participant_id: int, head_seq: int, head: str, entries: Iterable[Mapping[str, Any]]
) -> list[ParticipantProblem]:
    """Check one participant's entries (by ``id``) against their hashes and the participant's row."""
    problems: list[ParticipantProblem] = []
    expected_prev, expected_seq, last = GENESIS, 1, None
    for entry in entries:
        seq = entry["seq"]
        if seq != expected_seq:
            kind = "missing or reordered" if seq > expected_seq else "reordered or duplicated"
            problems.append(
                ParticipantProblem(participant_id, seq, f"{kind}: expected entry {expected_seq} here")
            )
        if participant_entry_hash(entry) != entry["hash"]:
            problems.append(
                ParticipantProblem(participant_id, seq, "edited: its content does not match its hash")
            )
        elif entry["prev_hash"] != expected_prev:
            problems.append(
                ParticipantProblem(
                    participant_id, seq, "broken chain: the entry before it was deleted or changed"
                )
            )
        expected_prev, expected_seq, last = entry["hash"], seq + 1, entry
    last_seq, last_hash = (last["seq"], last["hash"]) if last is not None else (0, "")
    if (last_seq, last_hash) != (head_seq, head):
        problems.append(
            ParticipantProblem(
                participant_id,
                head_seq or None,
                f"missing: the chain ends at entry {last_seq}, the participant says {head_seq}",
            )
        )
    return problems
