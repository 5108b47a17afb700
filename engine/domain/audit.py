"""The audit history: append-only, hash-chained per relationship.

Each entry's hash covers its content and the previous entry's hash, starting
from the relationship's creation; the relationship row keeps the chain head.
An entry's reason is free text, so the hash covers its seal instead (an HMAC of
the text under a random salt kept beside it): erasing the text and the salt
leaves the seal, which still verifies the entry and tells nothing about what
was erased. An entry whose content was redacted otherwise (a reason written
before seals existed, a name in its data) is vouched for by a later entry of
its chain, an erasure, that records the hash of what was left.
``verify`` recomputes every chain and names each edited, deleted, inserted or
reordered entry; ``heads_digest`` lets an operator keep a fingerprint of all
chain heads outside the database, since a superuser could rewrite a whole chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
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

_TEXT = json.encoder.encode_basestring  # what _CANONICAL writes for a str (ensure_ascii=False)
canonical_text = _TEXT
""":func:`canonical` of a ``str``, for a caller that has checked the type itself."""
_SORTED = tuple(sorted(ENTRY_FIELDS))  # the order _CANONICAL writes the fields in (sort_keys=True)
_MEMBERS = tuple((_TEXT(name) + ":", name) for name in _SORTED)


def canonical(value: Any) -> str:
    """``value`` in the canonical JSON of the hash (a str, an int or None directly, else the encoder)."""
    kind = type(value)
    if kind is str:
        return _TEXT(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return _CANONICAL.encode(value)


SEAL = "hmac-sha256:"
REDACTING = frozenset({"erase", "purge"})
"""The triggers of the entries that erase personal data from their chain and vouch for what is left."""


def new_salt() -> str:
    """A random salt for a reason's seal: 16 bytes, as hex."""
    return secrets.token_hex(16)


def seal(salt: str, text: str) -> str:
    """What the chain hashes in place of the reason ``text``: its HMAC-SHA256 under ``salt``."""
    return SEAL + hmac.new(bytes.fromhex(salt), text.encode(), hashlib.sha256).hexdigest()


def hashed_reason(entry: Mapping[str, Any]) -> str | None:
    """The reason as the chain hashes it: its seal, or for an entry written before seals its text."""
    sealed: str | None = entry.get("reason_seal")
    return sealed if sealed is not None else entry["reason"]


