"""The ``mentorflow`` command (Typer): one module per command group; each parses, calls a service, prints."""

from __future__ import annotations

import gc

STARTING_THRESHOLD = 100_000
"""The collector's first threshold while a command starts: it runs once for this many new objects."""

_starting: list[tuple[tuple[int, int, int], bool]] = []
"""While a command starts: the collector's thresholds before it, and whether to freeze what it made."""


def main(argv: list[str] | None = None) -> None:
    """Run ``mentorflow`` with ``argv`` (default: the process's arguments; the process ends after it).

    A command starts by importing its modules, which makes about a hundred thousand objects (classes,
    functions, the policy) that live as long as the process and are never garbage, yet set off a
    collection of the growing heap every few hundred: a third of a short command's time. So while it
    starts (until :func:`started`) the collector runs rarely; the thresholds are as they were when
    ``main`` returns, so a caller that runs commands in its own process keeps its collector as it was.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(max(STARTING_THRESHOLD, thresholds[0]), *thresholds[1:])
    _starting[:] = [(thresholds, argv is None)]
    try:
        from workflows.cli.app import main as run

        run(argv)
    finally:
        if _starting:
            gc.set_threshold(*_starting.pop()[0])


def started() -> None:
    """The command has loaded its modules and begins its work: the collector runs as before.

    Where the process ends with the command, what the start made is frozen first (moved out of the
    collector's sight, :func:`gc.freeze`): no later collection, nor the one as the process exits,
    scans it again. Once per command; nothing outside :func:`main`.
    """
    if not _starting:
        return
    thresholds, freeze = _starting.pop()
    if freeze:
        gc.freeze()
    gc.set_threshold(*thresholds)
