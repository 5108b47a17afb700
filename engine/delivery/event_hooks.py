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


Where = tuple[str | int, ...]
"""Where in the settings a problem is: ``("events", "subscribers", index from 0, key)``, or
``("events",)``."""


def subscribers_from(document: dict[str, Any], path: Path | None) -> tuple[Subscriber, ...]:
    """The subscribers of ``[[events.subscribers]]`` in a settings document; ConfigError naming the file,
    the subscriber and the key of the first problem otherwise (a secret's variable by its name only)."""
    found, problems = read_subscribers(document)
    if problems:
        where, what = problems[0]
        shown = str(path) if path is not None else "the settings"
        if len(where) == 1:
            raise ConfigError(f"{shown}: [events] {what}")
        raise ConfigError(f"{shown}: events.subscribers[{int(where[2]) + 1}].{where[3]}: {what}")
    return found


def read_subscribers(document: dict[str, Any]) -> tuple[tuple[Subscriber, ...], list[tuple[Where, str]]]:
    """The subscribers that are right, and where each problem of the others is, with what is wrong
    (``mentorflow config check`` reports them all, at their lines)."""
    section = document.get("events", {})
    if not isinstance(section, dict) or not isinstance(section.get("subscribers", []), list):
        return (), [(("events",), "holds [[events.subscribers]] tables")]
    found: list[Subscriber] = []
    problems: list[tuple[Where, str]] = []
    for index, table in enumerate(section.get("subscribers", [])):
        try:
            item = _SubscriberSection.model_validate(table)
        except ValidationError as exc:
            problem = exc.errors()[0]
            key = ".".join(str(part) for part in problem["loc"]) or "?"
            problems.append((("events", "subscribers", index, key), problem["msg"]))
            continue
        checked = _checked(item, {s.name for s in found})
        if isinstance(checked, Subscriber):
            found.append(checked)
        else:
            problems.append((("events", "subscribers", index, checked[0]), checked[1]))
    return tuple(found), problems


def _checked(item: _SubscriberSection, taken: set[str]) -> Subscriber | tuple[str, str]:
    """The subscriber, or the key that is wrong and what is wrong with it."""
    if not _NAME.fullmatch(item.name) or item.name in taken:
        why = (
            "is taken by another subscriber"
            if item.name in taken
            else "is not a name (letters, digits, . _ -)"
        )
        return "name", f"{item.name!r} {why}"
    parts = urlsplit(item.url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return "url", "must start with https:// (http:// only on this machine)"
    secret = os.environ.get(item.secret_env, "")
    if not secret:
        return "secret_env", f"the variable {item.secret_env} is not set"
    try:
        signer(secret)
    except ValueError as exc:
        return "secret_env", f"{item.secret_env} is not a usable secret: {exc}"
    return Subscriber(item.name, item.url, secret, item.names, item.timeout, item.max_attempts)


def backoff(attempts: int) -> timedelta:
    """How long after its ``attempts``-th failed try an event is tried again: 1, 2, 4 ... minutes, at most
    six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))
