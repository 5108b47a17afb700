"""The ``mentorflow`` command (Typer): one module per command group; each parses, calls a service, prints."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> None:
    """Run ``mentorflow`` with ``argv`` (default: the process's arguments)."""
    from workflows.cli.app import main as run

    run(argv)
