"""Operations that only read: history, status (now or replayed), audit verify and export."""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.errors import InputError, NotFoundError
from engine.errors import field as named

if TYPE_CHECKING:  # the rest is imported where it is used: `status` reads through engine.store.lite alone
    from sqlalchemy import Engine

    from engine.domain.audit import Problem
    from engine.domain.cadence import Overdue
    from engine.domain.participant_audit import ParticipantProblem
    from engine.domain.relationships import AuditEntry, Relationship
    from engine.policy.model import Policy
    from engine.policy.outline import Outline


def history(store: Engine, rel_id: int) -> tuple[Relationship, list[AuditEntry]]:
    """A relationship and its audit entries, oldest first."""
    from engine.store import audit
    from engine.store import relationships as rel_store
    from engine.store.database import UnitOfWork

    with UnitOfWork(store, write=False) as uow:
        rel = rel_store.relationship(uow.conn, rel_id)
        if rel is None:
            raise NotFoundError(f"no relationship {rel_id}")
        return rel, audit.history(uow.conn, rel_id)


@dataclass
class StatusReport:
    """Phase counts and overdue items of a policy's relationships at a moment.

    ``stranded`` lists those in a phase the policy no longer has (id, phase, since);
    ``other_policies`` counts the relationships of other programs in the store, by policy name.
    """

    as_of: datetime
    replayed: bool
    phases: Counter[str] = field(default_factory=Counter)
    overdue: list[tuple[int, Overdue]] = field(default_factory=list)
    stranded: list[tuple[int, str, datetime]] = field(default_factory=list)
    other_policies: dict[str, int] = field(default_factory=dict)


def status_at(
    url: str, policy: Policy | Outline, now: datetime, as_of: datetime | None = None
) -> StatusReport:
    """:func:`status` of the store at ``url``: through the fast read path (no SQLAlchemy) where the URL
    allows it and nothing is replayed."""
    from engine.store import lite

    if as_of is None and lite.supported(url):
        standing, last, counts = lite.status_reads(url, policy.policy, now)
        return _report(policy, standing, last, counts, now, replayed=False)
    from engine.services.setup import open_store

    return status(open_store(url), policy, now, as_of)


def status(
    store: Engine, policy: Policy | Outline, now: datetime, as_of: datetime | None = None
) -> StatusReport:
    """Where the policy's relationships stand at ``now``, or at ``as_of`` replayed from the audit history."""
    from engine.domain.audit import replay
    from engine.store import audit, records
    from engine.store import relationships as rel_store
    from engine.store.database import UnitOfWork

    moment = as_of or now
    with UnitOfWork(store, write=False) as uow:
        if as_of is None:
            standing = rel_store.standings(uow.conn, policy.policy)
        else:
            entries = audit.entries(uow.conn, until=as_of, by_relationship=True, policy_name=policy.policy)
            standing = list(replay(_moves(entries), as_of))
        last = records.last_meetings(uow.conn, moment)
        counts = rel_store.relationships_per_policy(uow.conn, created_by=as_of)
    return _report(policy, standing, last, counts, moment, replayed=as_of is not None)


def _report(
    policy: Policy | Outline,
    standing: Iterable[tuple[int, str, datetime]],
    last: dict[int, datetime],
    counts: dict[str, int],
    moment: datetime,
    *,
    replayed: bool,
) -> StatusReport:
    """Phase counts, stranded and overdue items of what was read, as :func:`status` reports them."""
    from engine.domain.cadence import Standing, overdue
    from engine.domain.programs import other_policies

    report = StatusReport(as_of=moment, replayed=replayed)
    report.other_policies = other_policies(counts, policy.policy)
    for rid, phase, entered in standing:
        report.phases[phase] += 1
        if phase not in policy.phases:
            report.stranded.append((rid, phase, entered))
        for item in overdue(policy, Standing(phase, entered, last.get(rid)), moment):
            report.overdue.append((rid, item))
    return report


