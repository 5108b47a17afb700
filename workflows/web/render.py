"""Pages as HTML: the Jinja2 templates of ``workflows/web/templates``, and the headers every response has.

Templates are autoescaped and strict (an undefined name is an error, so a page that mentions
something it is not given fails in the tests). Every response carries the security headers of
:data:`SECURITY_HEADERS`: no script may run (the pages have none), no page may be framed, no address
leaks in a ``Referer``, nothing personal is cached; the one stylesheet may be cached.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.responses import HTMLResponse

from engine.delivery.links import PURPOSES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("referrer-policy", "same-origin"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"),
)
NO_STORE = ("cache-control", "no-store")
HSTS = ("strict-transport-security", "max-age=31536000")

access_log = logging.getLogger("mentorflow.web.access")


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("workflows.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def html(template: str, status: int, context: dict[str, Any]) -> HTMLResponse:
    """``template`` rendered with ``context``, as a response with ``status``."""
    return HTMLResponse(environment().get_template(template).render(context), status_code=status)


class SecurityHeaders:
    """ASGI middleware: the security headers on every response (``no-store`` unless a response says how
    it may be cached), HSTS when the site is served over HTTPS, and one access-log line per request
    that names the route and its status, never the address (which holds the personal token)."""

    def __init__(self, app: App, *, https: bool) -> None:
        self.app = app
        self.extra = [HSTS] if https else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [0]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                added = [*SECURITY_HEADERS, *self.extra]
                if b"cache-control" not in present:
                    added.append(NO_STORE)
                headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in added]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        finally:
            _log(scope, status[0], time.perf_counter() - started)


def _log(scope: Scope, status: int, seconds: float) -> None:
    route = scope.get("route")
    where = getattr(route, "path", None) or "(no page)"
    purpose = scope.get("path_params", {}).get("purpose")
    shown = where.replace("{purpose}", purpose) if purpose in PURPOSES else where  # never other text
    access_log.info("%s %s %s %.0f ms", scope.get("method", "?"), shown, status, seconds * 1000)
