"""Every query of the tick, delivery, matching and the report reads by an index, on SQLite and PostgreSQL.

A store is filled with a few thousand rows in every large table (a second program, delivered
messages, long histories, meetings, answers, proposals), analysed, and the real services run on
it while the SQL they send is captured. Each captured SELECT, UPDATE and DELETE is explained with
its own parameters; a plan that reads the whole of a large table fails the test with the query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, text

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.reporting.build import program_insights, report
from engine.services import delivery, matching, recording
from engine.services.tick import run_tick
from engine.store.tables import (
    LIST_FIELDS,
    audit_entries,
    match_proposals,
    meetings,
    outbox,
    outbox_deliveries,
    participants,
    relationships,
    survey_responses,
)

from .delivery_support import FakeChannel, channels_of
from .support import TRAINED_MENTOR, fire, import_examples

OTHER = 8000  # relationships of another program: the tested program's work must not read them
OURS = 300  # the tested program's pairs that wait for a later moment, or are closed
LARGE = (
    "relationships",
    "audit_entries",
    "outbox",
    "outbox_deliveries",
    "participants",
    "participant_entries",
    "meetings",
    "survey_responses",
    "goals",
    "match_proposals",
)
"""Tables that grow with the program: never read whole. The others (policy_versions: a row per policy
version; installation: one row; alembic_version) stay a handful of rows."""


def _people(count: int, role: str, moment: Any) -> list[dict[str, Any]]:
    return [
        {
            "role": role,
            "name": f"{role.title()} {i}",
            "email": f"filler-{role}{i}@example.com",
            "external_id": f"filler-{role}-{i}",
            **{column: [] for column in LIST_FIELDS},
            "capacity": 1,
            "trained": True,
            "created_at": moment,
            "updated_at": moment,
        }
        for i in range(count)
    ]


def _ids(store: Engine, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    with store.begin() as conn:
        return [int(i) for i in conn.execute(insert(table).returning(table.c.id), rows).scalars()]


def _filler(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    """Rows of every large table that the operations below must not read: another program's pairs and
    their history (most closed, their mentors gone), the tested program's pairs due later or closed,
    messages sent long ago."""
    past, later = clock.now() - timedelta(days=200), clock.now() + timedelta(days=30)
    mentees = _ids(store, participants, _people(OTHER // 2, "mentee", past))
    mentors = _ids(store, participants, _people(OTHER // 40, "mentor", past))
    with store.begin() as conn:  # a program that has run for years: most of its mentors have left
        conn.execute(participants.update().where(participants.c.id.in_(mentors[20:])).values(status="left"))
    rels = [
        {
            "mentee_id": mentees[i % len(mentees)],
            "mentor_id": mentors[i % len(mentors)],
            "policy_name": "other" if i < OTHER else policy.policy,
            "phase": "active" if i % 20 == 0 else "closed",
            "phase_entered_at": past,
            "due_at": later if i % 20 == 0 else None,
            "version": 1,
            "audit_seq": 2,
            "audit_head": "f" * 64,
            "created_at": past,
        }
        for i in range(OTHER + OURS)
    ]
    rel_ids = _ids(store, relationships, rels)
    _history(store, rel_ids, rels, past)


def _history(store: Engine, rel_ids: list[int], rels: list[dict[str, Any]], past: Any) -> None:
    entry = {
        "actor": "filler",
        "from_phase": None,
        "to_phase": "active",
        "reason": None,
        "policy_name": "other",
        "policy_version": "1",
        "data": {},
        "prev_hash": "0" * 64,
        "hash": "f" * 64,
    }
    _ids(
        store,
        audit_entries,
        [
            {**entry, "relationship_id": rid, "seq": seq, "at": past, "trigger": trigger}
            for rid in rel_ids
            for seq, trigger in ((1, "create"), (2, "record_meeting"))
        ],
    )
    _ids(
        store,
        meetings,
        [
            {
                "relationship_id": rid,
                "kind": "check-in",
                "held_on": past,
                "recorded_at": past,
                "recorded_by": "filler",
                "entry_seq": 2,
            }
            for rid in rel_ids
        ],
    )
    _ids(
        store,
        survey_responses,
        [
            {
                "relationship_id": rid,
                "survey": "final",
                "respondent": "mentee",
                "answered_at": past,
                "answers": {},
            }
            for rid in rel_ids[::3]
        ],
    )
    sent = _ids(
        store,
        outbox,
        [
            {
                "relationship_id": rid,
                "idempotency_key": f"filler:{rid}",
                "action": "remind",
                "params": {},
                "created_at": past,
                "status": "delivered",
                "attempts": 1,
                "next_attempt_at": None,
                "delivered_at": past,
            }
            for rid in rel_ids
        ],
    )
    _ids(
        store,
        outbox_deliveries,
        [
            {
                "outbox_id": oid,
                "recipient": "mentee",
                "channel": "log",
                "message_id": f"<{oid}@filler>",
                "sent_at": past,
            }
            for oid in sent
        ],
    )
    _ids(
        store,
        match_proposals,
        [
            {
                "run": 1,
                "relationship_id": rid,
                "mentee_id": rels[i]["mentee_id"],
                "mentor_id": rels[i]["mentor_id"],
                "breakdown": {},
                "explanation": {},
                "status": "rejected" if i % 50 == 0 else "approved",
                "mode": "optimal",
                "policy_version": "1",
                "created_at": past,
            }
            for i, rid in enumerate(rel_ids)
        ],
    )


def _program(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> None:
    """The tested program's own pairs, through the services: matched, in kickoff, with a meeting."""
    rels = import_examples(store, policy, clock)
    fire(store, lifecycle, clock, rels[0], "match", mentor=TRAINED_MENTOR)
    clock.advance(timedelta(days=1))
    run_tick(store, lifecycle, clock.now())  # moves the trained mentor's pair on
    recording.record_meeting(store, policy, clock, rels[0], "kickoff", None, actor="pair")


