"""A batched import writes exactly what importing the same people one at a time writes.

The import writes its people in batches (one statement per table per batch); importing each person
on their own, one import per row, is the row-at-a-time reference. Both must leave the same rows in
every table the import touches: the same ids, values, history entries, relationships, audit chains
(heads included) and outbox rows.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from engine.clock import SimulatedClock
from engine.domain import audit
from engine.files.participants import ParticipantsFile, read_participants_text
from engine.policy.model import Policy
from engine.services import participants as services
from engine.services.participants import ImportSummary
from engine.store.database import open_engine
from engine.store.tables import (
    audit_entries,
    metadata,
    outbox,
    participant_entries,
    participants,
    relationships,
)

HEADER = "external_id,role,name,email,department,manager_id,skills,wants,languages,timezone,capacity,trained"
TABLES = (participants, participant_entries, relationships, audit_entries, outbox)
Importer = Callable[[Engine, ParticipantsFile], ImportSummary]


def _first_row(i: int) -> str:
    """Person ``i``: one in four a mentor, reporting to a mentor with a smaller number."""
    mentor = i % 4 == 0
    manager = f"P{i // 10 * 4:03d}" if i >= 4 else ""
    skills = "coaching;negotiation" if mentor else ""
    wants = "" if mentor else ("negotiation;public speaking" if i % 3 else "coaching")
    return (
        f"P{i:03d},{'mentor' if mentor else 'mentee'},Person {i} Çelik,p{i}@example.com,"
        f"{('HR', 'Finance', 'Sales')[i % 3]},{manager},{skills},{wants},nl;en,Europe/Amsterdam,"
        f"{1 + i % 3},{'yes' if mentor and i % 8 else 'no'}"
    )


def _first_file(count: int) -> str:
    return "\n".join([HEADER, *(_first_row(i) for i in range(count))]) + "\n"


def _second_file(count: int) -> str:
    """Changes to the first ``count // 2`` people (names, departments, lists, leave, left, training),
    then new people among unchanged and changed ones; every status change comes before the first
    new mentee, so one import per row writes its rows in the order one import of the file does."""
    rows = []
    for i in range(count // 2):
        mentor = i % 4 == 0
        name, department, skills, status, trained = f"Person {i} Çelik", "HR", "", "active", "no"
        kind = i % 5
        if kind == 0:
            rows.append(f"{_first_row(i)},active")  # unchanged
            continue
        if kind == 1:
            name = f"Person {i} van den Bergh"
        elif kind == 2:
            department, skills = "Legal", "feedback;lean;coaching"
        elif kind == 3:
            status, trained = ("active", "yes") if mentor else ("leave", "no")
        elif kind == 4 and not mentor:
            status = "left"
        rows.append(
            f"P{i:03d},{'mentor' if mentor else 'mentee'},{name},p{i}@example.com,{department},,"
            f"{skills},,nl;en,Europe/Amsterdam,1,{trained},{status}"
        )
    for i in range(count // 2, count):
        rows.append(
            f"{_first_row(i)},active"
            if i % 3 == 0
            else f"P{i:03d},{'mentor' if i % 4 == 0 else 'mentee'},Person {i} Çelik,p{i}@example.com,"
            f"{'Sales' if i % 2 else 'HR'},,,,nl,Europe/Oslo,1,no,active"
        )
        key = f"Q{i:03d}" if i % 7 else ""  # some new people without an external id
        rows.append(f"{key},mentee,New {i},new{i}@example.com,Sales,P000,,coaching,en,,1,no,active")
    return "\n".join([f"{HEADER},status", *rows]) + "\n"


def _batched(policy: Policy, clock: SimulatedClock) -> Importer:
    def run(store: Engine, read: ParticipantsFile) -> ImportSummary:
        return services.import_participants(
            store, policy, clock, read.people, actor="hr", columns=read.columns, rows=read.rows
        )

    return run


def _one_at_a_time(policy: Policy, clock: SimulatedClock) -> Importer:
    def run(store: Engine, read: ParticipantsFile) -> ImportSummary:
        summaries = [
            services.import_participants(
                store, policy, clock, [person], actor="hr", columns=read.columns, rows=[place]
            )
            for person, place in zip(read.people, read.rows, strict=True)
        ]
        return ImportSummary(
            sum(s.created for s in summaries),
            sum(s.updated for s in summaries),
            sum(s.unchanged for s in summaries),
            [rel_id for s in summaries for rel_id in s.relationships_opened],
        )

    return run


def _dump(store: Engine) -> dict[str, list[dict[str, Any]]]:
    with store.connect() as conn:
        return {
            table.name: [dict(row) for row in conn.execute(select(table).order_by(table.c.id)).mappings()]
            for table in TABLES
        }


def _empty_twin(store: Engine, request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    """An empty store on the same back end (PostgreSQL: the same schema, emptied, ids restarted)."""
    if store.dialect.name == "postgresql":
        names = ", ".join(table.name for table in metadata.sorted_tables)
        with store.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return store
    path = tmp_path / "twin.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return open_engine(f"sqlite:///{path}")


def _summary(summary: ImportSummary) -> tuple[int, int, int, list[int]]:
    return summary.created, summary.updated, summary.unchanged, summary.relationships_opened


def test_a_batched_import_writes_what_one_import_per_person_writes(
    store: Engine,
    policy: Policy,
    clock: SimulatedClock,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services, "BATCH", 16)  # a few hundred people make many batches
    salts = itertools.count()  # a leaver's reason is sealed with a random salt: here the n-th of each twin
    monkeypatch.setattr(audit, "new_salt", lambda: f"{next(salts):032x}")
    monkeypatch.setattr(services, "COMPARED", 7)  # and many chunks compared against their rows
    first = read_participants_text(_first_file(300), "first.csv")
    second = read_participants_text(_second_file(300), "second.csv")
    reference = _one_at_a_time(policy, clock)
    expected = [_summary(reference(store, first)), _summary(reference(store, second))]
    expected_rows = _dump(store)

    twin = _empty_twin(store, request, tmp_path)
    salts = itertools.count()
    batched = _batched(policy, clock)
    summaries = [_summary(batched(twin, first)), _summary(batched(twin, second))]

    assert summaries == expected
    assert summaries[0][:3] == (300, 0, 0) and len(summaries[0][3]) == 225
    assert summaries[1][0] == 150 and summaries[1][1] > 0 and summaries[1][2] > 0
    rows = _dump(twin)
    assert {name: len(found) for name, found in rows.items()} == {
        name: len(found) for name, found in expected_rows.items()
    }
    for table in TABLES:
        assert rows[table.name] == expected_rows[table.name], table.name
    heads = [(r["id"], r["audit_seq"], r["audit_head"]) for r in rows["relationships"]]
    assert heads == [(r["id"], r["audit_seq"], r["audit_head"]) for r in expected_rows["relationships"]]
    assert any(r["audit_seq"] > 1 for r in rows["relationships"])  # the status changes moved some
    assert any(e["cause"] == "import" for e in rows["participant_entries"])
    if twin is not store:
        twin.dispose()


def test_a_person_matched_twice_in_one_file_is_written_in_file_order(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    """By external id on one row (with a new email) and by their old email on another: both changes are
    written, the second after the first, as one import per row would."""
    services.import_participants(
        store, policy, clock, read_participants_text(_first_file(8), "first.csv").people, actor="hr"
    )
    twice = read_participants_text(
        f"{HEADER}\nP001,mentee,Renamed,renamed1@example.com,HR,,,,nl,,1,no\n"
        ",mentee,Renamed again,p1@example.com,Legal,,,,nl,,1,no\n",
        "twice.csv",
    )

    summary = _batched(policy, clock)(store, twice)

    assert (summary.updated, summary.created) == (2, 0)
    with store.connect() as conn:
        row = conn.execute(select(participants).where(participants.c.external_id == "P001")).one()
        chain = conn.execute(
            select(participant_entries.c.seq, participant_entries.c.fields)
            .where(participant_entries.c.participant_id == row.id)
            .order_by(participant_entries.c.id)
        ).all()
    assert (row.email, row.name, row.department, row.audit_seq) == (
        "renamed1@example.com",
        "Renamed again",
        "Legal",
        3,
    )
    assert [seq for seq, _ in chain] == [1, 2, 3]


def test_a_dry_run_compared_in_chunks_plans_what_one_chunk_plans(
    store: Engine, policy: Policy, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each person is compared with their row as it was before the import, whatever chunk they are in:
    the same plan, old values included, as comparing everyone at once."""
    first = read_participants_text(_first_file(60), "first.csv")
    services.import_participants(store, policy, clock, first.people, actor="hr", columns=first.columns)
    second = read_participants_text(_second_file(60), "second.csv")

    def plan() -> ImportSummary:
        return services.import_participants(
            store, policy, clock, second.people, actor="hr", columns=second.columns, dry_run=True
        )

    whole = plan()
    monkeypatch.setattr(services, "COMPARED", 4)
    chunked = plan()

    assert chunked == whole
    assert whole.updated > 0 and any(p.changes for p in whole.people)
    assert any(old != new for p in whole.people for _, old, new in p.changes if isinstance(old, list))
