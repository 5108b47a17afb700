"""A stored digest of the audit chains of one fixed, scripted program: a guard for work on the engine.

The script runs seven months of a program on a simulated clock under the shipped default policy: the
example participants imported, four pairs matched by hand (one with a mentor who is trained later), a
cadence tick every day, kickoffs and check-ins recorded, a check-in retracted, a mentor replaced, the
final survey answered, pairs closed by the tick and by a coordinator. It then takes a SHA-256 of every
relationship's and every participant's chain head (id, seq, hash; sorted by id) and of the number of
entries of each kind of chain.

Every field that goes into an entry's hash, the way it is encoded, the order entries are written in and
the policy version (the hash of the policy file) feed that digest, so a change to any of them makes this
test fail, on SQLite and on PostgreSQL alike (both must give the same digest). Editing the shipped
default policy changes its version, and so the digest, too. The phase counts and entry counts are
checked first: when they differ, the engine now does something else, not merely hashes it differently.

``EXPECTED_DIGEST`` must change only when an issue says the audit format changes (what an entry
hashes, or how), or when this script itself is changed on purpose; never to make a faster or
refactored engine pass. Every chain already stored would fail ``audit verify`` after such a change.
(It changed when reasons came to be sealed: an entry with a reason hashes the reason's seal, made here
with fixed salts, instead of its text; the entries without a reason hash what they always did. It
changed again when the default policy became version 2, with program goals, resources, a peer session
and qualities in matching: the policy's version is in every entry; a creation entry names the mentee's
goals from the file, which became records; a participant's creation names the fields it was given, now
``qualities`` among them; and the mentees' final answers move their goals, four ``goal_progress``
entries more.)
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from engine.clock import SimulatedClock
from engine.domain import audit
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services import queries, recording, retraction
from engine.services.replacing import ReplaceRequest, replace_mentor
from engine.services.tick import run_tick
from engine.store.tables import audit_entries, participant_entries, participants, relationships

from .support import SINGLE_MENTOR, TRAINED_MENTOR, UNTRAINED_MENTOR, answer_final, fire, import_examples

EXPECTED_DIGEST = "91629c40dad68f7e8629d8ad7339385a8496a3cb0db77b145e2a90504afd20f0"
EXPECTED_ENTRIES = (85, 21)  # (relationship entries, participant entries)
EXPECTED_PHASES = {"closed": 3, "intake": 9, "review": 2}

DAY = timedelta(days=1)
DAYS = 215  # past six months in active (the default program's duration), and the review after it
COORDINATOR = "coordinator@example.com"


def _head(store: Engine, rel: int) -> int:
    with store.connect() as conn:
        query = select(relationships.c.audit_seq).where(relationships.c.id == rel)
        return int(conn.execute(query).scalar_one())


def _script(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> None:
    """Run the program: a tick every day, then that day's events; the pairs are the first five mentees'."""
    rels = import_examples(store, policy, clock)
    a, b, c, d, e = rels[:5]
    fire(store, lifecycle, clock, a, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, b, "match", mentor=UNTRAINED_MENTOR)  # waits in matched for the training
    fire(store, lifecycle, clock, c, "match", mentor=SINGLE_MENTOR)
    fire(store, lifecycle, clock, d, "match", mentor=TRAINED_MENTOR)

    def meet(rel: int, kind: str = "check-in") -> None:
        recording.record_meeting(store, policy, clock, rel, kind, None, actor="pair")

    def event(day: int) -> None:
        if day == 1:  # still in kickoff: the mentor may be replaced
            replace_mentor(
                store, policy, clock, ReplaceRequest(d, "E1002", "mentor moved abroad", COORDINATOR)
            )
        elif day == 2:
            for rel in (a, c, d):
                meet(rel, "kickoff")
        elif day == 5:
            fire(store, lifecycle, clock, e, "close", reason="left the company")
        elif day == 9:
            recording.record_training(store, clock, UNTRAINED_MENTOR, actor="hr")
        elif day == 12:
            meet(b, "kickoff")
        elif day == 30:
            meet(c)
            retraction.retract(
                store, policy, clock, c, _head(store, c), reason="wrong pair", actor=COORDINATOR
            )
        elif day == 70:
            fire(store, lifecycle, clock, c, "close", reason="the pair stopped meeting")
        elif day == 190:
            answer_final(store, policy, clock, a, "mentee")
            answer_final(store, policy, clock, a, "mentor")
        elif day == 200:  # only the mentee: the pair stays in review
            answer_final(store, policy, clock, b, "mentee")
        if day % 14 == 0 and 14 <= day <= 182:
            for rel in (a, b, d):
                meet(rel)

    for day in range(DAYS):
        run_tick(store, lifecycle, clock.now())
        event(day)
        clock.advance(DAY)
    run_tick(store, lifecycle, clock.now())


def _digest(store: Engine) -> tuple[str, tuple[int, int], dict[str, int]]:
    """SHA-256 over every chain head, sorted by id, and the entry counts; and the pairs per phase."""
    with store.connect() as conn:
        rows = conn.execute(
            select(relationships.c.id, relationships.c.audit_seq, relationships.c.audit_head)
            .order_by(relationships.c.id)
        ).all()  # fmt: skip
        people = conn.execute(
            select(participants.c.id, participants.c.audit_seq, participants.c.audit_head)
            .order_by(participants.c.id)
        ).all()  # fmt: skip
        counts = (
            int(conn.execute(select(func.count()).select_from(audit_entries)).scalar_one()),
            int(conn.execute(select(func.count()).select_from(participant_entries)).scalar_one()),
        )
        phases = dict(
            conn.execute(select(relationships.c.phase, func.count()).group_by(relationships.c.phase)).all()
        )
    lines = [f"relationship {rid} {seq} {head}" for rid, seq, head in rows]
    lines += [f"participant {pid} {seq} {head}" for pid, seq, head in people]
    lines.append(f"entries {counts[0]} {counts[1]}")
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return digest, counts, {str(k): int(v) for k, v in sorted(phases.items())}


def test_the_audit_chains_of_a_scripted_program_have_the_stored_digest(
    store: Engine,
    policy: Policy,
    lifecycle: Lifecycle,
    clock: SimulatedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    salts = (
        f"{n:032x}" for n in itertools.count(1)
    )  # a reason's seal is made with a random salt: fixed here
    monkeypatch.setattr(audit, "new_salt", lambda: next(salts))
    _script(store, policy, lifecycle, clock)

    assert queries.verify(store).problems == []  # the digest is of intact chains
    digest, counts, phases = _digest(store)
    assert phases == EXPECTED_PHASES
    assert counts == EXPECTED_ENTRIES
    assert digest == EXPECTED_DIGEST