def _analyse(store: Engine) -> None:
    with store.begin() as conn:
        conn.execute(text("ANALYZE"))


class Captured:
    """The statements (and their first parameter set) an engine sends while listening."""

    def __init__(self, store: Engine) -> None:
        self.store = store
        self.statements: list[tuple[str, Any]] = []

    def __call__(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("SELECT", "UPDATE", "DELETE", "WITH"):
            self.statements.append((statement, parameters[0] if many and parameters else parameters))

    def __enter__(self) -> Captured:
        event.listen(self.store, "before_cursor_execute", self)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.store, "before_cursor_execute", self)


def _sqlite_scans(store: Engine, statement: str, parameters: Any) -> list[str]:
    with store.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    tables = {name: name for name in LARGE}  # SQLite names a table by its alias in the plan
    tables.update(
        (alias, name) for name, alias in re.findall(r"\b(\w+) AS (\w+)\b", statement) if name in LARGE
    )
    scans = []
    for detail in (str(row[-1]) for row in plan):
        words = detail.split()
        if words[0] == "SCAN" and words[1] in tables and "USING" not in words:  # USING (COVERING) INDEX
            scans.append(f"SCAN {tables[words[1]]}")
    return scans


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", ()):
        yield from _nodes(child)


def _postgres_scans(store: Engine, statement: str, parameters: Any) -> list[str]:
    with store.begin() as conn:
        # At a test's size (thousands of rows) PostgreSQL's costs rightly prefer reading a table whole to
        # a few hundred index probes, as they would not at a program's size. With sequential scans priced
        # out the planner takes an index whenever one can serve the query, and scans a table whole only
        # when none can: the question this test asks. SET LOCAL: for this transaction only.
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        raw = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar_one()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return [
        f"Seq Scan on {node['Relation Name']}"
        for node in _nodes(plan[0]["Plan"])
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in LARGE
    ]


def _full_scans(store: Engine, captured: Captured, whole: frozenset[str]) -> list[str]:
    """The full scans of large tables in the captured plans; a table of ``whole`` may be scanned by a
    statement with no WHERE at all (one that reads the table whole by design, once)."""
    explain = _postgres_scans if store.dialect.name == "postgresql" else _sqlite_scans
    found, seen = [], set()
    for statement, parameters in captured.statements:
        if statement in seen:
            continue
        seen.add(statement)
        for scan in explain(store, statement, parameters):
            if scan.split()[-1] in whole and " WHERE " not in statement:
                continue
            found.append(f"{scan}\n    in: {' '.join(statement.split())}")
    return found


@pytest.fixture
def populated(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> Engine:
    _filler(store, policy, clock)
    _program(store, policy, lifecycle, clock)
    clock.advance(timedelta(days=15))  # the matched pair's deadline has passed, the intakes wait on
    _analyse(store)
    return store


def _assert_by_index(store: Engine, captured: Captured, whole: frozenset[str] = frozenset()) -> None:
    assert captured.statements, "the operation sent no query"
    scans = _full_scans(store, captured, whole)
    assert not scans, f"{len(scans)} full scan(s) of a large table:\n" + "\n".join(scans)


def test_the_tick_reads_by_index(populated: Engine, lifecycle: Lifecycle, clock: SimulatedClock) -> None:
    with Captured(populated) as captured:
        summary = run_tick(populated, lifecycle, clock.now())
    assert summary.examined > 0
    _assert_by_index(populated, captured)


def test_delivery_reads_by_index(populated: Engine, policy: Policy, clock: SimulatedClock) -> None:
    channel = FakeChannel()
    with Captured(populated) as captured:
        summary = delivery.deliver_due(
            populated, channels_of(channel), clock.now(), policy_name=policy.policy
        )
    assert summary.delivered > 0 and channel.sent
    _assert_by_index(populated, captured)


def test_matching_reads_by_index(populated: Engine, lifecycle: Lifecycle, clock: SimulatedClock) -> None:
    with Captured(populated) as captured:
        run = matching.propose(populated, lifecycle, clock, actor="coordinator@example.com")
    assert run.rows
    # a run weighs every active mentor against the waiting mentees, so it reads the participants once,
    # whole (and nothing else whole: earlier pairs and rejections are read for the waiting mentees only)
    _assert_by_index(populated, captured, whole=frozenset({"participants"}))


def test_the_report_reads_by_index(populated: Engine, policy: Policy, clock: SimulatedClock) -> None:
    with Captured(populated) as captured:
        figures = report(populated, policy, clock.now())
        program_insights(populated, policy, clock.now())
    assert figures
    # its heading counts the relationships of every program, so it reads them once, whole
    _assert_by_index(populated, captured, whole=frozenset({"relationships"}))
