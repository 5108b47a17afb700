"""The event feed's numbering: nothing skipped when a transaction commits after a later one, nothing
numbered twice, and the feed's pages as the API serves them."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, insert, select

from engine.clock import SimulatedClock
from engine.policy.model import Policy
from engine.services.events import event_source, feed, publish
from engine.services.recording import record_training
from engine.store.tables import events, participant_entries, participants
from tests.integration.support import TRAINED_MENTOR, UNTRAINED_MENTOR, import_examples


def _positions(store: Engine) -> list[tuple[int, str, int]]:
    with store.connect() as conn:
        rows = conn.execute(select(events).order_by(events.c.position))
        return [(int(p), str(s), int(e)) for p, s, e in rows]


def test_every_entry_is_numbered_once_in_its_order(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    first = publish(store)
    assert first == len(_positions(store)) > 20 and publish(store) == 0
    record_training(store, clock, UNTRAINED_MENTOR, actor="lms")
    assert publish(store) >= 1
    numbered = _positions(store)
    assert [p for p, _, _ in numbered] == list(range(1, len(numbered) + 1))
    assert len({(s, e) for _, s, e in numbered}) == len(numbered)
    page, last = feed(store, event_source(store, clock.now()), 0, 5)
    assert [e["sequence"] for e in page] == ["1", "2", "3", "4", "5"] and last == 5
    rest, end = feed(store, event_source(store, clock.now()), last, 1000)
    assert int(rest[0]["sequence"]) == 6 and end == len(numbered) and feed(store, "s", end, 10) == ([], end)


@pytest.mark.postgres
def test_a_late_commit_is_numbered_not_skipped(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    if store.dialect.name != "postgresql":
        pytest.skip("one writer at a time on SQLite: no transaction commits behind another")
    import_examples(store, policy, clock)
    publish(store)
    with store.connect() as conn:
        mentor = conn.execute(select(participants.c.id).where(participants.c.external_id == TRAINED_MENTOR))
        mentor_id = mentor.scalar_one()
    holding, release = threading.Event(), threading.Event()

    def late_writer() -> None:  # an entry written first, committed last
        with store.begin() as conn:
            conn.execute(
                insert(participant_entries).values(
                    participant_id=mentor_id, seq=99, at=clock.now(), actor="late", cause="test", fields=[],
                    prev_hash="0" * 64, hash="1" * 64,
                )
            )  # fmt: skip
            holding.set()
            release.wait(10)

    writer = threading.Thread(target=late_writer)
    writer.start()
    assert holding.wait(10)
    record_training(store, clock, UNTRAINED_MENTOR, actor="lms")  # committed while the other still runs
    began = time.monotonic()
    assert publish(store) == 0  # the horizon waits for the late writer, then gives up for now
    assert time.monotonic() - began >= 1.5
    release.set()
    writer.join(10)
    assert publish(store) >= 2
    numbered = _positions(store)
    late = [p for p, s, e in numbered if s == "participant" and e == max(x for _, k, x in numbered if k == s)]
    assert [p for p, _, _ in numbered] == list(range(1, len(numbered) + 1)) and late
    with store.connect() as conn:
        total = conn.execute(select(participant_entries.c.id)).all()
    assert len([1 for _, s, _ in numbered if s == "participant"]) == len(total)
