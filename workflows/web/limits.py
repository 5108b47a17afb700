"""The limit on the participant pages: requests to ``/l/...`` per client address, a token bucket each.

A client may make ``[web] participant_rate_limit`` requests a minute (60 unless set; 0 for no limit),
up to :data:`BURST` of them at once; beyond that it gets a 429 page in its browser's language with
``Retry-After``, before its link is even read, so nothing is written. The buckets live in the memory of
each worker process: with ``mentorflow web --workers N`` a client may make up to N times as many (the
limit on failed sign-ins, in the store, is shared by every worker). Who counts as a client is
:func:`workflows.web.auth.limited_address`: behind a trusted proxy, or a proxy on this machine, the
address it forwards.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from starlette.requests import Request

from workflows.web.auth import limited_address
from workflows.web.config import WebConfig
from workflows.web.pages import requested_language, too_many
from workflows.web.render import App, Receive, Scope, Send

BURST = 20
"""How many requests a client may make at once (fewer if the limit per minute is lower)."""
MAX_CLIENTS = 10_000
"""Buckets kept at most: beyond, the full ones (the same as none) go, then the oldest."""


class TokenBucket:
    """Per key, ``capacity`` tokens that refill at ``per_minute`` a minute; a request takes one."""

    def __init__(self, per_minute: int, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60
        self.capacity = float(min(BURST, per_minute))
        self.now = now
        self.buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> int:
        """Take a token for ``key``: 0 if there was one, else the seconds until there is."""
        moment = self.now()
        tokens, since = self.buckets.pop(key, (self.capacity, moment))
        tokens = min(self.capacity, tokens + (moment - since) * self.rate)
        wait = 0 if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))
        self.buckets[key] = (tokens - 1 if wait == 0 else tokens, moment)  # the newest last
        if len(self.buckets) > MAX_CLIENTS:
            self._forget(moment)
        return wait

    def _forget(self, moment: float) -> None:
        for key, (tokens, since) in list(self.buckets.items()):
            if tokens + (moment - since) * self.rate >= self.capacity:
                del self.buckets[key]
        while len(self.buckets) > MAX_CLIENTS // 2:
            del self.buckets[next(iter(self.buckets))]


class ParticipantLimit:
    """ASGI middleware: :class:`TokenBucket` per client address on ``{prefix}/l/``, GET and POST alike;
    the 429 page otherwise. Everything else passes untouched (the console has its own limit)."""

    def __init__(self, app: App, *, config: WebConfig) -> None:
        self.app = app
        self.config = config
        self.pages = f"{config.prefix}/l/"
        self.bucket = TokenBucket(config.participant_rate_limit) if config.participant_rate_limit else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.bucket is not None and scope["type"] == "http" and scope["path"].startswith(self.pages):
            request = Request(scope)
            key = limited_address(self.config, request)
            wait = self.bucket.take(key) if key is not None else 0
            if wait:
                language = requested_language(self.config, request.headers.get("accept-language"))
                await too_many(self.config, language, wait)(scope, receive, send)
                return
        await self.app(scope, receive, send)
