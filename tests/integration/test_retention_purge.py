"""The cadence's purge: what a policy's ``retention:`` says has expired is erased, set-based and in
batches; each relationship it erased something of gets one ``purge`` entry, and phases, reports'
counts and the chains stay as they were."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy, load_policy_text, resolve_policy_path
from engine.policy.retention_periods import retention_rules
from engine.services import recording
from engine.services.help import HelpRequest, ask_for_help
from engine.services.queries import history, status, verify
from engine.services.retention import due_for_purge, purge_expired
from engine.store.tables import meetings, outbox, outbox_deliveries, participants, survey_responses

from .support import TRAINED_MENTOR, final_answers, fire, import_examples, outbox_rows

DAY = timedelta(days=1)
NOTES = "Talked about her divorce and the move."
WORDS = "My manager shouts at me; can we pause?"
COMMENT = "My mentor was great, but I am leaving the company."
RETENTION = """
retention:
  survey_text: 30 days
  meeting_notes: 60 days
  message_bodies: 30 days
  closed_relationships: 1 year
"""


@pytest.fixture
def retained() -> Policy:
    text = Path(resolve_policy_path("default")).read_text(encoding="utf-8").rstrip("\n") + "\n" + RETENTION
    return load_policy_text(text, "retained.yaml")


def _reviewed_pair(store: Engine, policy: Policy, clock: SimulatedClock) -> int:
    """A pair in review: kickoff with notes, a help request, a final survey answered with a comment, and
    its messages settled (delivered with addresses, one parked with an error)."""
    lifecycle = Lifecycle(policy)
    rel = import_examples(store, policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator", notes=NOTES)
    fire(store, lifecycle, clock, rel, "start")
    ask_for_help(store, lifecycle, clock, HelpRequest(rel, "mentee", "help", WORDS, "k1"), actor="mentee")
    clock.set(policy.program.duration.after(clock.now()))
    fire(store, lifecycle, clock, rel, "review")
    answers = {**final_answers(store, rel), "comments": COMMENT}
    recording.record_survey(store, policy, clock, rel, "final", "mentee", answers, actor="mentee")
    _settle(store, rel)
    return rel


def _settle(store: Engine, rel: int) -> None:
    """Every message of ``rel`` delivered (to an address), but its first parked with an error."""
    rows = outbox_rows(store, rel)
    with store.begin() as conn:
        for row in rows:
            failed = row["id"] == rows[0]["id"]
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row["id"])
                .values(status="failed" if failed else "delivered", next_attempt_at=None,
                        last_error="550 no such user zoe@example.com" if failed else None)
            )  # fmt: skip
            conn.execute(
                outbox_deliveries.insert().values(
                    outbox_id=row["id"], recipient="mentee", channel="email", address="zoe@example.com",
                    message_id=f"<{row['id']}@mentorflow>", sent_at=row["created_at"],
                )
            )  # fmt: skip


def _scalar(store: Engine, query: object) -> object:
    with store.connect() as conn:
        return conn.execute(query).scalar_one()  # type: ignore[call-overload]


def test_what_expired_is_erased_once_and_noted_in_the_history(
    store: Engine, retained: Policy, clock: SimulatedClock
) -> None:
    rel = _reviewed_pair(store, retained, clock)
    rules = retention_rules(retained)
    assert rules is not None
    messages = len(outbox_rows(store, rel))
    early = due_for_purge(store, rules, clock.now())  # the kickoff's notes and messages are months old
    assert list(early) == ["survey_text", "meeting_notes", "message_bodies", "closed_relationships",
                           "left_participants"]  # fmt: skip
    assert (early["survey_text"], early["meeting_notes"], early["closed_relationships"]) == (0, 1, 0)
    assert 0 < early["message_bodies"] < messages
    clock.advance(31 * DAY)
    before = status(store, retained, clock.now())
    due = due_for_purge(store, rules, clock.now())
    assert due["survey_text"] == 1 and due["meeting_notes"] == 1 and due["message_bodies"] == messages

    done = purge_expired(store, retained, clock.now(), batch_size=1)

    assert done.purged == {"survey_text": 1, "meeting_notes": 1, "message_bodies": messages}
    assert done.relationships == 1
    assert _scalar(store, select(survey_responses.c.free_text)) is None
    assert _scalar(store, select(meetings.c.notes)) is None
    for row in outbox_rows(store, rel):
        assert row["last_error"] is None
        assert WORDS not in str(row["params"]) and "recipient" in row["params"]  # delivery's keys stay
    assert _scalar(store, select(func.count()).where(outbox_deliveries.c.address.is_not(None))) == 0
    _, entries = history(store, rel)
    last = entries[-1]
    assert (last.trigger, last.actor) == ("purge", "retention")
    assert (last.from_phase, last.to_phase) == ("review", "review")
    assert last.data == {"purged": {"survey_text": 1, "meeting_notes": 1, "message_bodies": messages}}
    assert sum(e.trigger == "purge" for e in entries) == 1
    assert not verify(store).problems
    after = status(store, retained, clock.now())
    assert (after.phases, after.overdue) == (before.phases, before.overdue)
    assert status(store, retained, clock.now(), as_of=clock.now()).phases == before.phases  # replayed
    assert purge_expired(store, retained, clock.now()).purged == {}  # a second purge finds nothing


def test_an_unsettled_message_keeps_what_delivery_needs(
    store: Engine, retained: Policy, clock: SimulatedClock
) -> None:
    rel = _reviewed_pair(store, retained, clock)
    help_row = next(r for r in outbox_rows(store, rel) if r["action"] == "help_requested")
    with store.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == help_row["id"]).values(status="pending"))
    clock.advance(31 * DAY)
    purge_expired(store, retained, clock.now())
    kept = next(r for r in outbox_rows(store, rel) if r["id"] == help_row["id"])
    assert kept["params"]["help"]["note"] == WORDS


def test_a_policy_without_retention_purges_nothing(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rel = _reviewed_pair(store, policy, clock)
    clock.advance(3650 * DAY)
    assert purge_expired(store, policy, clock.now()).purged == {}
    assert _scalar(store, select(meetings.c.notes)) == NOTES
    assert history(store, rel)[1][-1].trigger != "purge"


def test_a_closed_pair_is_forgotten_and_its_leaver_pseudonymised_after_the_period(
    store: Engine, retained: Policy, clock: SimulatedClock
) -> None:
    lifecycle = Lifecycle(retained)
    rel = import_examples(store, retained, clock)[0]
    fire(store, lifecycle, clock, rel, "close", reason="Zoë moved to Lisbon")
    with store.begin() as conn:  # the mentee left the company
        mentee = conn.execute(select(participants.c.id).where(participants.c.external_id == "E1101")).scalar()
        conn.execute(update(participants).where(participants.c.id == mentee).values(status="left"))
    clock.advance(200 * DAY)
    assert purge_expired(store, retained, clock.now()).purged == {}
    clock.advance(200 * DAY)

    done = purge_expired(store, retained, clock.now())

    assert done.purged["closed_relationships"] == 1
    assert done.purged["left_participants"] >= 1
    _, entries = history(store, rel)
    purges = [e for e in entries if e.trigger == "purge"]
    assert len(purges) == 1 and purges[0].data["purged"]["closed_relationships"] == 1
    assert all(e.reason != "Zoë moved to Lisbon" for e in entries)
    assert not verify(store).problems
    assert purge_expired(store, retained, clock.now()).purged == {}
