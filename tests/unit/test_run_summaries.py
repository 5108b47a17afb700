"""What a run's artifact says of people: relationships and participants by id, errors without addresses."""

from __future__ import annotations

import pytest

from engine.services.delivery import DeliverySummary
from engine.services.tick import TickSummary
from workflows.flows.summaries import cadence_markdown, delivery_markdown, problems, without_addresses

SMTP_REFUSAL = "SMTP 550 5.1.1 <zoë.çelik@example.com>: no such user"
REFUSED = f"outbox 12 (notify_pair, attempt 1): email to mentee: {SMTP_REFUSAL}"


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        ("SMTP 550 5.1.1 <zoë.çelik@example.com>: no such user", "SMTP 550 5.1.1 [address]: no such user"),
        ("user 'o'brien@example.com' unknown", "user [address]' unknown"),
        ('rcpt "a.b+c@d.example" refused', 'rcpt "[address]" refused'),
        ("mailto:zoe@example.com, bob@example.com", "[address], [address]"),
        ("webhook http://user:secret@hooks.example/x unreachable", "webhook [address] unreachable"),
        (
            "SMTP server smtp.example.com:25 unreachable: timed out",
            "SMTP server smtp.example.com:25 unreachable: timed out",
        ),
    ],
)
def test_an_address_in_an_error_is_masked_and_the_rest_kept(error: str, shown: str) -> None:
    assert without_addresses(error) == shown


def test_a_delivery_artifact_lists_the_problems_without_their_addresses() -> None:
    summary = DeliverySummary(claimed=1, parked=1, problems=(REFUSED,))
    assert problems(summary) == [
        {
            "outbox": 12,
            "action": "notify_pair",
            "attempt": 1,
            "error": "email to mentee: SMTP 550 5.1.1 [address]: no such user",
        }
    ]
    text = delivery_markdown("delivery default", summary, {"notify_pair": {"failed": 1}})
    assert "SMTP 550 5.1.1 [address]: no such user" in text and "@" not in text and "çelik" not in text


def test_a_cadence_artifact_shows_the_overdue_pairs_by_their_ids() -> None:
    overdue = [
        {"relationship": 3, "mentee": 17, "mentor": 4, "what": "matched: deadline passed"},
        {"relationship": 5, "mentee": 18, "mentor": None, "what": "intake: deadline passed"},
    ]
    text = cadence_markdown("cadence default", TickSummary(escalations=2), overdue, 2)
    assert "| relationship | mentee id | mentor id | overdue |" in text
    assert (
        "| 3 | 17 | 4 | matched: deadline passed |" in text
        and "| 5 | 18 | - | intake: deadline passed |" in text
    )
