"""Delivery summaries add up across runs, as tick summaries do."""

from __future__ import annotations

from engine.services.delivery import DeliverySummary


def test_two_delivery_runs_add_up_and_keep_the_first_fifty_problems() -> None:
    first = DeliverySummary(3, 2, 1, 0, 0, 4, tuple(f"a{i}" for i in range(40)))
    second = DeliverySummary(5, 1, 0, 2, 2, 1, tuple(f"b{i}" for i in range(40)))

    total = first.merged(second)

    assert (total.claimed, total.delivered, total.retrying, total.parked, total.skipped, total.sent) == (
        8, 3, 1, 2, 2, 5,
    )  # fmt: skip
    assert total.problems == first.problems + second.problems[:10]
