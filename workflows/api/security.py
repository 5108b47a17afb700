"""Who calls the API: a bearer token (``mentorflow tokens create``), its scopes and its rate.

Every endpoint names the scope it needs (:func:`scoped`). A request without ``Authorization: Bearer
<token>``, or with a token that is unknown, malformed or revoked, gets 401 with ``WWW-Authenticate``; a
token without the scope gets 403 naming it; a token beyond its ``rate_limit`` (requests a minute, a
token bucket per token in each worker process) gets 429 with ``Retry-After``. Nothing is written for any
of them, nor for a request refused later (a wrong body); one that succeeded records the token's use (at
most once a minute). The token's name is the
audit actor of what it writes (``api:<name>``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from threading import Lock
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from engine.services.tokens import SCOPE_DESCRIPTIONS, TokenInfo, authenticate, record_use
from workflows.api.problems import ApiProblem
from workflows.web.config import WebConfig
from workflows.web.limits import TokenBucket

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A token made with `mentorflow tokens create NAME --scope ...`: "
    + "; ".join(f"`{scope}` {text}" for scope, text in SCOPE_DESCRIPTIONS.items()),
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="mentorflow"'}


class TokenRates:
    """A token bucket per token, each at its token's ``rate_limit``; shared by the requests of a worker."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int], TokenBucket] = {}
        self._lock = Lock()

    def wait(self, token: TokenInfo) -> int:
        """0 when ``token`` may make a request now (one is counted), else the seconds until it may."""
        with self._lock:
            bucket = self._buckets.get((token.name, token.rate_limit))
            if bucket is None:
                bucket = self._buckets[token.name, token.rate_limit] = TokenBucket(token.rate_limit)
            return bucket.take(token.name)


def config_of(request: Request) -> WebConfig:
    config: WebConfig = request.app.state.config
    return config


def scoped(scope: str) -> Callable[..., object]:
    """A dependency: the token of the request if it may ``scope``; a 401, 403 or 429 problem otherwise."""

    async def token(request: Request, credentials: Credentials) -> TokenInfo:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise ApiProblem(401, "this API needs `Authorization: Bearer <token>`", headers=_CHALLENGE)
        config = config_of(request)
        now = config.clock.now()
        found = await run_in_threadpool(
            partial(authenticate, record_use=False), config.store, credentials.credentials, now
        )
        if found is None:
            raise ApiProblem(401, "the token is not known, or was revoked", headers=_CHALLENGE)
        if not found.allows(scope):
            raise ApiProblem(
                403, f"token {found.name!r} may not do this: it needs the scope {scope!r} (it has "
                f"{', '.join(found.scopes)}; see `mentorflow tokens create --scope`)",
            )  # fmt: skip
        rates: TokenRates = request.app.state.rates
        wait = rates.wait(found)
        if wait:
            detail = (
                f"token {found.name!r} made more than {found.rate_limit} requests a minute; wait {wait} s"
            )
            raise ApiProblem(429, detail, headers={"Retry-After": str(wait)})
        request.state.token = found  # its use is recorded once the request succeeded (record_uses)
        return found

    token.__name__ = f"token_{scope.replace(':', '_')}"
    return token


async def record_uses(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """Middleware: once a request with a token succeeded (a status under 400), its use is recorded."""
    response = await call_next(request)
    token = getattr(request.state, "token", None)
    if token is not None and response.status_code < 400:
        config = config_of(request)
        await run_in_threadpool(record_use, config.store, token, config.clock.now())
    return response
