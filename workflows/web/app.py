"""The ASGI application of ``mentorflow web``: the participant pages behind personal links.

Routes (under the path of ``[web] base_url``, so a reverse proxy passes addresses on unchanged):

- ``GET/POST /l/{purpose}/{token}``: the page of a link (:mod:`workflows.web.pages`);
- ``GET /l/{token}``: an address without a purpose (as links were first printed) is sent on to the
  address with its token's purpose, once the token's signature checks out;
- the coordinator pages behind a sign-in (:mod:`workflows.web.console`, :mod:`workflows.web.auth`):
  ``GET /`` (today), ``GET/POST /login``, ``POST /logout``, ``GET /matching``,
  ``POST /matching/{rel}/approve|reject``, ``GET /relationships/{rel}``,
  ``POST /relationships/{rel}/replace|revoke``, ``POST /trainings/{report}/confirm|decline``,
  ``GET /search?q=``, ``GET /console/policy``, ``POST /console/policy/plan|apply``
  (:mod:`workflows.web.policy_page`); without a session, the login page (401 for
  ``Accept: application/json``), never data;
- ``/api/v1/...``: the REST API (:mod:`workflows.api`), its OpenAPI document at ``/api/v1/openapi.json``;
- ``GET /healthz``: ``ok``, for a proxy or a supervisor;
- ``GET /static/site.css``: the one stylesheet (no script anywhere).

While the policy this server runs is no longer the version in force (another was applied since it
started), every form that would change something (a link's page, a console action, an API write) is
refused with 409 and nothing written; pages still open.

Requests to ``/l/...`` beyond ``[web] participant_rate_limit`` per client get a 429 page
(:mod:`workflows.web.limits`). Anything else is a plain 404 page. FastAPI's generated docs are switched
off. An unexpected error is a plain 500 page and one log line naming its type, never the request (the
address holds the token).
"""

from __future__ import annotations

import logging
import os
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from engine.delivery.links import purpose_of
from workflows.api import create_api
from workflows.web import auth, console, pages, policy_page
from workflows.web.config import WebConfig, superseded
from workflows.web.limits import ParticipantLimit
from workflows.web.render import SecurityHeaders

log = logging.getLogger("mentorflow.web")
MAX_FORM_BYTES = 64 * 1024
"""A survey's answers are a few kilobytes; a larger form is refused unread."""


