"""Personal links: a signed token that lets one participant open one page about one relationship.

A link names a purpose (:data:`PURPOSES`), a relationship, the role in it
(mentee or mentor), a *binding* to the person it was made for, and the moment
it was issued (for a survey link, optionally the outbox row that sent it and the
survey's name). The binding is the first 8 bytes of an HMAC-SHA256 of the
participant's id under a key derived from the link key, base64url: it tells
whether the pair's mentee or mentor is still the person the link was made for,
and reveals nobody. The token holds no name, email or employee id.

The payload is a compact JSON list, signed with ``itsdangerous`` under the salt
:data:`SALT` (so a token made for another use of the same keys never opens as
a link). Keys come newest first (``[web] secret_keys`` or
``MENTORFLOW_LINK_KEYS``): a link is signed with the first and opens under any
of them, so a new key goes in front and old ones stay until their links have
expired. A link expires the policy's ``links.expire_after`` (30 days unless it says) after it was
issued.

This module is pure: whether a link was revoked, and who the pair's people
are now, is for :mod:`engine.services.links` to find out in the store.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from engine.errors import ConfigError
from engine.policy.durations import Duration
from engine.policy.links import DEFAULT_LINK_LIFETIME
from engine.settings import check_link_keys

PURPOSES: tuple[str, ...] = ("survey", "meeting", "kickoff", "training", "help", "session", "goals")
"""What a link opens: a survey to answer, a meeting to confirm, the kickoff, the training, a call for help,
whether one attended a group session, the mentee's development goals (set and updated by the mentee)."""
ROLES: tuple[str, ...] = ("mentee", "mentor")
LINK_LIFETIME = timedelta(seconds=DEFAULT_LINK_LIFETIME.seconds)
"""How long a link opens after it was issued where the policy does not say (``links.expire_after``)."""
SALT = "mentorflow.personal-link"
"""The use of the keys that links are signed for; any other use signs under a salt of its own."""
FORMAT = 1
"""The first item of every payload; a later layout gets another number, and old links stay readable."""
MAX_TOKEN_LENGTH = 400
"""Longer tokens are refused unread: a genuine one is about 120 characters."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_BINDING_BYTES = 8
_BINDING_LABEL = b"mentorflow.personal-link.binding"


@dataclass(frozen=True)
class Link:
    """What a personal link says; ``binding`` stands for the person it was made for (see :func:`binding`)."""

    purpose: str
    relationship_id: int
    role: str
    binding: str
    issued_at: datetime
    outbox_id: int | None = None
    survey: str | None = None


REFUSALS: dict[str, tuple[int, str]] = {
    "tampered": (
        400,
        "This link is incomplete or was changed. Open it again from the message you received, with the "
        "whole address; if that does not help, ask the program's coordinator for a new link.",
    ),
    "expired": (
        410,
        "This link has expired. Ask the program's coordinator for a new one.",
    ),
    "revoked": (410, "This link was withdrawn. Ask the program's coordinator for a new one."),
    "wrong_purpose": (
        403,
        "This link is for another page of the mentoring program. Open the link in the message about this "
        "page, or ask the program's coordinator.",
    ),
    "wrong_person": (
        403,
        "This link was made for someone who is no longer in this mentoring pair. Ask the program's "
        "coordinator for a link of your own.",
    ),
}
"""Each way a link is refused: the HTTP status its page has and what the page tells the person to do."""


@dataclass(frozen=True)
class Refusal:
    """Why a link does not open (one of :data:`REFUSALS`); nothing is written for it."""

    kind: str

    @property
    def status(self) -> int:
        return REFUSALS[self.kind][0]

    @property
    def message(self) -> str:
        return REFUSALS[self.kind][1]


def binding(keys: tuple[str, ...], participant_id: int) -> str:
    """The binding of a link to ``participant_id``, under the newest key."""
    return _binding(check_link_keys(keys)[0], participant_id)


def is_for(link: Link, participant_id: int, keys: tuple[str, ...]) -> bool:
    """Whether ``link`` was made for ``participant_id`` (under any of the keys, as it may be older than the
    newest one)."""
    return any(hmac.compare_digest(link.binding, _binding(key, participant_id)) for key in keys)


def _binding(key: str, participant_id: int) -> str:
    derived = hmac.new(key.encode("utf-8"), _BINDING_LABEL, hashlib.sha256).digest()
    mac = hmac.new(derived, str(participant_id).encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:_BINDING_BYTES]).rstrip(b"=").decode("ascii")


def sign(link: Link, keys: tuple[str, ...]) -> str:
    """The token of ``link``, signed with the newest of ``keys`` (checked: see :func:`check_link_keys`)."""
    return str(_serializer(keys).dumps(_payload(link)))


def signed_url(base_url: str, link: Link, keys: tuple[str, ...]) -> str:
    """What ``url(base_url, sign(link, keys))`` gives (the same address, the same ValueError), without
    reading back the token just made: a message signs a link or two, and reading one costs as much."""
    payload = _payload(link)
    token = str(_serializer(keys).dumps(payload))
    if _parsed(payload) is None:
        raise ValueError("not the token of a personal link")
    return _address(base_url, link.purpose, token)


def _payload(link: Link) -> list[Any]:
    """What the token of ``link`` holds: a compact list, the optional items left out when absent."""
    payload: list[Any] = [
        FORMAT, link.purpose, link.relationship_id, link.role, link.binding, _micros(link.issued_at),
        link.outbox_id, link.survey,
    ]  # fmt: skip
    while payload[-1] is None:
        payload.pop()
    return payload


def checked_base_url(base_url: str | None) -> str:
    """``base_url`` (``[web] base_url``) if links can be made with it: an http or https address."""
    if not base_url:
        raise ConfigError(
            "no address for personal links: set base_url under [web] in the settings file "
            '(base_url = "https://mentoring.example.com")'
        )
    if not base_url.startswith(("https://", "http://")) or any(c in base_url for c in "?# \t\r\n"):
        raise ConfigError(
            f"web.base_url: {base_url!r} is not a web address (expected https://HOST[/PATH], without ? or #)"
        )
    return base_url


def url(base_url: str, token: str) -> str:
    """The address a participant opens: ``{base_url}/l/{purpose}/{token}``, for a token :func:`sign` made.

    The purpose in the path names the page; the page reads the token for that purpose, so a path whose
    purpose is not the token's (signed) one is refused as ``wrong_purpose``. A ValueError if ``token``
    is not laid out as a link's.
    """
    body = token.rsplit(".", 1)[0] if isinstance(token, str) and token.isascii() else ""
    try:
        link = _parsed(URLSafeSerializer(SALT).load_payload(body.encode("ascii")))
    except BadData:
        link = None
    if link is None:
        raise ValueError("not the token of a personal link")
    return _address(base_url, link.purpose, token)


def _address(base_url: str, purpose: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/l/{purpose}/{token}"


def purpose_of(token: str, keys: tuple[str, ...]) -> str | None:
    """The purpose of a genuine token (signed with one of ``keys``), for an address without one; ``None``
    for any other text. Not a check that the link opens: :func:`read` is."""
    link = _verified(token, keys)
    return None if link is None else link.purpose


def expires_at(link: Link, lifetime: Duration = DEFAULT_LINK_LIFETIME) -> datetime:
    """When ``link`` stops opening: ``lifetime`` (the policy's ``links.expire_after``) after its issue."""
    return lifetime.after(link.issued_at)


def read(
    token: str,
    purpose: str,
    now: datetime,
    keys: tuple[str, ...],
    lifetime: Duration = DEFAULT_LINK_LIFETIME,
) -> Link | Refusal:
    """The link ``token`` holds if it opens the page for ``purpose`` at ``now``; the refusal otherwise.

    Checked in order: the signature and layout (``tampered``), the purpose (``wrong_purpose``), the age
    (``expired``: older than ``lifetime``). Revocation and the person are checked against the store by
    the caller.
    """
    link = _verified(token, keys)
    if link is None:
        return Refusal("tampered")
    if link.purpose != purpose:
        return Refusal("wrong_purpose")
    if now > expires_at(link, lifetime):
        return Refusal("expired")
    return link


def _verified(token: str, keys: tuple[str, ...]) -> Link | None:
    """The link of a token signed with one of ``keys`` and laid out as :func:`sign` lays it out."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    try:
        payload = _serializer(keys).loads(token)
    except BadData:
        return None
    return _parsed(payload)


def _parsed(payload: Any) -> Link | None:
    if not isinstance(payload, list) or not 6 <= len(payload) <= 8 or payload[0] != FORMAT:
        return None
    _, purpose, rel_id, role, bound, issued, *rest = [*payload, None, None][:8]
    outbox_id, survey = rest
    valid = (
        purpose in PURPOSES
        and role in ROLES
        and _whole(rel_id)
        and _whole(issued)
        and isinstance(bound, str)
        and (outbox_id is None or _whole(outbox_id))
        and (survey is None or isinstance(survey, str))
    )
    if not valid:
        return None
    try:
        issued_at = _EPOCH + issued * _MICROSECOND
    except OverflowError:
        return None
    return Link(purpose, rel_id, role, bound, issued_at, outbox_id, survey)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("a link's issue moment must be timezone-aware")
    return (moment - _EPOCH) // _MICROSECOND


@lru_cache(maxsize=8)
def _serializer(keys: tuple[str, ...]) -> URLSafeSerializer:
    """itsdangerous takes its keys oldest first and signs with the last: ours come newest first. One per
    key set (a delivery run signs every message with the same keys)."""
    checked = check_link_keys(keys)
    return URLSafeSerializer(list(reversed(checked)), salt=SALT)
