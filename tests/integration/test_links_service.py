"""Personal links against the store: issued for a pair's people, opened read-only, revoked by row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, select

from engine.clock import SimulatedClock
from engine.delivery.links import LINK_LIFETIME, Refusal
from engine.domain.lifecycle import Lifecycle
from engine.errors import ConfigError, InputError, NotFoundError, RefusedError
from engine.policy.model import Policy
from engine.services.links import OpenedLink, issue_link, open_link, revoke_links
from engine.services.replacing import ReplaceRequest, replace_mentor
from engine.store.database import SCHEMA_REVISION, initialise, migrate, schema_revision
from engine.store.tables import link_revocations, metadata, participants, relationships
from tests.conftest import START

from .support import TRAINED_MENTOR, fire, import_examples

KEYS = ("k" * 40,)
BASE = "https://mentoring.example.com"


def _dump(store: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with store.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in metadata.sorted_tables
        }


def _people(store: Engine, rel: int) -> tuple[int, int | None]:
    with store.connect() as conn:
        row = conn.execute(
            select(relationships.c.mentee_id, relationships.c.mentor_id).where(relationships.c.id == rel)
        ).one()
    return row[0], row[1]


@pytest.fixture
def pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    """The example program: relationship 1 and 2 matched to the trained mentor, the others in intake."""
    rels = import_examples(store, policy, clock)
    for rel in rels[:2]:
        fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    clock.advance(timedelta(minutes=1))
    return rels


def _issue(store: Engine, policy: Policy, clock: SimulatedClock, rel: int, role: str, purpose: str) -> str:
    made = issue_link(store, rel, role, purpose, clock.now(), KEYS, BASE, terminal=policy.terminal_phases)
    assert made.url == f"{BASE}/l/{purpose}/{made.token}"
    return made.token


def test_the_migration_adds_the_revocations_and_goes_back(store: Engine) -> None:
    assert schema_revision(store) == SCHEMA_REVISION
    assert "link_revocations" in inspect(store).get_table_names()
    migrate(store, "downgrade", "0008")
    assert "link_revocations" not in inspect(store).get_table_names()
    initialise(store)
    columns = {c["name"]: c["nullable"] for c in inspect(store).get_columns("link_revocations")}
    assert columns == {
        "id": False, "relationship_id": True, "participant_id": True, "revoked_at": False,
        "revoked_by": False, "reason": True,
    }  # fmt: skip


def test_an_issued_link_opens_for_its_person_and_page_and_writes_nothing(
    store: Engine, policy: Policy, clock: SimulatedClock, pairs: list[int]
) -> None:
    before = _dump(store)
    mentee, mentor = _people(store, pairs[0])
    for role, person in (("mentee", mentee), ("mentor", mentor)):
        token = _issue(store, policy, clock, pairs[0], role, "survey")
        for _ in range(2):  # opened twice: the same answer, nothing written
            opened = open_link(store, token, "survey", clock.now(), KEYS)
            assert isinstance(opened, OpenedLink)
            assert (opened.relationship_id, opened.participant_id, opened.role, opened.purpose) == (
                pairs[0], person, role, "survey",
            )  # fmt: skip
        assert open_link(store, token, "meeting", clock.now(), KEYS) == Refusal("wrong_purpose")
        assert open_link(store, token[:-2], "survey", clock.now(), KEYS) == Refusal("tampered")
        late = clock.now() + LINK_LIFETIME + timedelta(seconds=1)
        assert open_link(store, token, "survey", late, KEYS) == Refusal("expired")
    assert _dump(store) == before


def test_a_revocation_withdraws_the_links_issued_until_then(
    store: Engine, policy: Policy, clock: SimulatedClock, pairs: list[int]
) -> None:
    first, second = pairs[0], pairs[1]
    old = _issue(store, policy, clock, first, "mentee", "help")
    other_pair = _issue(store, policy, clock, second, "mentee", "help")
    clock.advance(timedelta(seconds=1))
    done = revoke_links(
        store, clock.now(), "coordinator", relationship=first, reason="sent to a wrong address"
    )
    assert open_link(store, old, "help", clock.now(), KEYS) == Refusal("revoked")
    assert isinstance(open_link(store, other_pair, "help", clock.now(), KEYS), OpenedLink)
    clock.advance(timedelta(microseconds=1))
    fresh = _issue(store, policy, clock, first, "mentee", "help")
    assert isinstance(open_link(store, fresh, "help", clock.now(), KEYS), OpenedLink)
    with store.connect() as conn:
        row = conn.execute(select(link_revocations)).mappings().one()
    assert dict(row) == {
        "id": done.id, "relationship_id": first, "participant_id": None, "revoked_at": done.revoked_at,
        "revoked_by": "coordinator", "reason": "sent to a wrong address",
    }  # fmt: skip


def test_a_persons_revocation_reaches_all_their_relationships(
    store: Engine, policy: Policy, clock: SimulatedClock, pairs: list[int]
) -> None:
    mentor_links = [_issue(store, policy, clock, rel, "mentor", "meeting") for rel in pairs[:2]]
    mentee_link = _issue(store, policy, clock, pairs[0], "mentee", "meeting")
    clock.advance(timedelta(seconds=1))
    done = revoke_links(store, clock.now(), "coordinator", participant=TRAINED_MENTOR)
    assert done.participant_id == _people(store, pairs[0])[1]
    for token in mentor_links:
        assert open_link(store, token, "meeting", clock.now(), KEYS) == Refusal("revoked")
    assert isinstance(open_link(store, mentee_link, "meeting", clock.now(), KEYS), OpenedLink)


def test_a_link_of_a_replaced_mentor_is_for_the_wrong_person(
    store: Engine, policy: Policy, clock: SimulatedClock, pairs: list[int]
) -> None:
    token = _issue(store, policy, clock, pairs[1], "mentor", "kickoff")
    replace_mentor(store, policy, clock, ReplaceRequest(pairs[1], "E1003", "a better fit", "coordinator"))
    assert open_link(store, token, "kickoff", clock.now(), KEYS) == Refusal("wrong_person")
    fresh = _issue(store, policy, clock, pairs[1], "mentor", "kickoff")
    opened = open_link(store, fresh, "kickoff", clock.now(), KEYS)
    assert isinstance(opened, OpenedLink) and opened.participant_id == _people(store, pairs[1])[1]


def test_a_link_for_a_pair_without_a_mentor_or_closed_or_unknown_is_refused(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, pairs: list[int]
) -> None:
    terminal = policy.terminal_phases
    with pytest.raises(RefusedError, match="has no mentor yet"):
        issue_link(store, pairs[2], "mentor", "help", clock.now(), KEYS, BASE, terminal=terminal)
    with pytest.raises(NotFoundError, match="no relationship 999"):
        issue_link(store, 999, "mentee", "help", clock.now(), KEYS, BASE, terminal=terminal)
    with pytest.raises(InputError, match="'boss' is not one of mentee, mentor"):
        issue_link(store, pairs[0], "boss", "help", clock.now(), KEYS, BASE, terminal=terminal)
    with pytest.raises(ConfigError, match=r"set base_url under \[web\]"):
        issue_link(store, pairs[0], "mentee", "help", clock.now(), KEYS, None, terminal=terminal)
    with pytest.raises(ConfigError, match="no key to sign personal links"):
        issue_link(store, pairs[0], "mentee", "help", clock.now(), (), BASE, terminal=terminal)
    fire(store, lifecycle, clock, pairs[0], "close", reason="left the company")
    with pytest.raises(RefusedError, match="a closed pair gets no links"):
        issue_link(store, pairs[0], "mentee", "help", clock.now(), KEYS, BASE, terminal=terminal)


def test_a_revocation_of_nobody_is_refused_and_writes_nothing(store: Engine, pairs: list[int]) -> None:
    before = _dump(store)
    with pytest.raises(NotFoundError, match="no participant 'E9999'"):
        revoke_links(store, START, "c", participant="E9999")
    with pytest.raises(NotFoundError, match="no relationship 999"):
        revoke_links(store, START, "c", relationship=999)
    with pytest.raises(InputError, match="either a relationship or a participant"):
        revoke_links(store, START, "c", relationship=1, participant="E1101")
    assert _dump(store) == before


def test_no_personal_data_of_the_pair_is_in_the_link(
    store: Engine, policy: Policy, clock: SimulatedClock, pairs: list[int]
) -> None:
    url = issue_link(
        store, pairs[0], "mentee", "survey", clock.now(), KEYS, BASE, terminal=policy.terminal_phases
    ).url
    with store.connect() as conn:
        person = conn.execute(select(participants).where(participants.c.external_id == "E1101")).one()
    for value in (person.name, person.email, person.external_id):
        assert value not in url
