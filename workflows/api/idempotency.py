"""The ``Idempotency-Key`` header of the API's POSTs (:mod:`engine.services.idempotency`).

A POST with a key is carried out once: a repeat with the same key, path and body answers what the first
answered (a refusal too), with ``Idempotent-Replayed: true``, and writes nothing; the same key with another
request is a 422 problem, a repeat while the first still runs a 409. Without the header a POST is carried
out each time it is sent. Every POST passes through here, so here it is refused while the server runs a
policy version no longer in force.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from engine.errors import MentorflowError
from engine.services import idempotency
from engine.services.tokens import TokenInfo
from workflows.api.problems import MEDIA_TYPE, ApiProblem, engine_problem
from workflows.api.security import config_of
from workflows.web.config import superseded

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=idempotency.MAX_KEY,
        description="Any unique text (a UUID): the same request sent again with it is carried out once.",
    ),
]
M = TypeVar("M", bound=BaseModel)


async def once(
    request: Request, token: TokenInfo, key: str | None, model: type[M], run: Callable[[], M]
) -> M | Response:
    """``run()`` (in a worker thread), carried out once per ``key``: its result, or the answer kept;
    refused (409, nothing written) while the policy the server runs is no longer the version in force."""
    config = config_of(request)
    stale = await run_in_threadpool(superseded, config)
    if stale:
        raise ApiProblem(409, stale)
    if key is None:
        return await run_in_threadpool(run)
    body = await request.body()
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.url.path.encode(), body])
    ).hexdigest()
    try:
        kept = await run_in_threadpool(
            idempotency.begin, config.store, token.name, key, fingerprint, config.clock.now()
        )
    except MentorflowError as exc:
        return engine_problem(exc)
    if kept is not None:
        media = "application/json" if kept.status < 400 else MEDIA_TYPE
        headers = {"Idempotent-Replayed": "true"}
        return JSONResponse(kept.body, status_code=kept.status, media_type=media, headers=headers)
    try:
        result = await run_in_threadpool(run)
    except MentorflowError as exc:
        refused = engine_problem(exc)
        await _keep(config, token, key, refused.status_code, _json(refused))
        return refused
    except BaseException:
        await run_in_threadpool(idempotency.abandon, config.store, token.name, key)
        raise
    await _keep(config, token, key, 200, result.model_dump(mode="json"))
    return result


def _json(response: JSONResponse) -> Any:
    import json

    return json.loads(bytes(response.body))


async def _keep(config: Any, token: TokenInfo, key: str, status: int, body: Any) -> None:
    answer = idempotency.Answer(status, body)
    await run_in_threadpool(idempotency.finish, config.store, token.name, key, answer)
