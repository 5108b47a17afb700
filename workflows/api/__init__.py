"""The REST API under ``/api/v1``, served by ``mentorflow web`` beside the pages, for HR, learning and
analytics systems: participants, trainings, meetings and survey answers, relationships and their
histories, status, matching proposals and decisions, and the feed of events.

Every write is the service the commands and the pages use (the same validation, the same audit entry in
the same transaction, the same refusals), with the token's name as its actor (``api:<name>``). Its
OpenAPI document is at ``/api/v1/openapi.json``; errors are ``application/problem+json``
(:mod:`workflows.api.problems`); lists are paged by cursor; POSTs take an ``Idempotency-Key``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException

from engine.errors import MentorflowError
from workflows.api import erasure, events, goals, matching, participants, records, relationships
from workflows.api.problems import (
    MEDIA_TYPE,
    ApiProblem,
    on_engine_error,
    on_http_error,
    on_invalid,
    on_problem,
    on_unexpected,
)
from workflows.api.security import TokenRates, record_uses
from workflows.web.config import WebConfig

VERSION = "1"
PROBLEM_REF = "#/components/schemas/Problem"
DESCRIPTION = """\
mentorflow's API for the systems around a mentoring program. Authenticate with a token made by
`mentorflow tokens create NAME --scope ...` as `Authorization: Bearer <token>`; each endpoint names the
scope it needs. Errors are `application/problem+json` (RFC 9457) with a JSON pointer to each wrong field.
Lists are paged: pass the `next_cursor` of a page as `cursor` for the next. A POST sent with an
`Idempotency-Key` header is carried out once, however often it is sent.
"""


def create_api(config: WebConfig) -> FastAPI:
    """The API application for ``config``, to mount at ``{prefix}/api/v1``."""
    api = FastAPI(
        title="mentorflow API",
        version=VERSION,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    api.state.config, api.state.rates = config, TokenRates()
    api.middleware("http")(record_uses)
    api.add_exception_handler(ApiProblem, on_problem)
    api.add_exception_handler(MentorflowError, on_engine_error)
    api.add_exception_handler(RequestValidationError, on_invalid)
    api.add_exception_handler(HTTPException, on_http_error)
    api.add_exception_handler(Exception, on_unexpected)
    for module in (participants, erasure, records, goals, relationships, matching, events):
        api.include_router(module.router)
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]
    return api


def _openapi(api: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with each refusal described as what it is: ``application/problem+json``."""
    if api.openapi_schema is None:
        document = get_openapi(
            title=api.title, version=api.version, description=api.description, routes=api.routes,
            servers=api.servers or None,
        )  # fmt: skip
        for operation in (op for path in document["paths"].values() for op in path.values()):
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    response["content"] = {MEDIA_TYPE: {"schema": schema or {"$ref": PROBLEM_REF}}}
        api.openapi_schema = document
    return api.openapi_schema


__all__ = ["create_api"]
