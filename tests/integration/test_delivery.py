"""Delivering the outbox through channels we control, on SQLite and PostgreSQL: once, retried, parked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert, update

from engine.clock import SimulatedClock
from engine.delivery.channels import DeliveryError, Message
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, NotFoundError
from engine.policy.model import Policy
from engine.services import delivery as outbox
from engine.store.tables import outbox as outbox_table

from .delivery_support import (
    EXPECTED_MATCH_MESSAGES_BOTH,
    RETRY,
    FakeChannel,
    channels_of,
    deliveries,
    later,
    matched_pairs,
    rows,
    statuses,
)


@pytest.fixture
def pairs(store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock) -> list[int]:
    return matched_pairs(store, policy, lifecycle, clock)


def test_each_due_message_is_sent_once_and_a_second_run_sends_nothing(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel()
    first = outbox.deliver_due(store, channels_of(channel), clock.now())
    second = outbox.deliver_due(store, channels_of(channel), later(clock.now(), days=30))

    assert first.sent == EXPECTED_MATCH_MESSAGES_BOTH == len(channel.sent)
    assert set(channel.keys().values()) == {1}
    assert first.skipped == 1  # the trained mentor is not enrolled in the training again
    assert second.claimed == 0 and len(channel.sent) == EXPECTED_MATCH_MESSAGES_BOTH
    assert statuses(store) == {"delivered": first.delivered, "skipped": 1}
    assert {(d["recipient"], d["channel"]) for d in deliveries(store)} == {
        ("mentee", "log"),
        ("mentor", "log"),
    }
    assert all(row["delivered_at"] == clock.now() for row in rows(store) if row["status"] == "delivered")


def test_rows_not_yet_due_wait(store: Engine, pairs: list[int], clock: SimulatedClock) -> None:
    channel = FakeChannel()
    summary = outbox.deliver_due(store, channels_of(channel), clock.now() - timedelta(seconds=1))
    assert summary.claimed == 0 and channel.sent == []


def test_a_failing_channel_is_retried_with_growing_backoff_then_parked_and_never_dropped(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel()
    channel.fail = lambda message: DeliveryError("451 try again later")
    channels = channels_of(channel)
    now = clock.now()

    first = outbox.deliver_due(store, channels, now)
    assert first.retrying == first.claimed - first.skipped and first.parked == 0
    waiting = [row for row in rows(store) if row["status"] == "pending"]
    assert {row["next_attempt_at"] for row in waiting} == {now + RETRY.backoff}
    assert all("451 try again later" in row["last_error"] for row in waiting)

    assert outbox.deliver_due(store, channels, later(now, minutes=4)).claimed == 0  # backoff holds
    second = outbox.deliver_due(store, channels, later(now, minutes=5))
    assert second.retrying == len(waiting)
    assert {row["next_attempt_at"] for row in rows(store) if row["status"] == "pending"} == {
        later(now, minutes=15)  # 5 minutes, then 10
    }
    third = outbox.deliver_due(store, channels, later(now, minutes=15))
    assert third.parked == len(waiting) and third.retrying == 0
    parked = outbox.list_rows(store, failed_only=True)
    assert {row["id"] for row in parked} == {row["id"] for row in waiting}
    assert all(row["attempts"] == RETRY.max_attempts for row in parked)
    assert outbox.deliver_due(store, channels, later(now, days=365)).claimed == 0  # parked stays parked
    assert channel.sent == []


def test_parked_rows_retried_after_the_cause_is_fixed_send_each_message_exactly_once(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel()
    # the mentor's messages fail, the mentee's go through: a retry must not send the mentee's again
    channel.fail = lambda m: DeliveryError("mailbox full") if m.recipient == "mentor" else None
    channels = channels_of(channel)
    now = clock.now()
    for minutes in (0, 5, 15):
        outbox.deliver_due(store, channels, later(now, minutes=minutes))
    assert {m.recipient for m in channel.sent} == {"mentee"}
    parked_ids = [row["id"] for row in outbox.list_rows(store, failed_only=True)]
    assert parked_ids

    channel.fail = None
    requeued = outbox.retry(store, later(now, hours=1), all_failed=True, actor="coordinator")
    assert sorted(requeued) == sorted(parked_ids)
    after = {row["id"]: row for row in rows(store)}
    assert all(after[i]["status"] == "pending" and after[i]["attempts"] == 0 for i in requeued)
    assert all("requeued by coordinator" in after[i]["last_error"] for i in requeued)

    outbox.deliver_due(store, channels, later(now, hours=1))
    assert len(channel.sent) == EXPECTED_MATCH_MESSAGES_BOTH
    assert set(channel.keys().values()) == {1}
    assert statuses(store)["failed"] == 0


def test_a_permanent_failure_parks_at_once(store: Engine, pairs: list[int], clock: SimulatedClock) -> None:
    channel = FakeChannel()
    channel.fail = lambda m: DeliveryError("SMTP 554 no such user", permanent=True)
    summary = outbox.deliver_due(store, channels_of(channel), clock.now())
    assert summary.parked == summary.claimed - summary.skipped
    assert all(row["attempts"] == 1 for row in outbox.list_rows(store, failed_only=True))
    assert any("SMTP 554" in problem for problem in summary.problems)


def test_an_unreachable_channel_is_not_waited_on_again_in_the_same_run(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel()
    channel.fail = lambda m: DeliveryError("connection refused", unreachable=True)
    summary = outbox.deliver_due(store, channels_of(channel), clock.now())
    assert channel.calls == 1
    assert summary.retrying == summary.claimed - summary.skipped
    assert all("not tried" in row["last_error"] for row in rows(store)[1:] if row["status"] == "pending")


def test_one_failing_channel_does_not_resend_through_the_other(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    log, hook = FakeChannel("log"), FakeChannel("webhook")
    hook.fail = lambda m: DeliveryError("HTTP 503")
    channels = channels_of(log, hook)
    outbox.deliver_due(store, channels, clock.now())
    hook.fail = None
    outbox.deliver_due(store, channels, later(clock.now(), minutes=5))
    assert len(log.sent) == len(hook.sent) == EXPECTED_MATCH_MESSAGES_BOTH
    assert set(log.keys().values()) == set(hook.keys().values()) == {1}


def test_a_row_that_cannot_be_written_is_parked_with_the_reason(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    with store.begin() as conn:
        conn.execute(
            insert(outbox_table).values(
                relationship_id=pairs[0], idempotency_key="test:unknown", action="send_fax", params={},
                created_at=clock.now(), status="pending", attempts=0, next_attempt_at=clock.now(),
            )
        )  # fmt: skip
    outbox.deliver_due(store, channels_of(FakeChannel()), clock.now())
    (parked,) = outbox.list_rows(store, failed_only=True)
    assert parked["action"] == "send_fax" and "no texts for action 'send_fax'" in parked["last_error"]


def test_a_row_naming_its_recipient_sends_only_to_them_with_its_own_key(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    key = f"rel:{pairs[0]}:entry:9:send_survey:mentor"
    with store.begin() as conn:
        conn.execute(
            insert(outbox_table).values(
                relationship_id=pairs[0], idempotency_key=key, action="send_survey",
                params={"recipient": "mentor", "phase": "review", "survey": "final"},
                created_at=clock.now(), status="pending", attempts=0, next_attempt_at=clock.now(),
            )
        )  # fmt: skip
    channel = FakeChannel()
    outbox.deliver_due(store, channels_of(channel), clock.now())
    (survey,) = [m for m in channel.sent if m.action == "send_survey"]
    assert survey.key == key and survey.recipient == "mentor"


def test_a_worker_that_died_leaves_its_rows_due_again_when_the_lease_ends(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel()
    channels = channels_of(channel)
    now = clock.now()
    with store.begin() as conn:  # what a claim that was never settled leaves behind
        conn.execute(
            update(outbox_table).values(status="sending", attempts=1, next_attempt_at=now + RETRY.lease)
        )
    assert outbox.deliver_due(store, channels, now).claimed == 0
    summary = outbox.deliver_due(store, channels, now + RETRY.lease)
    assert summary.sent == EXPECTED_MATCH_MESSAGES_BOTH
    assert {row["attempts"] for row in rows(store)} == {2}


def test_a_late_settlement_does_not_overwrite_the_worker_that_took_over(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel()
    stale: list[Message] = []

    def slow_first_worker(message: Message) -> DeliveryError | None:
        # while the first worker still holds the message, its lease runs out and another takes over
        if not stale:
            stale.append(message)
            outbox.deliver_due(store, channels_of(FakeChannel()), clock.now() + RETRY.lease)
        return None

    channel.fail = slow_first_worker
    outbox.deliver_due(store, channels_of(channel), clock.now(), limit=1)
    (first,) = [row for row in rows(store) if row["id"] == min(r["id"] for r in rows(store))]
    assert first["attempts"] == 2  # the second worker's claim stands; the first one's settle changed nothing
    assert first["status"] == "delivered"


def test_retry_refuses_rows_that_are_not_parked_and_requeues_nothing(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel()
    channel.fail = lambda m: DeliveryError("no", permanent=True) if m.action == "notify_pair" else None
    outbox.deliver_due(store, channels_of(channel), clock.now())
    parked = [row["id"] for row in outbox.list_rows(store, failed_only=True)]
    delivered = [row["id"] for row in rows(store) if row["status"] == "delivered"]
    with pytest.raises(InputError, match="only parked"):
        outbox.retry(store, clock.now(), ids=[parked[0], delivered[0]], actor="op")
    with pytest.raises(NotFoundError, match="no outbox row 9999"):
        outbox.retry(store, clock.now(), ids=[9999], actor="op")
    with pytest.raises(InputError, match="`all_failed`"):
        outbox.retry(store, clock.now(), actor="op")
    assert sorted(row["id"] for row in outbox.list_rows(store, failed_only=True)) == sorted(parked)
    assert outbox.retry(store, clock.now(), ids=parked, actor="op") == sorted(parked)


def test_counts_by_action_and_status(store: Engine, pairs: list[int], clock: SimulatedClock) -> None:
    outbox.deliver_due(store, channels_of(FakeChannel()), clock.now())
    counts = outbox.status_counts(store)
    assert counts["enrol_mentor_training"] == {"delivered": 1, "skipped": 1}
    assert set(counts["notify_pair"]) == {"delivered"}


def test_a_row_from_before_one_row_per_recipient_reaches_each_recipient_once(
    store: Engine, pairs: list[int], clock: SimulatedClock
) -> None:
    channel = FakeChannel()
    outbox.deliver_due(store, channels_of(channel), clock.now())  # what matching caused
    channel.sent.clear()
    with store.begin() as conn:
        conn.execute(
            insert(outbox_table).values(
                relationship_id=pairs[0], idempotency_key="rel:1:entry:7:send_survey", action="send_survey",
                params={"phase": "review", "survey": "final"}, created_at=clock.now(), status="pending",
                attempts=0, next_attempt_at=clock.now(),
            )
        )  # fmt: skip
    channel.fail = lambda m: DeliveryError("mailbox full") if m.recipient == "mentor" else None
    outbox.deliver_due(store, channels_of(channel), clock.now())
    channel.fail = None
    outbox.deliver_due(store, channels_of(channel), later(clock.now(), minutes=5))
    assert sorted(channel.keys()) == ["rel:1:entry:7:send_survey:mentee", "rel:1:entry:7:send_survey:mentor"]
    assert set(channel.keys().values()) == {1}
    (legacy,) = [row for row in rows(store) if row["idempotency_key"] == "rel:1:entry:7:send_survey"]
    assert legacy["status"] == "delivered" and legacy["attempts"] == 2
