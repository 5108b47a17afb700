"""Many personal links opened at once: the same answers as one at a time, in a few statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, select

from engine.clock import SimulatedClock
from engine.delivery import links
from engine.delivery.links import LINK_LIFETIME, Link, Refusal
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services.links import OpenedLink, issue_link, link_actor, open_link, open_links, revoke_links
from engine.store.tables import relationships

from .support import SINGLE_MENTOR, TRAINED_MENTOR, fire, import_examples

KEYS = ("k" * 40,)
BASE = "https://mentoring.example.com"


@pytest.fixture
def pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    """The example program: relationships 1 and 2 matched to the trained mentor, 3 to another one, the
    others in intake."""
    rels = import_examples(store, policy, clock)
    for rel, mentor in zip(rels[:3], (TRAINED_MENTOR, TRAINED_MENTOR, SINGLE_MENTOR), strict=True):
        fire(store, lifecycle, clock, rel, "match", mentor=mentor)
    clock.advance(timedelta(minutes=1))
    return rels


def _token(store: Engine, policy: Policy, clock: SimulatedClock, rel: int, role: str, purpose: str) -> str:
    made = issue_link(store, rel, role, purpose, clock.now(), KEYS, BASE, terminal=policy.terminal_phases)
    return made.token


def _mentee(store: Engine, rel: int) -> int:
    with store.connect() as conn:
        query = select(relationships.c.mentee_id).where(relationships.c.id == rel)
        return int(conn.execute(query).scalar_one())


@contextmanager
def _statements(store: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``store`` inside the block."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(store, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(store, "before_cursor_execute", count)


def test_a_mixed_batch_gives_what_each_link_gives_alone(
    store: Engine, policy: Policy, clock: SimulatedClock, pairs: list[int]
) -> None:
    first, second, third, waiting = pairs[:4]
    issued = clock.now()
    opens = _token(store, policy, clock, first, "mentee", "meeting")
    mentor_opens = _token(store, policy, clock, first, "mentor", "survey")
    revoked = _token(store, policy, clock, second, "mentee", "help")
    expired_and_revoked = _token(store, policy, clock, second, "mentor", "help")
    someone_else = Link("kickoff", third, "mentee", links.binding(KEYS, _mentee(store, first)), clock.now())
    no_pair = Link("meeting", 9999, "mentee", links.binding(KEYS, _mentee(store, first)), clock.now())
    no_mentor = Link("meeting", waiting, "mentor", links.binding(KEYS, _mentee(store, waiting)), clock.now())
    clock.advance(timedelta(seconds=1))
    revoke_links(store, clock.now(), "coordinator", relationship=second)
    clock.advance(timedelta(seconds=1))
    after_revocation = _token(store, policy, clock, second, "mentee", "help")
    late = issued + LINK_LIFETIME + timedelta(seconds=1)  # the first links have expired, the last not yet
    requests = [
        (opens, "meeting"),
        (opens[:-3], "meeting"),  # tampered
        (opens, "survey"),  # wrong_purpose
        (revoked, "help"),
        (links.sign(someone_else, KEYS), "kickoff"),  # wrong_person: another pair's mentee
        (mentor_opens, "survey"),
        (links.sign(no_pair, KEYS), "meeting"),  # wrong_person: no such relationship
        (links.sign(no_mentor, KEYS), "meeting"),  # wrong_person: the pair has no mentor
        (after_revocation, "help"),
        (opens, "meeting"),  # the same link twice: opened twice
    ]
    now = clock.now()
    batch = open_links(store, requests, now, KEYS)
    assert batch == [open_link(store, token, purpose, now, KEYS) for token, purpose in requests]
    kinds = [r.kind if isinstance(r, Refusal) else r.role for r in batch]
    assert kinds == [
        "mentee", "tampered", "wrong_purpose", "revoked", "wrong_person", "mentor", "wrong_person",
        "wrong_person", "mentee", "mentee",
    ]  # fmt: skip
    # expiry comes before the store's checks: an expired link that was also revoked is "expired"
    aged = [(expired_and_revoked, "help"), (after_revocation, "help"), (opens, "meeting")]
    later = open_links(store, aged, late, KEYS)
    assert later == [open_link(store, t, p, late, KEYS) for t, p in aged]
    assert [r.kind if isinstance(r, Refusal) else "opens" for r in later] == ["expired", "opens", "expired"]


def test_a_person_revoked_in_all_their_pairs_is_refused_in_the_batch_too(
    store: Engine, policy: Policy, clock: SimulatedClock, pairs: list[int]
) -> None:
    tokens = [(_token(store, policy, clock, rel, "mentor", "meeting"), "meeting") for rel in pairs[:3]]
    tokens.append((_token(store, policy, clock, pairs[0], "mentee", "meeting"), "meeting"))
    clock.advance(timedelta(seconds=1))
    revoke_links(store, clock.now(), "coordinator", participant=TRAINED_MENTOR, reason="left")
    batch = open_links(store, tokens, clock.now(), KEYS)
    assert [r.kind if isinstance(r, Refusal) else r.role for r in batch] == [
        "revoked",
        "revoked",
        "mentor",
        "mentee",
    ]
    assert batch == [open_link(store, t, p, clock.now(), KEYS) for t, p in tokens]


def test_the_store_is_read_in_the_same_few_statements_however_many_links(
    store: Engine, policy: Policy, clock: SimulatedClock, pairs: list[int]
) -> None:
    few = [(_token(store, policy, clock, pairs[0], "mentee", "meeting"), "meeting")]
    many = [(_token(store, policy, clock, rel, role, "meeting"), "meeting")
            for rel in pairs[:3] for role in ("mentee", "mentor")]  # fmt: skip
    with _statements(store) as one:
        assert isinstance(open_links(store, few, clock.now(), KEYS)[0], OpenedLink)
    with _statements(store) as six:
        assert all(isinstance(r, OpenedLink) for r in open_links(store, many, clock.now(), KEYS))
    reads = [s for s in six if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == len([s for s in one if s.lstrip().upper().startswith("SELECT")]) == 2
    with _statements(store) as none:
        assert open_links(store, [("not a token", "meeting")], clock.now(), KEYS) == [Refusal("tampered")]
    assert open_links(store, [], clock.now(), KEYS) == []
    assert none == []  # nothing genuine: the store is not read


def test_the_actor_names_the_person_by_external_id_else_by_number() -> None:
    assert link_actor("E1102", 7) == "participant:E1102 via link"
    assert link_actor(None, 7) == link_actor("", 7) == "participant:#7 via link"
