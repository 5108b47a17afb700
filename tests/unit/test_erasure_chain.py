"""Erasure and the hash chain, without a database: a sealed reason is erased and the entry still verifies;
an entry written before seals, or one naming a person, is redacted and vouched for by the erasure entry;
tampering with either still shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from engine.domain.audit import GENESIS, Cause, Head, entry_hash, seal, verify_chain
from engine.domain.erasure import erasure_entry, redacted_data, redactions

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PHASES = ["intake", "matched", "closed"]


def _entry(seq: int, prev_hash: str, cause: Cause, data: dict[str, Any]) -> dict[str, Any]:
    """An entry as the store holds it; a cause made with ``seal=None`` stands for one from before seals."""
    entry: dict[str, Any] = {
        "id": 100 + seq, "relationship_id": 7, "seq": seq, "at": AT + timedelta(days=seq),
        "actor": cause.actor, "trigger": cause.trigger, "from_phase": None if seq == 1 else PHASES[seq - 2],
        "to_phase": PHASES[seq - 1], "reason": cause.reason, "policy_name": "default",
        "policy_version": "sha256:abc", "data": data, "prev_hash": prev_hash,
        "reason_seal": cause.seal, "reason_salt": cause.salt,
    }  # fmt: skip
    entry["hash"] = entry_hash(entry)
    return entry


def _chain(*, sealed: bool) -> list[dict[str, Any]]:
    """Created, matched by hand with an override, closed early with a reason."""

    def cause(trigger: str, reason: str | None) -> Cause:
        made = Cause("coordinator:sam", trigger, reason)
        if not sealed:  # as written before seals: the chain hashes the reason's text
            object.__setattr__(made, "seal", None)
            object.__setattr__(made, "salt", None)
        return made

    override = {"constraints": ["different_department"], "reason": "asked for it", "overruled": ["Finance"]}
    steps = [
        (cause("create", None), {"mentee_id": 3, "mentee": "priya@example.com"}),
        (cause("match", "asked for it"), {"mentor_id": 5, "mentor": "E1001", "override": override}),
        (cause("close", "Priya moved to Rotterdam"), {"requires": ["reason"]}),
    ]
    chain: list[dict[str, Any]] = []
    for seq, (made, data) in enumerate(steps, start=1):
        chain.append(_entry(seq, chain[-1]["hash"] if chain else GENESIS, made, data))
    return chain


def _erased(chain: list[dict[str, Any]], refs: set[str]) -> list[dict[str, Any]]:
    found = {r.seq: r for r in redactions(chain, refs)}
    kept = [
        {**e, "reason": None, "reason_salt": None, "data": found[e["seq"]].data} if e["seq"] in found else e
        for e in chain
    ]
    last = erasure_entry(
        kept[-1], Cause("dpo", "erase", "request 17", {"participant_id": 3}), list(found.values()), AT
    )
    return [*kept, {**last, "id": 200}]


def _head(chain: list[dict[str, Any]]) -> Head:
    return Head(7, chain[-1]["seq"], chain[-1]["hash"], chain[-1]["to_phase"])


def test_a_sealed_reason_erased_leaves_its_entry_verifying_without_a_vouch() -> None:
    chain = _chain(sealed=True)
    assert verify_chain(_head(chain), chain) == []
    erased = _erased(chain, {"priya@example.com"})
    assert verify_chain(_head(erased), erased) == []
    assert [e["reason"] for e in erased[:3]] == [None, None, None]
    vouched = erased[-1]["data"]["redacted"]
    assert {"seq": 3} in vouched, "a sealed reason needs no vouch: its hash still holds"
    assert all("hash" in item for item in vouched if item["seq"] in (1, 2)), "their data changed"
    assert erased[0]["data"]["mentee"] == "#3" and erased[1]["data"]["override"]["reason"] is None


def test_an_entry_written_before_seals_is_vouched_for_by_the_erasure() -> None:
    chain = _chain(sealed=False)
    assert chain[2]["reason_seal"] is None and verify_chain(_head(chain), chain) == []
    erased = _erased(chain, {"priya@example.com"})
    assert erased[2]["reason"] is None and verify_chain(_head(erased), erased) == []
    assert [e["hash"] for e in erased[:3]] == [e["hash"] for e in chain], "the chain's hashes stay"


def test_tampering_after_an_erasure_still_shows() -> None:
    erased = _erased(_chain(sealed=False), {"priya@example.com"})
    moved = [dict(e) for e in erased]
    moved[2]["from_phase"] = "intake"  # a vouched-for entry edited afterwards
    assert [p.seq for p in verify_chain(_head(moved), moved)] == [3]
    forged = [dict(e) for e in erased]
    forged[-1]["data"] = {**forged[-1]["data"], "redacted": []}  # the vouch itself edited
    assert {p.seq for p in verify_chain(_head(forged), forged)} >= {1, 2, 3, 4}


def test_a_sealed_reason_changed_in_place_shows() -> None:
    chain = _chain(sealed=True)
    chain[2]["reason"] = "something else"
    problems = verify_chain(_head(chain), chain)
    assert [(p.seq, p.message) for p in problems] == [(3, "edited: its reason does not match its seal")]


def test_a_seal_tells_nothing_without_its_salt() -> None:
    first, second = Cause("a", "close", "moved away"), Cause("a", "close", "moved away")
    assert first.seal != second.seal and first.seal == seal(str(first.salt), "moved away")


def test_redacted_data_names_people_by_id_and_drops_override_texts() -> None:
    data = {"mentor_id": 5, "mentor": "mentor@example.com", "old_mentor_id": 4, "old_mentor": "E4"}
    assert redacted_data(data, {"E4"}) == {
        "mentor_id": 5,
        "mentor": "#5",
        "old_mentor_id": 4,
        "old_mentor": "#4",
    }
    assert redacted_data({"mentor_id": 5, "mentor": "E5"}, {"E4"}) == {"mentor_id": 5, "mentor": "E5"}


def test_the_entries_that_vouch_are_the_erasures_of_the_vocabulary() -> None:
    from engine.domain.audit import REDACTING
    from engine.policy.vocabulary import ERASE, PURGE, RECORD_TRIGGERS

    assert frozenset({ERASE, PURGE}) == REDACTING and REDACTING <= RECORD_TRIGGERS
