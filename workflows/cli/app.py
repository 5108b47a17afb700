"""The ``mentorflow`` command: parse, call an engine service, print.

Exit codes: 0 success, 1 a check found a problem (or another writer got there
first), 2 bad input or usage. Commands import what they need when they run,
so ``mentorflow --help`` and read-only commands start fast and never import
Prefect.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from workflows.cli.common import bound_integers, debugging, fail_unexpected, print_error, what_was_committed

# Every command and group: the module that defines it, the attribute (a command's function or a group's
# Typer), and the first paragraph of its help, which `mentorflow --help` lists without importing the module.
# tests/unit/test_cli_registry.py checks each text against the command's own.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("program", "init", "Create the store's schema, or upgrade it to this version of mentorflow."),
    "advance": (
        "program", "advance",
        "Fire a trigger on a relationship; refused with the reason if the policy does not allow it now.",
    ),
    "history": (
        "program", "history", "Show who moved a relationship, when, why and under which policy version."
    ),
    "status": (
        "program", "status",
        "Phase counts and overdue items, now or as of a date (replayed from the audit history).",
    ),
    "report": (
        "report", "report",
        "The program report: funnel, time in phase, engagement, satisfaction, goals, drop-out, matching.",
    ),
    "insights": (
        "report", "insights",
        "What to change: which matching criteria predicted good pairs (and a reweighting), which phases "
        "stall, which pairs need attention now.",
    ),
    "tick": (
        "flows", "tick",
        "One cadence run (due pairs advanced, reminders, escalations), then delivery of the outbox.",
    ),
    "serve": (
        "flows", "serve",
        "Serve the cadence, delivery and matching flows on the schedules of [schedules] in mentorflow.toml.",
    ),
    "purge": (
        "retention", "purge",
        "Erase now what the policy's retention: says has expired (the cadence does it on every run).",
    ),
    "demo": (
        "demo", "demo",
        "Generate a program and run a simulated year of it through the real flows, then summarise it.",
    ),
    "policy": ("policy_apply", "app", "Validate, show and draw phase policies."),
    "participants": ("people", "participants", "Import and list mentors and mentees."),
    "relationships": ("people", "relationships", "List mentor-mentee relationships."),
    "record": ("record", "app", "Record what happened: meetings, training, survey answers."),
    "sessions": ("sessions", "app", "Group sessions (intervisie): plan them, list them, record attendance."),
    "goals": ("goals", "app", "A mentee's development goals: set, progress, list."),
    "audit": ("audit", "app", "Verify and export the audit history."),
    "match": ("match", "app", "Match mentees with mentors: propose, explain, approve, reject."),
    "outbox": ("outbox", "app", "Messages waiting, sent, or parked after failing: list, retry, deliver."),
    "config": ("config", "app", "Check the settings file (mentorflow.toml)."),
    "link": ("links", "app", "Print a fresh personal link for a pair's mentee or mentor, or revoke links."),
    "web": ("web", "web", "Serve the pages participants open through their personal links."),
    "users": ("users", "app", "Accounts of the coordinator pages: add, list, disable, events."),
    "tokens": ("tokens", "app", "Tokens of the REST API (/api/v1): create, list, revoke."),
    "events": ("events", "app", "The event feed and its webhook subscribers: deliver, list, retry, show."),
}  # fmt: skip


class LazyGroup(TyperGroup):
    """The root group: a command's module is imported only when that command runs (or shows its help)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        return bound_integers(command_of(cmd_name))

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The commands and their help, as Click lists them, from :data:`COMMANDS` alone."""
        from typer._click.utils import make_default_short_help

        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, make_default_short_help(text, limit)) for name, (_, _, text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def command_of(name: str) -> Any:
    """The Click command ``name``, built by Typer as the root app would build it."""
    module, attribute, _ = COMMANDS[name]
    found = getattr(import_module(f"workflows.cli.{module}"), attribute)
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    holder.callback()(_nothing)
    if isinstance(found, typer.Typer):
        holder.add_typer(found, name=name)
    else:
        holder.command(name)(found)
    return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]


def _nothing() -> None:
    """Makes the holder a group, so that Typer keeps the command's name."""


app = typer.Typer(
    name="mentorflow",
    cls=LazyGroup,
    help="Run a mentoring program as software: phases, policies, and a verifiable audit history.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
    pinned: Annotated[
        bool,
        typer.Option(
            "--policy-version-pinned",
            help="Act with whatever version of the policy the file has, not only the one `policy apply` put "
            "in force (for scripts) [env MENTORFLOW_POLICY_VERSION_PINNED=1].",
        ),
    ] = False,
) -> None:
    """Run a mentoring program as software: phases, policies, and a verifiable audit history."""
    no_telemetry()
    if pinned:
        pin_policy_version(ctx)


def pin_policy_version(ctx: typer.Context) -> None:
    """``--policy-version-pinned``: set in the environment for this command, so the flows it runs and the
    web workers it starts read it too; put back as it was when the command ends."""
    from engine.services.policy_apply import PINNED_VARIABLE

    before = os.environ.get(PINNED_VARIABLE)
    os.environ[PINNED_VARIABLE] = "1"
    ctx.call_on_close(lambda: _put_back(PINNED_VARIABLE, before))


def _put_back(name: str, value: str | None) -> None:
    """The environment variable ``name`` as it was: ``value``, or unset."""
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


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
