"""``mentorflow config``: check the settings file (``mentorflow.toml``) before anything depends on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Check the settings file (mentorflow.toml).", no_args_is_help=True)


@app.command("check")
def check(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Settings file (default: MENTORFLOW_CONFIG, else mentorflow.toml here).", show_default=False
        ),
    ] = None,
    connect: Annotated[
        bool,
        typer.Option(
            "--connect", help="Also try the SMTP server (EHLO, STARTTLS) and the webhook; nothing is sent."
        ),
    ] = False,
) -> None:
    """Check the whole settings file; print every problem with its line. Exit 2 if there is any."""
    from engine.services.config_check import check_settings, settings_file_in_force

    path = file or settings_file_in_force()
    if file is None and not path.exists():
        typer.echo(
            f"no settings file ({path}): the defaults are in force (see config/mentorflow.example.toml)"
        )
        return
    result = check_settings(path)
    for problem in result.problems:
        typer.echo(problem, err=True)
    failed = bool(result.problems)
    if connect:
        failed = _connect(result.data, result.channels_valid) or failed
    if failed:
        count = len(result.problems)
        typer.echo(
            f"{path}: {count} problem{'' if count == 1 else 's'}"
            if count
            else f"{path}: a channel cannot be reached",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(f"ok  {path}")


def _connect(data: dict[str, object], valid: bool) -> bool:
    """Try the channels; whether one failed (or could not be tried: its settings are not valid)."""
    from engine.services.config_probe import probe_channels

    if not valid:
        typer.echo(
            "connections not tried: fix the problems in [notifications] and [channels] first", err=True
        )
        return True
    probes = probe_channels(data)
    if not probes:
        typer.echo("no email or webhook channel configured: nothing to connect to")
    for probe in probes:
        typer.echo(probe.line(), err=not probe.ok)
    return any(not probe.ok for probe in probes)
