"""A participant asks for help or a pause through their personal link: the coordinator is told, the pair
pauses where the policy allows, the same request twice is recorded once, and their words stay out of
the audit chain."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.delivery.channels import ProgramInfo
from engine.delivery.messages import Contact, OutboxRow, Pair, compose
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, NotFoundError, RefusedError
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.services.help import HelpRequest, ask_for_help
from engine.services.queries import history, verify
from engine.store.tables import relationships

from .support import footprint, import_examples, outbox_rows

ACTOR = "participant:E1102 via link"
WORDS = "We cannot find a time to meet; my project ends in March."


def _active_pair(store: Engine, policy: Policy, clock: SimulatedClock) -> int:
    rel_id = import_examples(store, policy, clock)[0]
    with store.begin() as conn:  # as if the kickoff had been held
        conn.execute(relationships.update().where(relationships.c.id == rel_id).values(phase="active"))
    return rel_id


def test_a_pause_asked_for_pauses_the_pair_and_tells_the_coordinator(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = load_policy(shipped_policies()["with-pause"])
    rel_id = _active_pair(store, policy, clock)

    done = ask_for_help(
        store, Lifecycle(policy), clock, HelpRequest(rel_id, "mentee", "pause", WORDS, "k1"), actor=ACTOR
    )

    assert (done.recorded, done.paused, done.not_paused) == (True, True, None)
    _, entries = history(store, rel_id)
    assert [(e.trigger, e.to_phase, e.actor) for e in entries[-2:]] == [
        ("pause", "paused", ACTOR),
        ("help_requested", "paused", ACTOR),
    ]
    assert entries[-1].data == {"role": "mentee", "wish": "pause", "paused": True}
    assert all(WORDS not in str(e.model_dump()) for e in entries)  # their words are the coordinator's only
    message = [row for row in outbox_rows(store, rel_id) if row["action"] == "help_requested"]
    assert len(message) == 1 and message[0]["params"]["help"]["note"] == WORDS
    assert not verify(store).problems


def test_the_same_request_twice_is_recorded_once(store: Engine, clock: SimulatedClock) -> None:
    policy = load_policy(shipped_policies()["with-pause"])
    rel_id = _active_pair(store, policy, clock)
    request = HelpRequest(rel_id, "mentor", "help", None, "k1")
    assert ask_for_help(store, Lifecycle(policy), clock, request, actor=ACTOR).recorded
    before = footprint(store)

    again = ask_for_help(store, Lifecycle(policy), clock, request, actor=ACTOR)

    assert not again.recorded and footprint(store) == before


def test_a_pause_the_policy_does_not_have_is_asked_for_not_made(
    store: Engine, lifecycle: Lifecycle, policy: Policy, clock: SimulatedClock
) -> None:
    rel_id = _active_pair(store, policy, clock)

    done = ask_for_help(
        store, lifecycle, clock, HelpRequest(rel_id, "mentee", "pause", None, "k"), actor=ACTOR
    )

    assert done.recorded and not done.paused and done.not_paused == "the policy 'default' has no pause"
    assert history(store, rel_id)[1][-1].to_phase == "active"
    params = next(r["params"] for r in outbox_rows(store, rel_id) if r["action"] == "help_requested")
    assert params["help"]["not_paused"] == done.not_paused


@pytest.mark.parametrize(
    ("request_", "error", "named"),
    [
        (HelpRequest(1, "mentee", "quit", None, "k"), InputError, "`wish`"),
        (HelpRequest(1, "boss", "help", None, "k"), InputError, "`role`"),
        (HelpRequest(1, "mentee", "help", "x" * 2001, "k"), InputError, "`note`"),
        (HelpRequest(1, "mentee", "help", "a\x00b", "k"), InputError, "control characters"),
        (HelpRequest(999, "mentee", "help", None, "k"), NotFoundError, "no relationship 999"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(
    store: Engine,
    lifecycle: Lifecycle,
    policy: Policy,
    clock: SimulatedClock,
    request_: HelpRequest,
    error: type[Exception],
    named: str,
) -> None:
    import_examples(store, policy, clock)
    before = footprint(store)
    with pytest.raises(error, match=named):
        ask_for_help(store, lifecycle, clock, request_, actor=ACTOR)
    assert footprint(store) == before


def test_a_closed_pair_cannot_ask(
    store: Engine, lifecycle: Lifecycle, policy: Policy, clock: SimulatedClock
) -> None:
    rel_id = import_examples(store, policy, clock)[0]
    with store.begin() as conn:
        conn.execute(relationships.update().where(relationships.c.id == rel_id).values(phase="closed"))
    before = footprint(store)
    with pytest.raises(RefusedError, match="has ended"):
        ask_for_help(store, lifecycle, clock, HelpRequest(rel_id, "mentee", "help", None, "k"), actor=ACTOR)
    assert footprint(store) == before


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_coordinator_reads_who_asked_what_and_what_happened(language: str) -> None:
    help_ = {"role": "mentee", "wish": "pause", "paused": False, "note": WORDS, "not_paused": "no pause here"}
    params = {"recipient": "coordinator", "help": help_}
    row = OutboxRow(
        7, 3, "help_requested:3:mentee:k", "help_requested", params, datetime(2026, 3, 2, tzinfo=UTC)
    )
    pair = Pair(
        Contact("Thijs Bakker", "thijs@example.com"), Contact("Marieke de Vries", "m@example.com"), "active"
    )
    program = ProgramInfo(
        name="Mentoring", coordinator_name="Co", coordinator_email="co@example.com", language=language
    )
    [message] = compose(row, pair, program)
    assert message.recipient == "coordinator"
    assert "Thijs Bakker" in message.subject + message.body and WORDS in message.body
    assert "no pause here" in message.body and "mentorflow history 3" in message.body
