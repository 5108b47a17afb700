"""The ways a message leaves mentorflow, behind one small protocol.

A channel takes one rendered :class:`Message` to one recipient and either
returns (it was handed over) or raises :class:`DeliveryError`. The outbox
decides what to send, when to retry and when to give up; a channel only sends.
Which channels an action goes to, and everything else delivery reads from the
settings, is bundled in :class:`Channels` (built by :mod:`engine.channels.config`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from engine.policy.resources import Resource
    from engine.policy.surveys import Survey


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, e.g. the kickoff invitation (``text/calendar; method=REQUEST``)."""

    filename: str
    content: str
    subtype: str  # of text/*: "calendar"
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Message:
    """One message to one recipient, rendered and ready to send.

    ``key`` is the idempotency key of this message (the outbox row's key, with the
    recipient); channels pass it on (email ``Message-ID``, webhook
    ``Idempotency-Key``) so a receiver can drop a copy sent again after a crash.
    ``installation`` is the id of the installation that sends it (``engine.store.installation``):
    the Message-ID is derived from both, so it is unique in the world. ``html`` is the
    body as HTML, for channels that send both (email: ``multipart/alternative``).
    """

    key: str
    relationship_id: int | None
    action: str
    recipient: str  # mentee, mentor or coordinator
    to_name: str
    to_address: str | None
    language: str
    subject: str
    body: str
    created_at: datetime
    attachments: tuple[Attachment, ...] = ()
    installation: str = ""
    html: str | None = None

    def message_id(self, domain: str = "mentorflow") -> str:
        """An RFC 5322 Message-ID derived from ``installation`` and ``key``: the same message always has
        the same id, and no other installation's message has it."""
        return f"<{key_digest(scoped_key(self.installation, self.key))}@{domain}>"


def scoped_key(installation: str, key: str) -> str:
    """``key`` within ``installation`` (the key alone without one, as before installations had ids)."""
    return f"{installation}/{key}" if installation else key


def key_digest(key: str) -> str:
    """A short, stable, opaque token for an idempotency key (ids and UIDs must not leak names)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


class DeliveryError(Exception):
    """A message was not handed over.

    ``permanent``: sending it again will fail the same way (an SMTP 5xx reply, an
    HTTP 4xx, a missing address) until an operator fixes something, so the row is
    parked at once. ``unreachable``: the channel itself could not be reached (refused,
    timed out, or asked us to wait), so the rest of this run does not wait on it again.
    ``retry_after``: the receiver asked not to be tried again before this long from now
    (HTTP ``Retry-After``); the row's next attempt is no sooner.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        unreachable: bool = False,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable
        self.retry_after = retry_after


class Channel(Protocol):
    """Sends one message; raises :class:`DeliveryError` when it could not.

    A channel has handed the message over when ``send`` returns (the delivery run records it then).
    ``delivered_as``: what a run's summary says this channel did with the
    messages it took (``sent by email``, ``written to mentorflow-outbox.jsonl``), so a line written
    to a file is never reported as if it had been sent.
    """

    name: str
    delivered_as: str

    def send(self, message: Message) -> None: ...


@dataclass(frozen=True)
class LinkSettings:
    """What personal links in messages are made with: ``[web] base_url`` and the keys, newest first
    (checked by :func:`engine.delivery.channels.config.channels_from`)."""

    base_url: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class ProgramInfo:
    """What messages say about the program: its name, its coordinator, its language and time zone,
    the surveys of its policy (a survey message lists the questions the policy asks), what its
    personal links are made with (``None``: no links, the messages ask for a reply instead), and the
    resources of each phase (a message on entering it lists those for its reader)."""

    name: str = "Mentoring program"
    coordinator_name: str = "Program coordinator"
    coordinator_email: str | None = None
    language: str = "en"
    timezone: str = "UTC"
    surveys: Mapping[str, Survey] = field(default_factory=dict)
    links: LinkSettings | None = None
    resources: Mapping[str, Sequence[str | Resource]] = field(default_factory=dict)  # by phase, the policy's


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing row is tried again: exponential backoff, then parked."""

    max_attempts: int = 8
    backoff: timedelta = timedelta(minutes=5)
    backoff_max: timedelta = timedelta(hours=12)
    lease: timedelta = timedelta(minutes=10)  # a claimed row nobody settles is due again after this

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: backoff, 2x, 4x, ... up to backoff_max."""
        doubled = self.backoff * (1 << min(max(attempts - 1, 0), 30))
        return min(doubled, self.backoff_max)


@dataclass(frozen=True)
class Channels:
    """Everything delivery needs from the settings: the channels, which action goes where, retries."""

    by_name: Mapping[str, Channel]
    default: Sequence[str] = ("log",)
    routes: Mapping[str, Sequence[str]] = field(default_factory=dict)
    program: ProgramInfo = field(default_factory=ProgramInfo)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        named = {*self.default, *(name for names in self.routes.values() for name in names)}
        missing = sorted(named - set(self.by_name))
        if missing:
            raise ValueError(f"channels routed to but not configured: {', '.join(missing)}")

    def for_action(self, action: str) -> list[Channel]:
        """The channels ``action`` goes to: its route if the settings name one, else the default."""
        return [self.by_name[name] for name in self.routes.get(action, self.default)]
