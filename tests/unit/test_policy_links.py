"""The policy's ``links:`` block: how long a personal link opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.delivery import links
from engine.delivery.links import LINK_LIFETIME, Link, Refusal
from engine.errors import PolicyError
from engine.policy.durations import Duration
from engine.policy.model import load_policy, load_policy_text, resolve_policy_path

KEY = "k" * 40
ISSUED = datetime(2027, 1, 31, 8, 0, tzinfo=UTC)


def _default_text() -> str:
    return Path(resolve_policy_path("default")).read_text(encoding="utf-8")


def _with_links(block: str) -> str:
    return _default_text().rstrip("\n") + "\n" + block


def test_without_the_block_links_open_thirty_days_and_the_digest_stays() -> None:
    shipped = load_policy(resolve_policy_path("default"))
    assert shipped.links is None
    assert shipped.link_lifetime == Duration(seconds=30 * 86400)
    assert timedelta(days=30) == LINK_LIFETIME
    assert "links" not in shipped.normalised()
    assert load_policy_text(_default_text(), "default.yaml").digest == shipped.digest


def test_the_block_sets_the_lifetime_and_is_part_of_the_version() -> None:
    shipped = load_policy(resolve_policy_path("default"))
    policy = load_policy_text(_with_links("links:\n  expire_after: 14 days\n"), "p.yaml")
    assert policy.link_lifetime == Duration(seconds=14 * 86400)
    assert policy.normalised()["links"] == {"expire_after": "2 weeks"}
    assert policy.digest != shipped.digest
    same = load_policy_text(_with_links("links: {expire_after: 2w}\n"), "p.yaml")
    assert same.digest == policy.digest  # the version is of the meaning, not the spelling


@pytest.mark.parametrize(
    ("block", "said"),
    [
        ("links:\n  expire_after: 6 hours\n", "links.expire_after: 6 hours is not a link lifetime"),
        ("links:\n  expire_after: 2 years\n", "links.expire_after: 2 years is not a link lifetime"),
        ("links:\n  expire_after: 14\n", "links.expire_after: 14 is not a duration"),
        ("links:\n  expire: 2 days\n", 'unknown key "expire": did you mean "expire_after"?'),
    ],
)
def test_a_wrong_block_names_its_line_and_what_to_write(block: str, said: str) -> None:
    text = _with_links(block)
    line = text.count("\n", 0, text.index("links:")) + 2  # the key under links:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.yaml")
    assert f"p.yaml:{line}: " in str(caught.value)
    assert said in str(caught.value)


def test_a_link_opens_for_the_lifetime_it_is_read_with() -> None:
    link = Link("survey", 4, "mentee", links.binding((KEY,), 7), ISSUED)
    token = links.sign(link, (KEY,))
    fortnight = Duration(seconds=14 * 86400)
    day_15 = ISSUED + timedelta(days=15)
    assert links.read(token, "survey", day_15, (KEY,), fortnight) == Refusal("expired")
    assert links.read(token, "survey", day_15, (KEY,)) == link  # 30 days without the setting
    month = Duration(months=1)  # a calendar month: 31 January to 28 February
    assert links.expires_at(link, month) == datetime(2027, 2, 28, 8, 0, tzinfo=UTC)
    assert links.read(token, "survey", datetime(2027, 2, 28, 8, 0, tzinfo=UTC), (KEY,), month) == link
    late = datetime(2027, 2, 28, 8, 0, 1, tzinfo=UTC)
    assert links.read(token, "survey", late, (KEY,), month) == Refusal("expired")
