"""Trainings mentors report through their links: recorded at once, or waiting for a coordinator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.errors import InputError, NotFoundError, RefusedError
from engine.policy.model import Policy, load_policy_text, resolve_policy_path
from engine.services.recording import record_training
from engine.services.training import (
    RECORDED,
    REPORTED,
    TRAINED,
    WAITING,
    decide_training_report,
    open_training_report,
    pending_training_reports,
    record_and_close,
    report_training,
)
from engine.services.users import add_user, disable_user
from engine.store.tables import metadata, participant_entries, participants, training_reports
from tests.integration.support import TRAINED_MENTOR, UNTRAINED_MENTOR, import_examples

LINK_ACTOR = f"participant:{UNTRAINED_MENTOR} via link"
PASSWORD = "a-long-enough-password"


@pytest.fixture
def confirming(policy: Policy) -> Policy:
    """The default policy with ``links.confirm_training`` set."""
    text = Path(resolve_policy_path("default")).read_text(encoding="utf-8")
    return load_policy_text(text + "\nlinks:\n  confirm_training: true\n", "confirming.yaml")


@pytest.fixture
def program(store: Engine, policy: Policy, clock: SimulatedClock) -> Engine:
    """The example participants, a coordinator ``sam`` and a viewer ``vera``."""
    import_examples(store, policy, clock)
    add_user(store, "sam", "coordinator", PASSWORD, clock.now())
    add_user(store, "vera", "viewer", PASSWORD, clock.now())
    return store


def _dump(store: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with store.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in metadata.sorted_tables
        }


def _trained(store: Engine, external_id: str) -> bool:
    with store.connect() as conn:
        query = select(participants.c.trained).where(participants.c.external_id == external_id)
        return bool(conn.execute(query).scalar_one())


def _training_entries(store: Engine) -> list[tuple[str, str]]:
    query = select(participant_entries.c.actor, participant_entries.c.cause).order_by(
        participant_entries.c.id
    )
    with store.connect() as conn:
        return [(a, c) for a, c in conn.execute(query) if c.startswith("training")]


def _reports(store: Engine) -> list[dict[str, Any]]:
    with store.connect() as conn:
        return [
            dict(r) for r in conn.execute(select(training_reports).order_by(training_reports.c.id)).mappings()
        ]


def test_without_confirmation_the_training_is_recorded_at_once(
    program: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    done = report_training(program, policy, clock, UNTRAINED_MENTOR, LINK_ACTOR)
    assert (done.outcome, done.report_id, done.relationship_ids) == (RECORDED, None, ())  # no pair yet
    assert _trained(program, UNTRAINED_MENTOR) and _reports(program) == []
    assert _training_entries(program) == [(LINK_ACTOR, "training")]


def test_with_confirmation_a_report_waits_and_a_second_one_writes_nothing(
    program: Engine, confirming: Policy, clock: SimulatedClock
) -> None:
    done = report_training(program, confirming, clock, UNTRAINED_MENTOR, LINK_ACTOR)
    assert done.outcome == REPORTED and done.report_id is not None
    assert not _trained(program, UNTRAINED_MENTOR) and _training_entries(program) == []
    (row,) = _reports(program)
    assert (row["reported_by"], row["reported_at"], row["decided_at"], row["decision"]) == (
        LINK_ACTOR, clock.now(), None, None,
    )  # fmt: skip
    (pending,) = pending_training_reports(program)
    assert (pending.id, pending.reference, pending.mentor) == (
        done.report_id,
        UNTRAINED_MENTOR,
        "Søren Ødegaard",
    )
    assert open_training_report(program, row["participant_id"]) == pending
    before = _dump(program)
    clock.advance(timedelta(hours=1))
    again = report_training(program, confirming, clock, UNTRAINED_MENTOR, LINK_ACTOR)
    assert (again.outcome, again.report_id) == (WAITING, done.report_id)
    assert _dump(program) == before


def test_a_trained_mentor_or_someone_else_reports_nothing(
    program: Engine, confirming: Policy, clock: SimulatedClock
) -> None:
    before = _dump(program)
    assert report_training(program, confirming, clock, TRAINED_MENTOR, "x").outcome == TRAINED
    with pytest.raises(NotFoundError, match="no mentor 'E2001'"):
        report_training(program, confirming, clock, "E2001", "x")  # a mentee
    assert _dump(program) == before


def test_a_coordinator_confirms_and_the_training_is_recorded_in_their_name(
    program: Engine, confirming: Policy, clock: SimulatedClock
) -> None:
    report_id = report_training(program, confirming, clock, UNTRAINED_MENTOR, LINK_ACTOR).report_id
    assert report_id is not None
    clock.advance(timedelta(hours=2))
    decided = decide_training_report(program, clock, report_id, True, "coordinator:sam")
    assert (decided.decision, decided.decided_by, decided.decided_at) == (
        "confirmed",
        "coordinator:sam",
        clock.now(),
    )
    assert _trained(program, UNTRAINED_MENTOR)
    assert _training_entries(program) == [("coordinator:sam", "training")]
    assert pending_training_reports(program) == []
    before = _dump(program)
    with pytest.raises(RefusedError, match=f"training report {report_id} was confirmed by coordinator:sam"):
        decide_training_report(program, clock, report_id, False, "coordinator:sam", "changed my mind")
    assert _dump(program) == before


def test_confirming_again_after_the_training_was_recorded_records_nothing_twice(
    program: Engine, confirming: Policy, clock: SimulatedClock
) -> None:
    """The two steps of a confirmation: a report left open with its training recorded closes on a retry."""
    report_id = report_training(program, confirming, clock, UNTRAINED_MENTOR, LINK_ACTOR).report_id
    assert report_id is not None
    record_training(program, clock, UNTRAINED_MENTOR, actor="coordinator:sam")  # as if closing had failed
    decide_training_report(program, clock, report_id, True, "coordinator:sam")
    assert _training_entries(program) == [("coordinator:sam", "training")]
    assert _reports(program)[0]["decision"] == "confirmed"


def test_a_decline_needs_a_reason_and_the_mentor_may_report_again(
    program: Engine, confirming: Policy, clock: SimulatedClock
) -> None:
    report_id = report_training(program, confirming, clock, UNTRAINED_MENTOR, LINK_ACTOR).report_id
    assert report_id is not None
    before = _dump(program)
    for reason in (None, "", "   "):
        with pytest.raises(InputError, match=r"reason.*say why the training report is declined"):
            decide_training_report(program, clock, report_id, False, "coordinator:sam", reason)
    with pytest.raises(InputError, match="no NUL"):
        decide_training_report(program, clock, report_id, False, "coordinator:sam", "bad\x00text")
    assert _dump(program) == before
    decided = decide_training_report(program, clock, report_id, False, "coordinator:sam", " no certificate ")
    assert (decided.decision, decided.reason) == ("declined", "no certificate")
    assert not _trained(program, UNTRAINED_MENTOR) and _training_entries(program) == []
    clock.advance(timedelta(days=1))
    again = report_training(program, confirming, clock, UNTRAINED_MENTOR, LINK_ACTOR)
    assert again.outcome == REPORTED and again.report_id != report_id
    assert [r["decision"] for r in _reports(program)] == ["declined", None]


@pytest.mark.parametrize(
    ("actor", "said"),
    [
        ("coordinator:vera", "account 'vera' may not decide a training report (viewer"),
        ("coordinator:nobody", "account 'nobody' may not decide a training report (no such account"),
        (LINK_ACTOR, "may not decide a training report (a coordinator does)"),
    ],
)
def test_a_viewer_a_stranger_or_a_participant_may_not_decide(
    program: Engine, confirming: Policy, clock: SimulatedClock, actor: str, said: str
) -> None:
    report_id = report_training(program, confirming, clock, UNTRAINED_MENTOR, LINK_ACTOR).report_id
    assert report_id is not None
    before = _dump(program)
    for confirm, reason in ((True, None), (False, "no")):
        with pytest.raises(RefusedError) as caught:
            decide_training_report(program, clock, report_id, confirm, actor, reason)
        assert said in str(caught.value)
    assert _dump(program) == before


def test_a_disabled_coordinator_and_a_missing_report_are_refused(
    program: Engine, confirming: Policy, clock: SimulatedClock
) -> None:
    report_id = report_training(program, confirming, clock, UNTRAINED_MENTOR, LINK_ACTOR).report_id
    assert report_id is not None
    disable_user(program, "sam")
    before = _dump(program)
    with pytest.raises(RefusedError, match="'sam' may not decide a training report \\(disabled"):
        decide_training_report(program, clock, report_id, True, "coordinator:sam")
    with pytest.raises(NotFoundError, match="no training report 999"):
        decide_training_report(program, clock, 999, True, "operator")
    assert _dump(program) == before


def test_the_command_records_the_training_and_closes_the_open_report(
    program: Engine, confirming: Policy, clock: SimulatedClock
) -> None:
    report_id = report_training(program, confirming, clock, UNTRAINED_MENTOR, LINK_ACTOR).report_id
    rel_ids, closed = record_and_close(program, clock, UNTRAINED_MENTOR, "ops")
    assert (closed, rel_ids) == (report_id, [])
    assert _trained(program, UNTRAINED_MENTOR) and _training_entries(program) == [("ops", "training")]
    (row,) = _reports(program)
    assert (row["decision"], row["decided_by"], row["reason"]) == ("confirmed", "ops", None)
    assert record_and_close(program, clock, UNTRAINED_MENTOR, "ops")[1] is None  # nothing left to close
