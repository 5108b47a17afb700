"""A batch of participant entries hashes exactly as one entry at a time does (the chain's hash inputs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from engine.domain.audit import GENESIS
from engine.domain.participant_audit import ParticipantEntries, participant_entry, participant_entry_hash

CASES = [
    (1, 1, GENESIS, "create", ["role", "name", "email"]),
    (2, 2, "ab" * 32, "import", ["name"]),
    (3, 7, "cd" * 32, "leave", []),
    (10**12, 1, GENESIS, "training", ["trained", "trained"]),
    (5, 3, "ef" * 32, "import", ("skills", "wants", "email")),
    (6, 1, GENESIS, 'caus\u00e9 "quoted"', ["naam", "é"]),
]


@pytest.mark.parametrize("actor", ["hr", "Zoë Ünal", 'a "quoted" \\ actor', "日本"])
@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_a_batch_writes_the_entries_one_at_a_time_writes(actor: str, now: datetime) -> None:
    batch = ParticipantEntries(actor, now)
    for pid, seq, prev, cause, fields in CASES:
        expected = participant_entry(pid, seq, prev, actor, cause, fields, now)
        found = batch.entry(pid, seq, prev, cause, fields)
        assert found == expected
        assert participant_entry_hash(found) == found["hash"]