def create_app(config: WebConfig) -> FastAPI:
    """The participant pages for ``config``."""
    app = FastAPI(title="mentorflow", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    base = config.prefix
    app.add_middleware(ParticipantLimit, config=config)  # inside SecurityHeaders: a 429 has its headers
    app.add_middleware(SecurityHeaders, https=config.base_url.startswith("https://"))
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    app.add_api_route(f"{base}/l/{{purpose}}/{{token}}", _show, methods=["GET"])
    app.add_api_route(f"{base}/l/{{purpose}}/{{token}}", _submit, methods=["POST"])
    app.add_api_route(f"{base}/l/{{token}}", _without_purpose, methods=["GET"])
    app.add_api_route(f"{base}/", _today, methods=["GET"])
    app.add_api_route(f"{base}/login", _show_login, methods=["GET"])
    app.add_api_route(f"{base}/login", _submit_login, methods=["POST"])
    app.add_api_route(f"{base}/logout", _logout, methods=["POST"])
    app.add_api_route(f"{base}/matching", _matching, methods=["GET"])
    app.add_api_route(f"{base}/matching/{{rel_id:int}}/{{action}}", _decide, methods=["POST"])
    app.add_api_route(f"{base}/relationships/{{rel_id:int}}", _relationship, methods=["GET"])
    app.add_api_route(f"{base}/relationships/{{rel_id:int}}/replace", _replace, methods=["POST"])
    app.add_api_route(f"{base}/relationships/{{rel_id:int}}/revoke", _revoke, methods=["POST"])
    app.add_api_route(f"{base}/trainings/{{report_id:int}}/{{decision}}", _training, methods=["POST"])
    app.add_api_route(f"{base}/search", _search, methods=["GET"])
    app.add_api_route(f"{base}/console/policy", _policy, methods=["GET"])
    app.add_api_route(f"{base}/console/policy/{{step}}", _policy_step, methods=["POST"])
    app.add_api_route(f"{base}/healthz", _health, methods=["GET"])
    app.add_api_route(f"{base}/static/site.css", _stylesheet, methods=["GET"])
    app.mount(f"{base}/api/v1", create_api(config))
    return app


def _config(request: Request) -> WebConfig:
    config: WebConfig = request.app.state.config
    return config


async def _show(request: Request, purpose: str, token: str) -> Response:
    try:
        return await run_in_threadpool(pages.show, _config(request), token, purpose, dict(request.headers))
    except Exception as exc:
        return _failed(request, exc)


async def _submit(request: Request, purpose: str, token: str) -> Response:
    config, headers = _config(request), dict(request.headers)
    length = headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        language = pages.requested_language(config, headers.get("accept-language"))
        return pages.refused(config, language, "not_recorded", 413)
    stale = await run_in_threadpool(superseded, config)
    if stale:
        log.warning("a participant's form was refused: %s", stale)
        language = pages.requested_language(config, headers.get("accept-language"))
        return pages.refused(config, language, "policy_changed", 409)
    try:
        async with request.form(max_files=0, max_fields=200) as received:
            form = {key: value for key, value in received.items() if isinstance(value, str)}
        return await run_in_threadpool(pages.submit, config, token, purpose, headers, form)
    except Exception as exc:
        return _failed(request, exc)


async def _without_purpose(request: Request, token: str) -> Response:
    """An address ``/l/{token}``: on to ``/l/{purpose}/{token}`` for a genuine token, else refused."""
    config = _config(request)
    found = purpose_of(token, config.keys)
    if found is None:
        language = pages.requested_language(config, request.headers.get("accept-language"))
        return pages.refused(config, language, "refusal_tampered", 400)
    return RedirectResponse(f"{config.prefix}/l/{found}/{token}", status_code=303)


async def _signed_in(request: Request, handler: Any, *args: Any) -> Response:
    """``handler(config, principal, *args)`` for a signed-in request; the login page (or 401) otherwise."""
    config = _config(request)
    who = await run_in_threadpool(auth.principal, config, request)
    if who is None:
        return auth.unauthenticated(config, request)
    return await run_in_threadpool(handler, config, who, *args)


async def _today(request: Request) -> Response:
    return await _signed_in(request, console.today)


async def _matching(request: Request) -> Response:
    return await _signed_in(request, console.matching)


async def _relationship(request: Request, rel_id: int) -> Response:
    return await _signed_in(request, console.relationship, rel_id)


async def _search(request: Request) -> Response:
    return await _signed_in(request, console.search, request.query_params.get("q", ""))


async def _form(request: Request) -> dict[str, str] | None:
    """The fields of a posted form, or ``None`` when it is too large to read."""
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return None
    async with request.form(max_files=0, max_fields=50) as received:
        return {key: value for key, value in received.items() if isinstance(value, str)}


async def _posted(request: Request, action: str, rel_id: int) -> Response:
    """A console form: signed in, then the form's size and token, then the action (role checked there)."""
    config = _config(request)
    who = await run_in_threadpool(auth.principal, config, request)
    if who is None:
        return auth.unauthenticated(config, request)
    form = await _form(request)
    if form is None:
        return console.message(config, who, "Not done", "The form is too large.", 413)
    if not auth.form_ok(config, who, request.headers, form):
        return console.refused(config, who, "form")
    if action == "logout":
        return await run_in_threadpool(auth.submit_logout, config, request, who)
    stale = await run_in_threadpool(superseded, config)
    if stale:
        return console.message(config, who, "Not done", stale, 409)
    return await run_in_threadpool(console.act, config, who, action, rel_id, form)


async def _policy(request: Request) -> Response:
    return await _signed_in(request, policy_page.overview)


async def _policy_step(request: Request, step: str) -> Response:
    """A new policy version planned or applied: signed in, the upload's size, the form token, then the
    policy this server runs still in force; the role is checked by the page."""
    if step not in ("plan", "apply"):
        return await _http_error(request, HTTPException(404))
    config = _config(request)
    who = await run_in_threadpool(auth.principal, config, request)
    if who is None:
        return auth.unauthenticated(config, request)
    length = request.headers.get("content-length", "0")
    if not length.isdigit() or int(length) > 2 * policy_page.MAX_POLICY_BYTES + MAX_FORM_BYTES:
        limit = policy_page.MAX_POLICY_BYTES // 1024
        return console.message(
            config, who, "Not read", f"policy_file: the form is larger than {limit} KB", 413
        )
    fields, files = await _upload(request)
    if not auth.form_ok(config, who, request.headers, fields):
        return console.refused(config, who, "form")
    stale = await run_in_threadpool(superseded, config)
    if stale:
        return console.message(config, who, "Not done", stale, 409)
    upload = policy_page.upload_of(fields, files)
    if step == "plan":
        return await run_in_threadpool(policy_page.plan, config, who, upload)
    return await run_in_threadpool(policy_page.apply, config, who, upload, fields)


async def _upload(request: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """The text fields of a posted form, and its files (name, content) by field."""
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    async with request.form(
        max_files=1, max_fields=50, max_part_size=2 * policy_page.MAX_POLICY_BYTES
    ) as got:
        for key, value in got.items():
            if isinstance(value, str):
                fields[key] = value
            else:
                files[key] = (value.filename or "", await value.read(policy_page.MAX_POLICY_BYTES + 1))
    return fields, files


async def _decide(request: Request, rel_id: int, action: str) -> Response:
    if action not in ("approve", "reject"):
        return await _http_error(request, HTTPException(404))
    return await _posted(request, action, rel_id)


async def _replace(request: Request, rel_id: int) -> Response:
    return await _posted(request, "replace", rel_id)


async def _revoke(request: Request, rel_id: int) -> Response:
    return await _posted(request, "revoke", rel_id)


async def _training(request: Request, report_id: int, decision: str) -> Response:
    """A training report confirmed or declined (console.act's ``training_confirm``, ``training_decline``)."""
    if decision not in ("confirm", "decline"):
        return await _http_error(request, HTTPException(404))
    return await _posted(request, f"training_{decision}", report_id)


async def _logout(request: Request) -> Response:
    return await _posted(request, "logout", 0)


async def _show_login(request: Request) -> Response:
    return await run_in_threadpool(auth.show_login, _config(request), request)


async def _submit_login(request: Request) -> Response:
    config = _config(request)
    form = await _form(request)
    if form is None:
        return auth.login_page(config, None, "The form is too large.", 413)
    return await run_in_threadpool(auth.submit_login, config, request, form)


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def _stylesheet(request: Request) -> Response:
    css = resources.files("workflows.web").joinpath("static", "site.css").read_bytes()
    return Response(css, media_type="text/css", headers={"cache-control": "public, max-age=3600"})


async def _http_error(request: Request, exc: Any) -> Response:
    """404, 405 and the like: a plain page, in the browser's language."""
    config = _config(request)
    language = pages.requested_language(config, request.headers.get("accept-language"))
    return pages.refused(config, language, "not_found", int(getattr(exc, "status_code", 404)))


async def _server_error(request: Request, exc: Exception) -> Response:
    return _failed(request, exc)


def _failed(request: Request, exc: Exception) -> HTMLResponse:
    log.error(
        "a page failed: %s (the request is not logged: its address holds a personal token; "
        "MENTORFLOW_DEBUG=1 logs the traceback)", type(exc).__name__,
        exc_info=exc if os.environ.get("MENTORFLOW_DEBUG") else None,
    )  # fmt: skip
    config = _config(request)
    language = pages.requested_language(config, request.headers.get("accept-language"))
    return pages.refused(config, language, "not_recorded", 500)
