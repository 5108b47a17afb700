"""Errors of the API as ``application/problem+json`` (RFC 9457), each naming what is wrong and where.

Every refusal is a :class:`Problem`: its ``status``, a ``title`` for the kind, a ``detail`` in the words
the commands use, and for a wrong value ``errors``, each with a JSON ``pointer`` into the request body
(``/participants/3/email``) or the ``parameter`` of the query or header it concerns. The engine's own
refusals keep their wording and their pointers (a problem line that starts with one); a request FastAPI
could not read is worded from its validation errors; a route that does not exist is a 404 problem; an
unexpected error a 500 problem and one log line naming its type, never the request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from engine.errors import ConflictError, MentorflowError, NotFoundError, RefusedError

log = logging.getLogger("mentorflow.api")
MEDIA_TYPE = "application/problem+json"
_POINTED = re.compile(r"^(/[^\s:]*): (.*)$", re.DOTALL)
TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Refused",
    413: "Too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal error",
}


class FieldProblem(BaseModel):
    """One wrong value: where (a JSON ``pointer`` into the body, or a query or header ``parameter``)."""

    detail: str = Field(examples=["is not an email address (expected name@example.com)"])
    pointer: str | None = Field(default=None, examples=["/participants/3/email"])
    parameter: str | None = Field(default=None, examples=["limit"])


class Problem(BaseModel):
    """A refusal, as RFC 9457 describes it; nothing was written."""

    type: str = "about:blank"
    title: str = Field(examples=["Invalid input"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["participants not imported, 1 problem"])
    errors: list[FieldProblem] = Field(default_factory=list)


class ApiProblem(Exception):
    """Raised to answer with a problem: its status, detail, field problems and response headers."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = (
            status,
            detail,
            list(errors),
            dict(headers or {}),
        )


def problem_response(
    status: int, detail: str, errors: Sequence[FieldProblem] = (), headers: Mapping[str, str] | None = None
) -> JSONResponse:
    problem = Problem(title=TITLES.get(status, "Refused"), status=status, detail=detail, errors=list(errors))
    body = problem.model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=dict(headers or {}))


def status_of(exc: MentorflowError) -> int:
    """The HTTP status of an engine refusal: not found 404, refused or a conflict 409, else 422."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError | RefusedError):
        return 409
    return 422


def engine_problem(exc: MentorflowError) -> JSONResponse:
    """An engine refusal as a problem: its message, and each of its problem lines as a field problem
    (at its pointer, where the line starts with one)."""
    errors = []
    for line in exc.problems:
        found = _POINTED.match(line)
        errors.append(
            FieldProblem(pointer=found.group(1), detail=found.group(2))
            if found
            else FieldProblem(detail=line)
        )
    return problem_response(status_of(exc), exc.message, errors)


def pointer(location: Sequence[Any]) -> FieldProblem:
    """Where a validation error of FastAPI's is: a pointer into the body, or a parameter."""
    where, *rest = location or ("body",)
    if where == "body":
        return FieldProblem(pointer="/" + "/".join(str(part) for part in rest), detail="")
    return FieldProblem(parameter=".".join(str(part) for part in rest) or str(where), detail="")


async def on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiProblem)
    return problem_response(exc.status, exc.detail, exc.errors, exc.headers)


async def on_engine_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MentorflowError)
    return engine_problem(exc)


async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        place = pointer(error.get("loc", ()))
        errors.append(place.model_copy(update={"detail": str(error.get("msg", "is not valid"))}))
    count = "1 problem" if len(errors) == 1 else f"{len(errors)} problems"
    return problem_response(422, f"the request could not be read, {count}", errors)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "Refused")
    if exc.status_code == 404:
        detail = f"there is no {request.method} {request.url.path} in this API (see its openapi.json)"
    return problem_response(exc.status_code, detail, headers=exc.headers)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed: %s", request.method, request.scope.get("route_name", "api"), type(exc).__name__)
    return problem_response(500, "something went wrong on the server; nothing was written")


PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": TITLES[status]} for status in (401, 403, 404, 409, 422, 429)
}
"""The refusals every endpoint documents (``responses=`` of a route)."""
