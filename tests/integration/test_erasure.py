"""Erasing a person: nothing of theirs is left in a dump of the whole database, every chain verifies,
and the report counts what it counted before, with a pseudonym for their name."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest
from sqlalchemy import Engine, select, text

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.errors import RefusedError
from engine.policy.model import Policy
from engine.reporting.build import report
from engine.reporting.outcomes import ERASED_REASON
from engine.services.erasure import ErasureRequest, erase_participant
from engine.services.help import HelpRequest, ask_for_help
from engine.services.matching import propose
from engine.services.queries import verify
from engine.services.recording import record_meeting, record_survey
from engine.store.tables import audit_entries, participants

from .support import final_answers, fire, import_examples, to_review

SECRET_NOTE = "talked about her burnout at Globex"
SECRET_ANSWER = "my manager Jan Smit is the problem"
CLOSE_REASON = "Priya moved to the Rotterdam office"
SECRET_WORDS = "my mentor keeps cancelling on me"


def dump(store: Engine) -> str:
    """Every row of every table, as the database's own dump tool writes it."""
    if store.dialect.name == "sqlite":
        with sqlite3.connect(store.url.database or "") as conn:
            return "\n".join(conn.iterdump())
    url = store.url
    with store.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    command = ["pg_dump", "--data-only", "--schema", schema, "-h", url.host or "127.0.0.1"]
    command += ["-p", str(url.port or 5432), "-U", url.username or "postgres", url.database or "test"]
    written = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return "\n".join(
        line for line in written.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))
    )


def _people(store: Engine) -> list[dict[str, object]]:
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(select(participants).order_by(participants.c.id)).mappings()]


def _program(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> int:
    """A program where Priya Raman's pair has met, noted something, answered with free text."""
    rels = import_examples(store, policy, clock)
    propose(store, lifecycle, clock, actor="matching")
    to_review(store, policy, lifecycle, clock, rels[9])  # Priya Raman's pair, with Marieke de Vries
    record_meeting(store, policy, clock, rels[9], "check-in", None, actor="coordinator", notes=SECRET_NOTE)
    answers = {**final_answers(store, rels[9]), "comments": SECRET_ANSWER}
    record_survey(store, policy, clock, rels[9], "final", "mentee", answers, actor="mentee")
    ask_for_help(
        store, lifecycle, clock, HelpRequest(rels[9], "mentee", "help", SECRET_WORDS, "k1"), actor="m"
    )
    return rels[9]


def test_an_erased_person_is_nowhere_in_the_dump_and_every_chain_verifies(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _program(store, policy, lifecycle, clock)
    fire(store, lifecycle, clock, rel, "close", reason=CLOSE_REASON)
    priya = next(p for p in _people(store) if p["name"] == "Priya Raman")
    before = report(store, policy, clock.now())
    dumped = dump(store)
    secrets = (priya["name"], priya["email"], SECRET_NOTE, SECRET_ANSWER, CLOSE_REASON, SECRET_WORDS)
    assert all(str(secret) in dumped for secret in secrets)

    done = erase_participant(
        store, lifecycle, clock, ErasureRequest(str(priya["email"]), "request 17", "dpo")
    )

    assert done.closed == [] and done.relationships == 1 and done.texts["meeting_notes"] == 1
    after = dump(store)
    for secret in secrets:
        assert str(secret) not in after, secret
    for goal in priya["goals"]:  # type: ignore[attr-defined]
        assert goal not in after, goal
    checked = verify(store)
    assert checked.problems == [] and checked.participant_entries > 0
    query = select(audit_entries).where(audit_entries.c.relationship_id == rel).order_by(audit_entries.c.seq)
    with store.connect() as conn:
        chain = [dict(row) for row in conn.execute(query).mappings()]
    assert chain[-1]["trigger"] == "erase" and chain[-1]["data"]["participant_id"] == priya["id"]
    assert [e["to_phase"] for e in chain[-2:]] == ["closed", "closed"]
    erased = next(p for p in _people(store) if p["id"] == priya["id"])
    assert erased["name"] == f"Erased participant {priya['id']}" and erased["erased_at"] is not None
    was = json.dumps(before, sort_keys=True, default=str)
    now = json.dumps(report(store, policy, clock.now()), sort_keys=True, default=str)
    assert now.replace(str(erased["name"]), str(priya["name"])).replace(ERASED_REASON, CLOSE_REASON) == was


def test_an_open_relationship_is_closed_first_only_when_asked(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = _program(store, policy, lifecycle, clock)
    dumped = dump(store)
    with pytest.raises(RefusedError, match=rf"open relationship\(s\): {rel} \(review\)"):
        erase_participant(
            store, lifecycle, clock, ErasureRequest("priya.raman@example.com", "request 17", "dpo")
        )
    assert dump(store) == dumped, "a refused erasure writes nothing"
    request = ErasureRequest("priya.raman@example.com", "request 17", "dpo", close=True)
    done = erase_participant(store, lifecycle, clock, request)
    assert done.closed == [rel] and verify(store).problems == []
    assert SECRET_NOTE not in dump(store)


def test_erasing_twice_or_nobody_is_refused(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    _program(store, policy, lifecycle, clock)
    request = ErasureRequest("E1003", "request 18", "dpo", close=True)
    erase_participant(store, lifecycle, clock, request)
    with pytest.raises(RefusedError, match="erased already"):
        erase_participant(store, lifecycle, clock, ErasureRequest("3", "again", "dpo"))
    assert verify(store).problems == []


@pytest.mark.usefixtures("written_before_seals")
def test_an_entry_written_before_seals_is_erased_and_vouched_for(
    store: Engine,
    policy: Policy,
    lifecycle: Lifecycle,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rel = _program(store, policy, lifecycle, clock)
    fire(store, lifecycle, clock, rel, "close", reason=CLOSE_REASON)  # its text hashed, as before seals
    monkeypatch.undo()  # the erasure is today's
    e = audit_entries.c
    query = select(e.id, e.hash, e.reason_seal).where(e.relationship_id == rel, e.reason == CLOSE_REASON)
    with store.connect() as conn:
        closing = conn.execute(query).one()
    assert closing.reason_seal is None and verify(store).problems == []

    erase_participant(store, lifecycle, clock, ErasureRequest("priya.raman@example.com", "request 19", "dpo"))

    assert CLOSE_REASON not in dump(store) and verify(store).problems == []
    with store.connect() as conn:
        kept = conn.execute(select(e.hash).where(e.id == closing.id)).scalar_one()
    assert kept == closing.hash, "the entry keeps its hash; the erasure entry vouches for what is left of it"
