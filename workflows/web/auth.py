"""Signing coordinators in: the session cookie, the form token of every console form, the login page.

A session is server-side (:mod:`engine.services.users`): the cookie holds a random id only, HttpOnly,
SameSite=Lax, Secure when ``base_url`` is https, and signing out or disabling the account ends it at
the next request. Every console form carries the session's form token and must come from this site
(``Origin``, ``Sec-Fetch-Site``); the login form, before there is a session, carries an HMAC of a random
value in a short-lived cookie of its own. Failed sign-ins are limited per account and per address in the
store (the page says until when). With ``[web] trusted_header`` an SSO proxy may name the account
instead, believed only from the addresses of ``trusted_proxies`` and only for an enabled account.
Every sign-in, failed sign-in, sign-out and expired session is an account event, with the client's
address (:mod:`engine.services.users`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from engine.services.users import Account, Locked, Session, header_sign_in, session, sign_in, sign_out
from workflows.web.config import WebConfig
from workflows.web.pages import same_origin
from workflows.web.render import html

log = logging.getLogger("mentorflow.web")
COOKIE = "mentorflow_session"
LOGIN_COOKIE = "mentorflow_login"
_CSRF_LABEL = b"mentorflow.web.console-form"


@dataclass(frozen=True)
class Principal:
    """Who is signed in for a request: the account and the form token its forms carry."""

    account: Account
    csrf_token: str


def _mac(config: WebConfig, text: str) -> str:
    derived = hmac.new(config.keys[0].encode("utf-8"), _CSRF_LABEL, hashlib.sha256).digest()
    return hmac.new(derived, text.encode("utf-8"), hashlib.sha256).hexdigest()[:43]


def peer_address(request: Request) -> str:
    """The address the request came from on this connection (a proxy's, behind one): mentorflow web runs
    uvicorn without its proxy headers, so nothing a client sends changes it."""
    return request.client.host if request.client is not None else "unknown"


def client_address(config: WebConfig, request: Request) -> str:
    """Whom the login limit counts: the peer, or, when the peer is one of ``trusted_proxies``, the client
    its ``X-Forwarded-For`` names last (the address the proxy itself saw)."""
    peer = peer_address(request)
    if peer in config.trusted_proxies:
        return _forwarded(request) or peer
    return peer


def _forwarded(request: Request) -> str | None:
    """The last address of ``X-Forwarded-For`` (the one the proxy itself saw), if there is one."""
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
    return forwarded[-1][:64] or None


def limited_address(config: WebConfig, request: Request) -> str | None:
    """Whom the limit on the participant pages counts: :func:`client_address`, except that a loopback
    peer (a proxy on this machine, as nginx in the README) counts as a trusted proxy too; a request from
    loopback that names no client did not come through the proxy (a health check, a benchmark, a script
    on this machine) and is not limited: ``None``."""
    peer = peer_address(request)
    if peer in config.trusted_proxies or _loopback(peer):
        return _forwarded(request) or (None if _loopback(peer) else peer)
    return peer


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def principal(config: WebConfig, request: Request) -> Principal | None:
    """The signed-in account of ``request``: by the trusted proxy's header, else by the session cookie."""
    if config.trusted_header and peer_address(request) in config.trusted_proxies:
        named = request.headers.get(config.trusted_header, "").strip()
        if named:
            address, now = client_address(config, request), config.clock.now()
            account = header_sign_in(config.store, named, config.trusted_header, address, now)
            return None if account is None else Principal(account, _mac(config, f"trusted:{named}"))
    found = session(
        config.store, request.cookies.get(COOKIE), config.clock.now(), client_address(config, request)
    )
    return None if found is None else Principal(found.account, found.csrf_token)


def form_ok(config: WebConfig, who: Principal, headers: Mapping[str, str], form: Mapping[str, str]) -> bool:
    """Whether a console form was posted from its page: this site's, with the session's form token."""
    given = form.get("csrf_token", "")
    return same_origin(config, headers) and hmac.compare_digest(given.encode(), who.csrf_token.encode())


def unauthenticated(config: WebConfig, request: Request) -> Response:
    """No session: 401 for a client that wants JSON (or posts a form), the login page for a browser."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"error": "sign in first"}, status_code=401)
    if request.method != "GET":
        return login_page(config, None, "Please sign in first.", 401)
    return RedirectResponse(f"{config.prefix}/login", status_code=303)


def frame(config: WebConfig, title: str, who: Principal | None) -> dict[str, Any]:
    """What every console page's frame shows."""
    return {
        "lang": "en", "title": title, "program": config.program.name, "prefix": config.prefix,
        "who": who, "csrf_token": who.csrf_token if who else "",
    }  # fmt: skip


def login_page(config: WebConfig, nonce: str | None, message: str | None, status: int) -> HTMLResponse:
    """The sign-in form (with a fresh login form token and its cookie), saying ``message`` if any."""
    nonce = nonce or secrets.token_urlsafe(24)
    context = {
        **frame(config, "Sign in", None),
        "login_token": _mac(config, f"login:{nonce}"),
        "message": message,
    }
    response = html("login.html.j2", status, context)
    response.set_cookie(
        LOGIN_COOKIE, nonce, max_age=3600, path=config.prefix or "/", secure=config.https,
        httponly=True, samesite="lax",
    )  # fmt: skip
    return response


def show_login(config: WebConfig, request: Request) -> Response:
    if principal(config, request) is not None:
        return RedirectResponse(f"{config.prefix}/", status_code=303)
    return login_page(config, None, None, 200)


def submit_login(config: WebConfig, request: Request, form: Mapping[str, str]) -> Response:
    """Check where the form came from, then the limit, then the name and password; on to the console."""
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    expected = _mac(config, f"login:{nonce}")
    token = form.get("login_token", "")
    if not nonce or not same_origin(config, request.headers) or not hmac.compare_digest(token, expected):
        return login_page(config, None, "The form had expired. Please sign in again.", 403)
    now = config.clock.now()
    name = form.get("name", "")
    found = sign_in(config.store, name, form.get("password", ""), client_address(config, request), now)
    if isinstance(found, Locked):
        return login_page(config, nonce, _locked_text(found), 429)
    if not isinstance(found, Session):
        log.info("a sign-in failed")
        text = "The name or the password is wrong."
        locked = _locked_text(Locked(found.locked_until)) if found.locked_until else ""
        return login_page(config, nonce, f"{text} {locked}".strip(), 401)
    response = RedirectResponse(f"{config.prefix}/", status_code=303)
    response.set_cookie(
        COOKIE, found.cookie, max_age=int((found.expires_at - now).total_seconds()),
        path=config.prefix or "/", secure=config.https, httponly=True, samesite="lax",
    )  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path=config.prefix or "/")
    return response


def _locked_text(locked: Locked) -> str:
    until = f"{locked.until:%H:%M} UTC"
    return (
        "Too many failed sign-ins for this account or from this address: signing in is locked "
        f"for 15 minutes, until {until}."
    )


def submit_logout(config: WebConfig, request: Request, who: Principal) -> Response:
    sign_out(config.store, request.cookies.get(COOKIE), config.clock.now(), client_address(config, request))
    response = RedirectResponse(f"{config.prefix}/login", status_code=303)
    response.delete_cookie(COOKIE, path=config.prefix or "/")
    return response