@dataclass(frozen=True, slots=True)
class Cause:
    """Who moves a relationship and why: recorded in the audit entry.

    A ``reason`` is sealed as the cause is made (:func:`seal`, a fresh salt):
    the entries of one cause share its salt and seal, as they share its text.
    """

    actor: str
    trigger: str
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    salt: str | None = field(default=None, compare=False, repr=False)
    seal: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.reason is not None and self.seal is None:
            salt = new_salt()
            object.__setattr__(self, "salt", salt)
            object.__setattr__(self, "seal", seal(salt, self.reason))

    @property
    def hashed_reason(self) -> str | None:
        """The reason as the chain hashes it (:func:`hashed_reason`): its seal."""
        return self.seal if self.seal is not None else self.reason


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hash of an entry: SHA-256 of its canonical JSON (its reason sealed), previous hash included."""
    at = entry["at"]
    encoded = {name: canonical(entry[name]) for name in ENTRY_FIELDS if name not in ("at", "reason")}
    encoded["reason"] = canonical(hashed_reason(entry))
    encoded["at"] = _TEXT(iso(at)) if isinstance(at, datetime) else canonical(at)
    return hash_encoded(encoded)


def hash_encoded(encoded: Mapping[str, str]) -> str:
    """:func:`entry_hash` of an entry whose fields are given already encoded by :func:`canonical`.

    The same bytes as ``_CANONICAL.encode`` of the whole entry: the encoder writes each
    member as its sorted key, a colon and the member's own encoding, separated by commas.
    """
    body = ",".join([key + encoded[name] for key, name in _MEMBERS])
    return hashlib.sha256(("{" + body + "}").encode()).hexdigest()


VARYING = ("data", "prev_hash", "relationship_id", "seq")
"""The fields that tell apart the entries of a batch; an :class:`EntryHasher` takes them per entry."""


class EntryHasher:
    """:func:`entry_hash` of entries that share every field but those of :data:`VARYING`.

    The canonical JSON of such entries is the same text around three values, so
    that text is put together once and each entry only fills in its own three.
    """

    __slots__ = ("_parts",)

    def __init__(self, shared: Mapping[str, str]) -> None:
        """``shared``: every field but those of :data:`VARYING`, encoded by :func:`canonical`."""
        parts, text = [], "{"
        for i, (key, name) in enumerate(_MEMBERS):
            text += key if i == 0 else "," + key
            if name in VARYING:  # in _MEMBERS, as in VARYING: data, prev_hash, relationship_id, seq
                parts.append(text)
                text = ""
            else:
                text += shared[name]
        parts.append(text + "}")
        self._parts = tuple(parts)

    @property
    def parts(self) -> tuple[str, str, str, str, str]:
        """The canonical text before ``data``, and after ``data``, ``prev_hash``, ``relationship_id`` and
        ``seq``: :meth:`hash` joins them around the four values (each encoded by :func:`canonical`)."""
        before, after_data, after_prev, after_rel, after_seq = self._parts
        return before, after_data, after_prev, after_rel, after_seq

    def hash(self, data: str, prev_hash: str, relationship_id: int, seq: int) -> str:
        """The hash of the entry with these values of :data:`VARYING` (the same as :func:`entry_hash`);
        ``data`` comes encoded by :func:`canonical`."""
        before, after_data, after_prev, after_rel, after_seq = self._parts
        text = (
            before + data + after_data + canonical(prev_hash) + after_prev
            + canonical(relationship_id) + after_rel + canonical(seq) + after_seq
        )  # fmt: skip
        return hashlib.sha256(text.encode()).hexdigest()


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
    """Check one relationship's entries (ordered by ``id``) against their hashes and its row.

    An entry whose content no longer matches its hash is fine when a later erasure entry of
    the chain vouches for it: its data lists the entry's seq with the hash of what was left.
    """
    problems: list[Problem] = []
    chain = list(entries)
    vouched = _vouched(chain)
    expected_prev, expected_seq, last = GENESIS, 1, None
    for entry in chain:
        rid, seq = head.relationship_id, entry["seq"]
        if seq != expected_seq:
            kind = "missing or reordered" if seq > expected_seq else "reordered or duplicated"
            problems.append(Problem(rid, seq, f"{kind}: expected entry {expected_seq} here"))
        computed = entry_hash(entry)
        if computed != entry["hash"] and vouched.get(seq) != computed:
            problems.append(Problem(rid, seq, "edited: its content does not match its hash"))
        elif entry["prev_hash"] != expected_prev:
            problems.append(Problem(rid, seq, "broken chain: the entry before it was deleted or changed"))
        elif not _seal_holds(entry):
            problems.append(Problem(rid, seq, "edited: its reason does not match its seal"))
        expected_prev, expected_seq, last = entry["hash"], seq + 1, entry
    problems += _check_head(head, last)
    return problems


def _vouched(chain: list[Mapping[str, Any]]) -> dict[int, str]:
    """seq -> the hash of what is left of it, for each earlier entry an erasure entry redacted (an
    erasure that does not itself verify vouches for nothing)."""
    vouched: dict[int, str] = {}
    for entry in chain:
        data = entry["data"]
        if entry["trigger"] in REDACTING and isinstance(data, dict) and entry_hash(entry) == entry["hash"]:
            for item in data.get("redacted") or ():
                if isinstance(item, dict) and isinstance(item.get("seq"), int) and item["seq"] < entry["seq"]:
                    vouched[item["seq"]] = str(item.get("hash"))
    return vouched


def _seal_holds(entry: Mapping[str, Any]) -> bool:
    """Whether a sealed reason still there is the text its seal was made of (an erased one is)."""
    sealed, text, salt = entry.get("reason_seal"), entry["reason"], entry.get("reason_salt")
    if sealed is None or (text is None and salt is None):
        return True
    return text is not None and salt is not None and hmac.compare_digest(seal(salt, text), sealed)


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
    record["reason_seal"] = entry.get("reason_seal")
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
