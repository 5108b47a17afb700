"""The ``webhook`` channel: an HTTP POST of ``{"text": ...}``, the body Slack and Teams webhooks take.

Any 2xx reply is success. A redirect or a 4xx (but 408, 425 and 429) means the
request itself is wrong (a moved or revoked URL), so retrying cannot help until
someone fixes it; a 5xx, a timeout or a refused connection is worth another
try. A 429 or 503 means the receiver asks us to wait: the rest of the run
leaves it alone, and its ``Retry-After`` (seconds or an HTTP date, at most
:data:`MAX_RETRY_AFTER`) is the earliest the message is tried again.

Every request carries the message's idempotency key, the same on every retry,
as ``Idempotency-Key`` and as the Standard Webhooks ``webhook-id``: a digest of
the installation's id and the message's key (as its email ``Message-ID`` is), so
no two installations ever send one key. With a
secret (``whsec_...``) it is signed as Standard Webhooks says:
``webhook-timestamp`` (Unix seconds) and ``webhook-signature``, ``v1,`` and the
base64 HMAC-SHA256 of ``{webhook-id}.{webhook-timestamp}.{body}``. The text
escapes ``&``, ``<`` and ``>`` as Slack requires, so a name such as
``<!channel>`` arrives as text, never as a mention or a link.
"""

from __future__ import annotations

import base64
import binascii
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from standardwebhooks import Webhook

from engine.clock import SystemClock
from engine.delivery.channels import DeliveryError, Message, key_digest, scoped_key

_RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
_ASKED_TO_WAIT = frozenset({429, 503})
MAX_RETRY_AFTER = timedelta(days=7)
"""A longer ``Retry-After`` is taken as this long (a row is never put off for years)."""


@dataclass(frozen=True)
class WebhookSettings:
    """Where to post, how long to wait for the answer, and the signing secret (``whsec_...``), if any.

    Neither the URL (whose path is Slack's secret) nor the secret is shown by ``repr``.
    """

    url: str = field(repr=False)
    timeout: float = 10.0
    secret: str | None = field(default=None, repr=False)


def signer(secret: str) -> Webhook:
    """The Standard Webhooks signer of ``secret`` (``whsec_`` and base64); ValueError says what is wrong,
    never the secret itself."""
    if not secret.startswith("whsec_"):
        raise ValueError("the secret must start with whsec_ (Standard Webhooks)")
    encoded = secret.removeprefix("whsec_")
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("the secret after whsec_ is not base64") from None
    if len(key) < 24:
        raise ValueError(f"the secret is {len(key)} bytes; Standard Webhooks asks for 24 to 64")
    return Webhook(secret)


class WebhookChannel:
    """Posts each message as JSON to one URL, signed when the settings hold a secret."""

    name = "webhook"
    delivered_as = "sent by webhook"

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        parts = urlsplit(settings.url)
        self.shown = f"{parts.scheme}://{parts.hostname}"  # the path of a Slack URL is its secret
        self._signer = signer(settings.secret) if settings.secret else None

    def __repr__(self) -> str:
        return f"WebhookChannel({self.shown}, signed={self._signer is not None})"

    def send(self, message: Message) -> None:
        data = json.dumps(body(message), ensure_ascii=False)
        headers = self.headers(message, data)
        status, retry_after = post(
            self.settings.url, data, headers, self.settings.timeout, f"webhook {self.shown}"
        )
        if not 200 <= status < 300:
            raise self._refused(status, retry_after)

    def headers(self, message: Message, data: str, now: float | None = None) -> dict[str, str]:
        """The request's headers for the body ``data``: the key, and the signature if there is a secret."""
        key = key_digest(scoped_key(message.installation, message.key))  # the Message-ID's, within ours
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": key,
            "webhook-id": key,
            "User-Agent": "mentorflow",
        }
        if self._signer is not None:
            moment = int(
                SystemClock().now().timestamp() if now is None else now
            )  # a receiver checks it against its own
            headers["webhook-timestamp"] = str(moment)
            headers["webhook-signature"] = self._signer.sign(key, datetime.fromtimestamp(moment, UTC), data)
        return headers

    def _refused(self, status: int, retry_after: str | None) -> DeliveryError:
        text = f"webhook {self.shown} answered HTTP {status}"
        if status not in _ASKED_TO_WAIT:
            permanent = 300 <= status < 500 and status not in _RETRYABLE_CLIENT_ERRORS
            return DeliveryError(text, permanent=permanent)
        wait = parse_retry_after(retry_after, SystemClock().now().timestamp())
        if wait is not None:
            text += f" (retry after {int(wait.total_seconds())} s)"
        return DeliveryError(text, unreachable=True, retry_after=wait)


def post(url: str, data: str, headers: dict[str, str], timeout: float, shown: str) -> tuple[int, str | None]:
    """POST ``data`` to ``url`` (no redirect followed); the answer's status and ``Retry-After``, or a
    DeliveryError (``unreachable``) naming ``shown`` when no answer came."""
    request = urllib.request.Request(url, data=data.encode("utf-8"), method="POST", headers=headers)
    try:
        with _OPENER.open(request, timeout=timeout) as reply:
            reply.read()
            return int(reply.status), None
    except urllib.error.HTTPError as exc:
        status, retry_after = exc.code, exc.headers.get("Retry-After") if exc.headers else None
        exc.close()
        return status, retry_after
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"{shown} unreachable: {reason}", unreachable=True) from None


def parse_retry_after(value: str | None, now: float) -> timedelta | None:
    """A ``Retry-After`` header (delay-seconds or an HTTP date) as the wait from ``now`` (Unix seconds);
    ``None`` if absent or unreadable, never more than :data:`MAX_RETRY_AFTER`."""
    text = (value or "").strip()
    if text.isascii() and text.isdigit():
        seconds = float(min(int(text), int(MAX_RETRY_AFTER.total_seconds())))
    else:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        seconds = moment.timestamp() - now
    return min(timedelta(seconds=max(seconds, 0.0)), MAX_RETRY_AFTER)


def body(message: Message) -> dict[str, str]:
    """The JSON body: subject, who it is for, then the text; plain, as Slack and Teams mark up differently,
    with ``& < >`` escaped as Slack requires."""
    to = f"To {message.to_name} ({message.recipient})"
    return {"text": slack_escape(f"{message.subject}\n{to}\n\n{message.body}")}


def slack_escape(text: str) -> str:
    """``text`` with the three characters Slack reads as markup escaped: ``&``, ``<`` and ``>``."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a detour: urllib would replay a POST as a GET without its body."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
