"""``status --as-of`` agrees with replaying the exported history by hand."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import advance as services
from engine.services import queries, recording

from .support import SINGLE_MENTOR, TRAINED_MENTOR, UNTRAINED_MENTOR, answer_final, fire, import_examples


def _program_of_eight_months(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> list[datetime]:
    """A history written at many simulated moments; returns moments worth asking about."""
    start = clock.now()
    rels = import_examples(store, policy, clock)
    a, b, c, d, e = rels[:5]
    clock.advance(timedelta(days=2))
    fire(store, lifecycle, clock, a, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, b, "match", mentor=UNTRAINED_MENTOR)
    fire(store, lifecycle, clock, c, "match", mentor=SINGLE_MENTOR)
    fire(store, lifecycle, clock, a, "schedule_kickoff")  # same moment as its match
    clock.advance(timedelta(days=3))
    fire(store, lifecycle, clock, c, "schedule_kickoff")
    fire(store, lifecycle, clock, d, "close", reason="left the company")
    clock.advance(timedelta(days=4))
    for rel in (a, c):
        recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
        fire(store, lifecycle, clock, rel, "start")
    clock.advance(timedelta(days=20))
    recording.record_training(store, clock, UNTRAINED_MENTOR)
    fire(store, lifecycle, clock, b, "schedule_kickoff")
    fire(store, lifecycle, clock, e, "match", mentor=TRAINED_MENTOR)
    clock.advance(timedelta(days=170))
    services.advance_many(store, lifecycle, clock, [a, c], "review", actor="tick")
    clock.advance(timedelta(days=10))
    for rel in (a, c):
        answer_final(store, policy, clock, rel, "mentor")
        answer_final(store, policy, clock, rel, "mentee")
    fire(store, lifecycle, clock, a, "close")
    fire(store, lifecycle, clock, c, "renew")
    clock.advance(timedelta(days=30))
    offsets = [-1, 0, 1, 2 * 24, 2 * 24 + 1, 5 * 24, 9 * 24, 29 * 24, 30 * 24, 199 * 24, 209 * 24, 300 * 24]
    return [start + timedelta(hours=h) for h in offsets]


def _replay_by_hand(lines: list[str], as_of: datetime) -> Counter[str]:
    """Phase per relationship at ``as_of``: its last entry (in chain order) written at or before it."""
    last: dict[int, tuple[int, str]] = {}
    for line in lines:
        record = json.loads(line)
        at = datetime.fromisoformat(record["at"].replace("Z", "+00:00"))
        rel, seq = record["relationship_id"], record["seq"]
        if at <= as_of and seq > last.get(rel, (0, ""))[0]:
            last[rel] = (seq, record["to_phase"])
    return Counter(phase for _, phase in last.values())


def test_status_as_of_agrees_with_replaying_the_export_by_hand(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    moments = _program_of_eight_months(store, policy, lifecycle, clock)
    out = io.StringIO()

    written = queries.export(store, out, "jsonl")

    lines = out.getvalue().splitlines()
    assert written == len(lines) == queries.verify(store).entries
    seen = set()
    for as_of in moments:
        by_hand = _replay_by_hand(lines, as_of)
        report = queries.status(store, policy, clock.now(), as_of=as_of)
        assert report.replayed and report.as_of == as_of
        assert report.phases == by_hand, as_of
        seen.add(tuple(sorted(by_hand.items())))
    assert len(seen) >= 6  # the moments really see different states of the program


def test_status_now_agrees_with_the_last_moment_replayed(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    _program_of_eight_months(store, policy, lifecycle, clock)

    now = queries.status(store, policy, clock.now())
    replayed = queries.status(store, policy, clock.now(), as_of=clock.now())

    assert not now.replayed
    assert now.phases == replayed.phases
    # recorded meetings and survey answers are in the history but begin no stay: the same overdue items
    assert sorted(now.overdue, key=repr) == sorted(replayed.overdue, key=repr)
    assert now.phases == Counter({"intake": 9, "closed": 2, "kickoff": 1, "matched": 1, "active": 1})


def test_status_as_of_reports_what_was_overdue_then(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    start = clock.now()
    rel = import_examples(store, policy, clock)[0]
    clock.advance(timedelta(days=40))
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)

    early = queries.status(store, policy, clock.now(), as_of=start + timedelta(days=20))
    late = queries.status(store, policy, clock.now(), as_of=start + timedelta(days=21))

    assert early.overdue == []
    assert {(rid, item.kind, item.action) for rid, item in late.overdue if rid == rel} == {
        (rel, "deadline", "escalate")
    }


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_writes_every_field_of_every_entry(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, fmt: str
) -> None:
    rel = import_examples(store, policy, clock)[0]
    clock.advance(timedelta(microseconds=123456))
    fire(store, lifecycle, clock, rel, "close", reason="Zoë moved to Malmö")
    out = io.StringIO()

    count = queries.export(store, out, fmt)

    text = out.getvalue()
    assert count == 15
    assert "Zoë moved to Malmö" in text
    assert "2026-01-05T09:00:00.123456Z" in text
    if fmt == "jsonl":
        last = json.loads(text.splitlines()[-1])
        _, entries = queries.history(store, rel)
        assert last["hash"] == entries[-1].hash and last["prev_hash"] == entries[-2].hash
        assert last["data"] == {"requires": ["reason"]}
