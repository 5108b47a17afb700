"""The audit history in the database: append-only, and every tampering found by ``verify``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import queries, recording

from .support import TRAINED_MENTOR, fire, import_examples


def _history_of_five(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> tuple[int, list[int]]:
    """Relationships with histories; the first has five entries, the fourth recording its kickoff meeting.

    Returns it and the ids of its entries.
    """
    rels = import_examples(store, policy, clock)
    rel = rels[0]
    clock.advance(timedelta(days=1))
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rels[1], "close", reason="changed teams")  # interleave another chain
    clock.advance(timedelta(days=1))
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
    clock.advance(timedelta(days=1))
    fire(store, lifecycle, clock, rel, "start")
    _, entries = queries.history(store, rel)
    assert [(e.seq, e.trigger) for e in entries] == [
        (1, "create"),
        (2, "match"),
        (3, "schedule_kickoff"),
        (4, "record_meeting"),
        (5, "start"),
    ]
    assert queries.verify(store).problems == []
    return rel, [e.id for e in entries]


def _execute(store: Engine, statement: str, **params: object) -> None:
    with store.begin() as conn:
        conn.execute(text(statement), params)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET reason = 'rewritten' WHERE id = 1",
        "DELETE FROM audit_entries WHERE id = 1",
        "DELETE FROM audit_entries",
    ],
    ids=["update", "delete one", "delete all"],
)
def test_the_database_refuses_to_change_an_audit_entry(
    store: Engine, policy: Policy, clock: SimulatedClock, statement: str
) -> None:
    import_examples(store, policy, clock)

    with pytest.raises(DBAPIError, match="append-only"):
        _execute(store, statement)

    assert queries.verify(store).problems == []
    assert queries.verify(store).entries == 14


def _problems_of(store: Engine, rel: int) -> list[str]:
    """What ``audit verify`` finds, all of it in ``rel``'s chain; the pair's own check (its page in the
    console), reading that chain alone, finds what the chain shows (the cross-check of the meeting and
    answer rows is the whole store's), and nothing in another pair's."""
    report = queries.verify(store)
    assert {p.relationship_id for p in report.problems} == {rel}, report.problems
    found = [str(p) for p in report.problems]
    own = [str(p) for p in queries.verify_relationship(store, rel)]
    assert own and set(own) <= set(found) and all(" row " in p for p in set(found) - set(own))
    assert queries.verify_relationship(store, rel + 1) == []
    return found


@pytest.mark.usefixtures("drop_append_only")
def test_verify_names_an_edited_entry(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel, ids = _history_of_five(store, policy, lifecycle, clock)

    _execute(store, "UPDATE audit_entries SET reason = 'nothing to see' WHERE id = :id", id=ids[1])

    problems = _problems_of(store, rel)
    assert f"relationship {rel}, entry 2: edited" in problems[0]


@pytest.mark.usefixtures("drop_append_only")
def test_verify_names_an_edited_actor_in_the_last_entry(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel, ids = _history_of_five(store, policy, lifecycle, clock)

    _execute(store, "UPDATE audit_entries SET actor = 'someone-else' WHERE id = :id", id=ids[-1])

    assert any(f"relationship {rel}, entry 5: edited" in p for p in _problems_of(store, rel))


@pytest.mark.usefixtures("drop_append_only")
def test_verify_names_a_deleted_middle_entry(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel, ids = _history_of_five(store, policy, lifecycle, clock)

    _execute(store, "DELETE FROM audit_entries WHERE id = :id", id=ids[1])

    problems = _problems_of(store, rel)
    assert any(f"relationship {rel}, entry 3: missing or reordered: expected entry 2" in p for p in problems)
    assert any(f"relationship {rel}, entry 3: broken chain" in p for p in problems)


@pytest.mark.usefixtures("drop_append_only")
def test_verify_names_a_deleted_last_entry(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel, ids = _history_of_five(store, policy, lifecycle, clock)

    _execute(store, "DELETE FROM audit_entries WHERE id = :id", id=ids[-1])

    problems = _problems_of(store, rel)
    assert problems == [
        f"relationship {rel}, entry 5: missing: the chain ends at entry 4, the relationship says 5"
    ]


@pytest.mark.usefixtures("drop_append_only")
def test_verify_names_a_deleted_whole_chain(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel, _ = _history_of_five(store, policy, lifecycle, clock)

    _execute(store, "DELETE FROM audit_entries WHERE relationship_id = :rel", rel=rel)

    assert _problems_of(store, rel) == [
        f"relationship {rel}: has no audit entries at all (expected at least its creation)",
        # the kickoff meeting's row stays, and the entry that recorded it is gone with the chain
        f"relationship {rel}, entry 4: meeting row 1 has no entry that recorded it",
    ]


@pytest.mark.usefixtures("drop_append_only")
def test_verify_names_entries_whose_ids_were_swapped(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel, ids = _history_of_five(store, policy, lifecycle, clock)
    second, third = ids[1], ids[2]

    # Three steps, so the primary key holds at every statement on both back ends.
    _execute(store, "UPDATE audit_entries SET id = -1 WHERE id = :id", id=second)
    _execute(store, "UPDATE audit_entries SET id = :new WHERE id = :id", new=second, id=third)
    _execute(store, "UPDATE audit_entries SET id = :new WHERE id = -1", new=third)

    problems = _problems_of(store, rel)
    assert any(f"relationship {rel}, entry 3: missing or reordered: expected entry 2" in p for p in problems)
    assert any(
        f"relationship {rel}, entry 2: reordered or duplicated: expected entry 4" in p for p in problems
    )


@pytest.mark.usefixtures("drop_append_only")
def test_verify_names_entries_whose_seqs_were_swapped(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel, ids = _history_of_five(store, policy, lifecycle, clock)

    _execute(store, "UPDATE audit_entries SET seq = -1 WHERE id = :id", id=ids[1])
    _execute(store, "UPDATE audit_entries SET seq = 2 WHERE id = :id", id=ids[2])
    _execute(store, "UPDATE audit_entries SET seq = 3 WHERE id = :id", id=ids[1])

    problems = _problems_of(store, rel)
    assert any(f"relationship {rel}, entry 3: missing or reordered" in p for p in problems)
    assert any(f"relationship {rel}, entry 3: edited" in p for p in problems)


@pytest.mark.usefixtures("drop_append_only")
def test_verify_names_a_phase_rewritten_on_the_relationship_row(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel, _ = _history_of_five(store, policy, lifecycle, clock)

    _execute(store, "UPDATE relationships SET phase = 'closed' WHERE id = :rel", rel=rel)

    assert _problems_of(store, rel) == [
        f"relationship {rel}: phase 'closed' does not match its history ('active')"
    ]


@pytest.mark.usefixtures("drop_append_only")
def test_a_tampered_history_changes_nothing_else_and_the_digest_pins_the_heads(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel, ids = _history_of_five(store, policy, lifecycle, clock)
    digest = queries.verify(store).digest

    _execute(store, "UPDATE audit_entries SET reason = 'x' WHERE id = :id", id=ids[0])
    assert queries.verify(store).digest == digest  # the heads themselves did not move

    _execute(store, "UPDATE relationships SET audit_seq = 4 WHERE id = :rel", rel=rel)
    assert queries.verify(store).digest != digest


def test_the_append_only_guard_is_back_after_the_tampering_tests(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)

    with pytest.raises(DBAPIError, match="append-only"):
        _execute(store, "UPDATE audit_entries SET actor = 'x'")
