"""A message's personal link is made without reading back its own token: the address is the one
``url(base_url, sign(link, keys))`` gives, and a link that could not be read back is refused alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.delivery import links
from engine.delivery.links import Link

KEYS = ("a-link-key-long-enough-for-the-checks-0123456789", "an-older-key-long-enough-for-the-checks-0123")
ISSUED = datetime(2026, 3, 2, 8, 15, 30, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    "link",
    [
        Link("help", 3, "mentee", "bound", ISSUED),
        Link("survey", 12, "mentor", "bound", ISSUED, 41, "midpoint"),
        Link("survey", 12, "mentor", "bound", ISSUED, None, "final"),
        Link("session", 7, "mentee", "bound", ISSUED, 9),
    ],
)
@pytest.mark.parametrize("base_url", ["https://mentoring.example.com", "http://host/path/"])
def test_the_address_is_the_one_read_back(link: Link, base_url: str) -> None:
    assert links.signed_url(base_url, link, KEYS) == links.url(base_url, links.sign(link, KEYS))


@pytest.mark.parametrize(
    "link",
    [
        Link("lunch", 3, "mentee", "bound", ISSUED),  # no such purpose
        Link("help", 3, "coordinator", "bound", ISSUED),  # no such role
        Link("help", -1, "mentee", "bound", ISSUED),
        Link("survey", 3, "mentee", "bound", ISSUED, 2.5, "midpoint"),  # type: ignore[arg-type]
    ],
)
def test_a_link_that_cannot_be_read_back_is_refused_alike(link: Link) -> None:
    with pytest.raises(ValueError, match="not the token of a personal link"):
        links.url("https://x.example", links.sign(link, KEYS))
    with pytest.raises(ValueError, match="not the token of a personal link"):
        links.signed_url("https://x.example", link, KEYS)
