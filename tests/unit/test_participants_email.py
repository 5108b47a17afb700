"""A plain address takes a shortcut past the full ``email-validator`` check, with the same outcome.

Every address here is checked both ways: through :func:`engine.domain.participants._email` (which
takes the shortcut where it can) and through the full check alone; the normalised address, or the
operator's wording of the refusal, must be the same.
"""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from pydantic_core import PydanticCustomError

from engine.domain import participants as domain

ADDRESSES = [
    "person1@example.com", "a.b-c_d+e@example.co.uk", "x@a-b.example.org", "postmaster@example.com",
    "abuse@example.nl", "a@example.c", "a@example", "a@localhost", "a@example.test", "a@example.local",
    "a@-example.com", "a@example-.com", "a@example..com", "a@.example.com", "a..b@example.com",
    ".a@example.com", "a.@example.com", "a@123.456", "a@example.123", "a@xn--bcher-kva.example",
    "a@xn--zz.example", "a@" + "b" * 64 + ".com", "a@" + ".".join(["c" * 60] * 5) + ".com",
    "l" * 64 + "@example.com", "l" * 65 + "@example.com", "l" * 243 + "@example.com",
    "l" * 242 + "@example.com", "a@b@example.com", "@example.com", "a@", "a@exämple.com",
    "jörg@example.com", "a!b@example.com", "a@[127.0.0.1]", "a@example.com.", "a@ex_ample.com",
    "a@example.invalid", "a@example.onion", "a@example.arpa", "a@sub.localhost",
]  # fmt: skip


def _full_check(text: str) -> str:
    """What :func:`domain._email` decided before the shortcut: the full check, then the domain's end."""
    try:
        address = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        return f"refused: {exc}"
    if len(address.rsplit(".", 1)[-1]) < 2:
        return "refused: cut short"
    return address


def _checked(text: str) -> str:
    try:
        return domain._email(text)
    except PydanticCustomError as exc:
        reason = (exc.context or {}).get("reason")
        return "refused: cut short" if reason is None else f"refused: {reason}"


@pytest.mark.parametrize("text", ADDRESSES)
def test_the_shortcut_decides_as_the_full_check_does(text: str) -> None:
    expected = _full_check(text)
    if expected.startswith("refused: ") and expected != "refused: cut short":
        reason = expected.removeprefix("refused: ").rstrip(".")
        expected = "refused: " + reason[:1].lower() + reason[1:]
    assert _checked(text) == expected


def test_plain_addresses_take_the_shortcut_and_others_do_not() -> None:
    assert domain._plain_address("person1@example.com") == "person1@example.com"
    assert domain._plain_address("a..b@example.com") is None
    assert domain._plain_address("a@localhost") is None  # no dot: the full check words its refusal
    assert domain._plain_address("a@example.test") is None  # a special-use domain, refused in full
    assert domain._plain_address("l" * 243 + "@example.com") is None  # too long
