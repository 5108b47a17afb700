"""The ``log`` channel: one JSON line per message, appended to a file and forced to disk.

The default channel, so a program runs end to end before anyone sets up SMTP;
the file is also a record of what was sent, so it is created readable by its
owner only (it holds employees' names and addresses). Each line is written and
flushed as it is sent; ``sync`` forces the file to disk once per delivery run,
before the run records the lines as delivered (an fsync per line would cost a
disk round trip per message).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.delivery.channels import DeliveryError, Message


class LogChannel:
    """Appends each message as a JSON line to ``path``; ``sync`` fsyncs it."""

    name = "log"
    buffered = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, message: Message) -> None:
        line = json.dumps(_record(message), ensure_ascii=False, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with os.fdopen(self._open(), "a", encoding="utf-8") as file:
                file.write(line)
                file.flush()
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def sync(self) -> None:
        """Force every line written so far to disk (an fsync on any handle flushes the whole file)."""
        try:
            fd = self._open()
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise DeliveryError(f"cannot save {self.path}: {exc.strerror or exc}") from None

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
