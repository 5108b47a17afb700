"""Webhook subscribers of the event feed: who they are (``[[events.subscribers]]`` in the settings) and
one event posted to one of them, signed as the Standard Webhooks spec says.

.. code-block:: toml

    [[events.subscribers]]
    name = "warehouse"                      # how the commands and the store call it
    url = "https://hooks.example.com/mentorflow"
    secret_env = "WAREHOUSE_WEBHOOK_SECRET" # the variable holding its whsec_... secret: it signs every post
    names = false                           # true: events carry the participants' names too
    max_attempts = 12                       # failed tries at one event before the subscriber is parked

Each event is posted alone as its CloudEvents JSON (``Content-Type: application/cloudevents+json``),
with ``webhook-id`` the event's id (the same on every retry: a subscriber drops a repeat by it),
``webhook-timestamp`` and ``webhook-signature`` (``v1,`` and the base64 HMAC-SHA256 of
``{id}.{timestamp}.{body}``). Any 2xx is delivered. A 429 or 503 asks us to wait (its ``Retry-After``);
a 5xx, a timeout or a refused connection is tried again; any other answer is a refusal that waiting
cannot mend, and parks the subscriber at once.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.clock import SystemClock
from engine.delivery.channels import DeliveryError
from engine.delivery.channels.webhook import parse_retry_after, post, signer
from engine.errors import ConfigError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class _SubscriberSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    url: str
    secret_env: str
    names: bool = False
    timeout: float = Field(default=10.0, gt=0, le=120)
    max_attempts: int = Field(default=12, ge=1, le=100)


@dataclass(frozen=True)
class Subscriber:
    """A webhook subscriber, its secret read from its variable; neither URL nor secret shown by ``repr``."""

    name: str
    url: str = field(repr=False)
    secret: str = field(repr=False)
    names: bool = False
    timeout: float = 10.0
    max_attempts: int = 12

    @property
    def shown(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def post(self, event: dict[str, Any], now: datetime) -> None:
        """Post ``event``; DeliveryError (``permanent`` for a refusal, ``retry_after`` when asked to wait).

        The signature's timestamp is the moment of sending by this machine's clock (a subscriber
        checks it against its own, against replays), whatever the program's clock ``now`` says.
        """
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        moment = datetime.fromtimestamp(int(SystemClock().now().timestamp()), UTC)
        headers = {
            "Content-Type": "application/cloudevents+json; charset=utf-8",
            "User-Agent": "mentorflow",
            "webhook-id": event["id"],
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": signer(self.secret).sign(event["id"], moment, body),
        }
        status, retry_after = post(self.url, body, headers, self.timeout, self.shown)
        if 200 <= status < 300:
            return
        text = f"{self.shown} answered HTTP {status}"
        if status in (429, 503):
            wait = parse_retry_after(retry_after, now.timestamp())
            raise DeliveryError(text, unreachable=True, retry_after=wait)
        raise DeliveryError(text, permanent=status < 500 and status not in (408, 425))


def subscribers_from(document: dict[str, Any], path: Path | None) -> tuple[Subscriber, ...]:
    """The subscribers of ``[[events.subscribers]]`` in a settings document; ConfigError naming the file,
    the subscriber and the key otherwise (a secret's variable by its name only)."""
    shown = str(path) if path is not None else "the settings"
    section = document.get("events", {})
    if not isinstance(section, dict) or not isinstance(section.get("subscribers", []), list):
        raise ConfigError(f"{shown}: [events] holds [[events.subscribers]] tables")
    found: list[Subscriber] = []
    for index, table in enumerate(section.get("subscribers", []), start=1):
        where = f"{shown}: events.subscribers[{index}]"
        try:
            item = _SubscriberSection.model_validate(table)
        except ValidationError as exc:
            problem = exc.errors()[0]
            key = ".".join(str(part) for part in problem["loc"]) or "?"
            raise ConfigError(f"{where}.{key}: {problem['msg']}") from None
        found.append(_checked(item, where, {s.name for s in found}))
    return tuple(found)


def _checked(item: _SubscriberSection, where: str, taken: set[str]) -> Subscriber:
    if not _NAME.fullmatch(item.name) or item.name in taken:
        why = (
            "is taken by another subscriber"
            if item.name in taken
            else "is not a name (letters, digits, . _ -)"
        )
        raise ConfigError(f"{where}.name: {item.name!r} {why}")
    parts = urlsplit(item.url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise ConfigError(f"{where}.url: must start with https:// (http:// only on this machine)")
    secret = os.environ.get(item.secret_env, "")
    if not secret:
        raise ConfigError(f"{where}.secret_env: the variable {item.secret_env} is not set")
    try:
        signer(secret)
    except ValueError as exc:
        raise ConfigError(f"{where}.secret_env: {item.secret_env} is not a usable secret: {exc}") from None
    return Subscriber(item.name, item.url, secret, item.names, item.timeout, item.max_attempts)


def backoff(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed try an event is tried again: 1, 2, 4 ... minutes, at most
    six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))
