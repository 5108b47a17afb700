"""The ``log`` channel: one JSON line per message, appended to a file before its delivery is recorded.

A channel for a demo or a trial run, before anyone sets up SMTP; the file is
also a record of what was sent. By default a line holds ids only: the message's
idempotency key and Message-ID, its relationship, action and recipient role,
the channel, when the message was made and when the line was written; never a
name, an address, a subject, a text or a personal link. With ``bodies = true``
(``[channels.log]``) a line holds the whole message too: to whom (name and
address), its subject and text (with the recipient's personal links) and its
attachments' names. Either way the file is created readable by its owner only.
Each line is written and flushed as it is sent, so when ``send`` returns the
line is in the operating system's hands and the delivery run records it (and
settles its outbox row) at once.

What survives what:

- The process dying (killed, out of memory, an exception nobody handles)
  loses nothing that ``send`` returned: a line written to the file is the
  kernel's, and the kernel puts it on disk whether or not the process lives.
  So a crash in the middle of a batch leaves every line written so far
  recorded, and the next run writes none of them again; the one line that
  can repeat is one written in the instant before its record, as for any
  channel. This needs no ``fsync``.
- The machine losing power (or its kernel crashing) is what ``fsync`` is
  for. With ``fsync = true`` (``[channels.log]``, the default) each line is
  on disk before it is recorded, so a power cut, too, loses no line. With
  ``fsync = false`` the lines of the last seconds before a power cut may be
  missing from the file (and the last one cut short) while the store, which
  syncs its own commits, records them as written. The file is then not a
  faithful record of the last moments; for a demo, whose file is thrown
  away, that costs nothing and saves a disk flush per message (most of the
  demo's delivery time). Forcing the file to disk once per batch instead
  would not help: the lines are recorded before the batch ends, so the
  store would still be ahead of the file in that window.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from engine.clock import Clock, SystemClock
from engine.delivery.channels import DeliveryError, Message


class LogChannel:
    """Appends each message as a JSON line to ``path``: written when ``send`` returns, and on disk then
    too unless ``fsync`` is off (see the module's docstring for what each survives). ``bodies``: the
    line holds the whole message (names, addresses, texts, links), not only its ids; ``clock`` gives
    the moment each line is written."""

    name = "log"

    def __init__(
        self, path: Path, *, fsync: bool = True, bodies: bool = False, clock: Clock | None = None
    ) -> None:
        self.path = path
        self.fsync = fsync
        self.bodies = bodies
        self.clock = clock or SystemClock()
        self.delivered_as = f"written to {shown_path(path)}"

    def send(self, message: Message) -> None:
        record = receipt(message, self.clock.now())
        if self.bodies:
            record |= contents(message)
        line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with os.fdopen(self._open(), "a", encoding="utf-8") as file:
                file.write(line)
                file.flush()
                if self.fsync:
                    os.fsync(file.fileno())
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc.strerror or exc}") from None

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


def shown_path(path: Path) -> str:
    """``path`` as an operator finds it: relative to the current directory if it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (OSError, ValueError):
        return str(path)


def receipt(message: Message, written_at: datetime) -> dict[str, object]:
    """What every line says of ``message``: that it was sent, and to which role, by ids alone."""
    return {
        "message_id": message.message_id(),
        "key": message.key,
        "relationship_id": message.relationship_id,
        "action": message.action,
        "recipient": message.recipient,
        "channel": LogChannel.name,
        "created_at": message.created_at.isoformat(),
        "written_at": written_at.isoformat(),
    }


def contents(message: Message) -> dict[str, object]:
    """What a line adds with ``bodies = true``: the recipient's name and address, the texts (with
    their personal links) and the attachments' names."""
    return {
        "to": {"name": message.to_name, "address": message.to_address},
        "language": message.language,
        "subject": message.subject,
        "body": message.body,
        "attachments": [a.filename for a in message.attachments],
    }
