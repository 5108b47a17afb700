"""The ``webhook`` channel: an HTTP POST of ``{"text": ...}``, the body Slack and Teams webhooks take.

Any 2xx reply is success. A redirect or a 4xx (but 408, 425 and 429) means the
request itself is wrong (a moved or revoked URL), so retrying cannot help until
someone fixes it; a 5xx, a
timeout or a refused connection is worth another try. The ``Idempotency-Key``
header carries the message's key, for receivers that drop repeats.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from engine.delivery.channels import DeliveryError, Message, key_digest

_RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})


@dataclass(frozen=True)
class WebhookSettings:
    """Where to post, and how long to wait for the answer."""

    url: str
    timeout: float = 10.0


class WebhookChannel:
    """Posts each message as JSON to one URL."""

    name = "webhook"
    buffered = False

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings
        parts = urlsplit(settings.url)
        self.shown = f"{parts.scheme}://{parts.hostname}"  # the path of a Slack URL is its secret

    def sync(self) -> None:
        """Nothing to do: a message is handed over when ``send`` returns."""

    def send(self, message: Message) -> None:
        request = urllib.request.Request(
            self.settings.url,
            data=json.dumps(body(message), ensure_ascii=False).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Idempotency-Key": key_digest(message.key),
                "User-Agent": "mentorflow",
            },
        )
        try:
            with _OPENER.open(request, timeout=self.settings.timeout) as reply:
                reply.read()
                status = int(reply.status)
        except urllib.error.HTTPError as exc:
            exc.close()
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DeliveryError(f"webhook {self.shown} unreachable: {reason}", unreachable=True) from None
        if not 200 <= status < 300:
            permanent = 300 <= status < 500 and status not in _RETRYABLE_CLIENT_ERRORS
            raise DeliveryError(f"webhook {self.shown} answered HTTP {status}", permanent=permanent)


def body(message: Message) -> dict[str, str]:
    """The JSON body: subject, who it is for, then the text; plain, as Slack and Teams mark up differently."""
    to = f"To {message.to_name} ({message.recipient})"
    return {"text": f"{message.subject}\n{to}\n\n{message.body}"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a detour: urllib would replay a POST as a GET without its body."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)
