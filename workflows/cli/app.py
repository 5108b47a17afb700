"""The ``mentorflow`` command: parse, call an engine service, print.

Exit codes: 0 success, 1 a check found a problem (or another writer got there
first), 2 bad input or usage. Commands import what they need when they run,
so ``mentorflow --help`` and read-only commands start fast and never import
Prefect.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from workflows.cli import audit as cli_audit
from workflows.cli import config as cli_config
from workflows.cli import demo as cli_demo
from workflows.cli import flows as cli_flows
from workflows.cli import match as cli_match
from workflows.cli import outbox as cli_outbox
from workflows.cli import people as cli_people  # noqa: F401  (adds to participants, relationships)
from workflows.cli import policy as cli_policy
from workflows.cli import program as cli_program
from workflows.cli import record as cli_record
from workflows.cli import report as cli_report
from workflows.cli.common import bound_integers, debugging, fail_unexpected, print_error, what_was_committed

app = typer.Typer(
    name="mentorflow",
    help="Run a mentoring program as software: phases, policies, and a verifiable audit history.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(cli_policy.app, name="policy")
app.add_typer(cli_program.participants, name="participants")
app.add_typer(cli_program.relationships, name="relationships")
app.add_typer(cli_record.app, name="record")
app.add_typer(cli_audit.app, name="audit")
app.add_typer(cli_match.app, name="match")
app.add_typer(cli_outbox.app, name="outbox")
app.add_typer(cli_config.app, name="config")
app.command("init")(cli_program.init)
app.command("advance")(cli_program.advance)
app.command("history")(cli_program.history)
app.command("status")(cli_program.status)
app.command("report")(cli_report.report)
app.command("insights")(cli_report.insights)
app.command("tick")(cli_flows.tick)
app.command("serve")(cli_flows.serve)
app.command("demo")(cli_demo.demo)


def _print_version(wanted: bool) -> None:
    """``--version``: eager, so it prints and exits before Click asks for a command."""
    if wanted:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as dist_version

        try:
            shown = dist_version("mentorflow")
        except PackageNotFoundError:  # run from a source tree that was never installed
            shown = "unknown (not installed)"
        typer.echo(f"mentorflow {shown}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
) -> None:
    """Run a mentoring program as software: phases, policies, and a verifiable audit history."""
    no_telemetry()


def no_telemetry() -> None:
    """``DO_NOT_TRACK=1`` for Prefect (and the servers and workers it starts), unless the operator set it.

    Runs before any command, so before Prefect is imported: Prefect then sends no usage data and prints
    no telemetry notice in an HR user's terminal.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: errors become a message and an exit code, never a traceback.

    Typer (standalone) handles usage errors itself, with exit code 2.
    """
    from engine.errors import MentorflowError
    from engine.services.setup import commits

    before = commits()
    try:
        bound_integers(typer.main.get_command(app))(args=argv, prog_name="mentorflow")
    except MentorflowError as exc:
        print_error(exc)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt as exc:
        typer.echo(f"interrupted: {what_was_committed(exc, commits() - before)}", err=True)
        sys.exit(130)
    except Exception as exc:
        if debugging():
            raise
        fail_unexpected(exc, committed=commits() - before)


if __name__ == "__main__":
    main()
