"""The ``log`` channel: one JSON line per message, appended to a file and forced to disk as it is written.

A channel for a demo or a trial run, before anyone sets up SMTP; the file is
also a record of what was sent, so it is created readable by its owner only
(it holds employees' names and addresses). Each line is written, flushed and
fsynced as it is sent, so when ``send`` returns the line is on disk and the
delivery run records it (and settles its outbox row) at once: a crash in the
middle of a batch leaves every line written so far recorded, and the next run
writes none of them again. (The one line that can repeat is one written in the
instant between its fsync and its record, as for any channel.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.delivery.channels import DeliveryError, Message


class LogChannel:
    """Appends each message as a JSON line to ``path``, on disk when ``send`` returns."""

    name = "log"
    buffered = False

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Message) -> None:
        line = json.dumps(_record(message), ensure_ascii=False, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with os.fdopen(self._open(), "a", encoding="utf-8") as file:
                file.write(line)
                file.flush()
                os.fsync(file.fileno())
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def sync(self) -> None:
        """Nothing to do: each line is on disk when ``send`` returns."""

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def _record(message: Message) -> dict[str, object]:
    return {
        "message_id": message.message_id(),
        "key": message.key,
        "relationship_id": message.relationship_id,
        "action": message.action,
        "recipient": message.recipient,
        "to": {"name": message.to_name, "address": message.to_address},
        "language": message.language,
        "subject": message.subject,
        "body": message.body,
        "attachments": [a.filename for a in message.attachments],
        "created_at": message.created_at.isoformat(),
    }
