"""The fast read path (engine.store.lite, no SQLAlchemy) reads what the SQLAlchemy path reads.

`status` and `relationships list` read through it on SQLite and PostgreSQL; each test
builds a program with phases moved, meetings held (one of them retracted) and overdue
items, and compares both paths row for row, on both back ends.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.policy.outline import outline_of
from engine.services import listing, queries, recording, retraction
from engine.store import lite
from tests.integration.support import fire, import_examples

MENTOR = "E1002"


def _url(store: Engine) -> str:
    return store.url.render_as_string(hide_password=False)


def _program(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    """Relationships in intake, matched and kickoff, one closed; meetings held, the last one retracted."""
    rels = import_examples(store, policy, clock)
    clock.advance(timedelta(days=1))
    fire(store, lifecycle, clock, rels[0], "match", mentor=MENTOR)
    fire(store, lifecycle, clock, rels[0], "schedule_kickoff")
    fire(store, lifecycle, clock, rels[1], "close", reason="left the company")
    recording.record_meeting(store, policy, clock, rels[0], "kickoff", None, actor="coordinator")
    clock.advance(timedelta(days=2))
    recording.record_meeting(store, policy, clock, rels[0], "check-in", None, actor="coordinator")
    seq = queries.history(store, rels[0])[0].audit_seq
    retraction.retract(store, policy, clock, rels[0], seq, reason="wrong day", actor="coordinator")
    clock.advance(timedelta(days=40))  # intake deadlines passed: overdue items
    return rels


def test_status_reads_the_same_on_both_paths(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    _program(store, policy, lifecycle, clock)
    url = _url(store)
    assert lite.supported(url)
    heavy = queries.status(store, policy, clock.now())
    light = queries.status_at(url, outline_of(policy), clock.now())
    assert light == heavy
    assert heavy.overdue and sum(heavy.phases.values()) == 14


def test_last_meetings_leave_out_a_retracted_one(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    from engine.store import records

    rels = _program(store, policy, lifecycle, clock)
    with store.connect() as conn:
        heavy = records.last_meetings(conn, clock.now())
    _, light, counts = lite.status_reads(_url(store), policy.policy, clock.now())
    assert light == heavy and set(light) == {rels[0]}
    assert counts == {policy.policy: 14}


def test_relationships_list_reads_the_same_on_both_paths(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    _program(store, policy, lifecycle, clock)
    url = _url(store)
    for phase in (None, "kickoff", "closed", "review"):
        assert listing.relationships_at(url, phase) == listing.relationships(store, phase), phase
    assert [row["phase"] for row in listing.relationships_at(url, "kickoff")] == ["kickoff"]