def _moves(entries: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The entries that moved a pair (or created it): a recorded fact does not begin a stay in a phase."""
    from engine.policy.vocabulary import RECORD_TRIGGERS

    return (entry for entry in entries if entry["trigger"] not in RECORD_TRIGGERS)


@dataclass
class VerifyReport:
    """What ``audit verify`` found: problems, chains and entries checked, and the heads' digest."""

    problems: list[Problem | ParticipantProblem]
    relationships: int
    entries: int
    digest: str
    participant_entries: int = 0  # entries of the participants' own chains, checked too


Anchors = dict[int, tuple[int, str]]


def verify(store: Engine, anchors: Anchors | None = None) -> VerifyReport:
    """Recompute every relationship's hash chain and compare it with the relationship rows.

    With ``anchors`` (relationship -> (seq, hash) saved earlier by ``write_anchor``),
    also check that each anchored entry is still there, unchanged: a whole chain
    rewritten by a database superuser no longer matches its anchor.
    """
    from engine.domain.audit import Head, Problem, heads_digest, verify_chain
    from engine.services.participant_history import verify_participants
    from engine.services.record_checks import check_records
    from engine.store import audit
    from engine.store import relationships as rel_store
    from engine.store.database import UnitOfWork

    with UnitOfWork(store, write=False) as uow:
        heads = {
            r.id: Head(r.id, r.audit_seq, r.audit_head, r.phase) for r in rel_store.chain_heads(uow.conn)
        }
        unchecked = dict(heads)
        problems: list[Problem | ParticipantProblem] = []
        count = 0
        for rid, chain in _chains(audit.entries(uow.conn, by_relationship=True)):
            count += len(chain)
            head = unchecked.pop(rid, None)
            if head is None:
                problems.append(Problem(rid, None, "has audit entries but no relationship row"))
                continue
            problems += verify_chain(head, chain)
            if anchors and rid in anchors:
                problems += _check_anchor(rid, anchors[rid], chain)
        for rid in set(anchors or {}) - set(heads):
            problems.append(Problem(rid, None, "anchored, but the relationship is gone"))
        for head in unchecked.values():
            problems += verify_chain(head, [])
        problems += check_records(uow.conn)  # every meeting and answer row against the entry that recorded it
        people_entries, people_problems = verify_participants(uow.conn)
        problems += people_problems  # printed alike: "participant N, entry S: ..."
    report = VerifyReport(problems, len(heads), count, heads_digest(heads.values()))
    report.participant_entries = people_entries
    return report


def verify_relationship(store: Engine, rel_id: int) -> list[Problem]:
    """The problems :func:`verify` finds in relationship ``rel_id``'s chain (its entries against each other
    and against its row's head), reading that chain alone; the records and the participants' chains
    are ``audit verify``'s whole-store checks."""
    from engine.domain.audit import Head, verify_chain
    from engine.store import audit
    from engine.store import relationships as rel_store
    from engine.store.database import UnitOfWork

    with UnitOfWork(store, write=False) as uow:
        rel = rel_store.relationship(uow.conn, rel_id)
        if rel is None:
            raise NotFoundError(f"no relationship {rel_id}")
        found = audit.chain(uow.conn, rel_id)
    return verify_chain(Head(rel.id, rel.audit_seq, rel.audit_head, rel.phase), found)


def _check_anchor(rid: int, anchor: tuple[int, str], chain: list[dict[str, Any]]) -> list[Problem]:
    from engine.domain.audit import Problem

    seq, digest = anchor
    found = next((e for e in chain if e["seq"] == seq), None)
    if found is None:
        return [Problem(rid, seq, "anchored entry is missing")]
    if found["hash"] != digest:
        return [Problem(rid, seq, "anchored entry was rewritten: its hash differs from the anchor")]
    return []


def write_anchor(store: Engine, path: Path) -> tuple[int, str]:
    """Write every chain head (relationship, seq, hash) as JSON lines; returns (count, digest)."""
    from engine.domain.audit import Head, heads_digest
    from engine.store import relationships as rel_store
    from engine.store.database import UnitOfWork

    with UnitOfWork(store, write=False) as uow:
        rows = rel_store.chain_heads(uow.conn)
    heads = [Head(r.id, r.audit_seq, r.audit_head, "") for r in rows]
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        for head in heads:
            out.write(
                json.dumps({"relationship_id": head.relationship_id, "seq": head.seq, "hash": head.head})
            )
            out.write("\n")
    partial.replace(path)
    return len(heads), heads_digest(heads)


def read_anchor(path: Path) -> Anchors:
    """Read a file written by ``write_anchor``; InputError naming the line if it is not one."""
    anchors: Anchors = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{named('anchor')}: cannot read {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
            anchors[int(record["relationship_id"])] = (int(record["seq"]), str(record["hash"]))
        except (ValueError, KeyError, TypeError):
            raise InputError(
                f"{path}:{number}: not an anchor line (expected JSON with relationship_id, seq, hash)"
            ) from None
    return anchors


def _chains(entries: Iterator[dict[str, Any]]) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    current: int | None = None
    chain: list[dict[str, Any]] = []
    for entry in entries:
        if entry["relationship_id"] != current:
            if current is not None:
                yield current, chain
            current, chain = entry["relationship_id"], []
        chain.append(entry)
    if current is not None:
        yield current, chain


def export(store: Engine, out: IO[str], fmt: str, since: datetime | None = None) -> int:
    """Write the audit history as JSON lines or CSV; returns the number of entries written.

    The JSON lines are the entries as stored (their hashes can be recomputed from them); in the CSV,
    text that a spreadsheet would read as a formula starts with a ``'`` (see :mod:`engine.reporting.cells`).
    """
    from engine.domain.audit import ENTRY_FIELDS, export_record
    from engine.reporting.cells import csv_record
    from engine.store import audit
    from engine.store.database import UnitOfWork

    count = 0
    with UnitOfWork(store, write=False) as uow:
        writer = (
            csv.DictWriter(out, fieldnames=["id", *ENTRY_FIELDS, "hash", "reason_seal"])
            if fmt == "csv"
            else None
        )
        if writer is not None:
            writer.writeheader()
        for entry in audit.entries(uow.conn, since):
            record = export_record(entry)
            if writer is not None:
                writer.writerow(csv_record({**record, "data": json.dumps(record["data"], sort_keys=True)}))
            else:
                out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count
