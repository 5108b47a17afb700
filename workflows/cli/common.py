"""What every command shares: options, the settings, opening the store and policy, dates, errors.

A command resolves its settings once (:func:`settings`, the options first) and
opens the store and loads the policy from them. Times are aware datetimes.
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from workflows.cli.output import in_flags

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from engine.errors import MentorflowError
    from engine.policy.model import Policy
    from engine.settings import Settings

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="SQLAlchemy URL of the store [env MENTORFLOW_DATABASE_URL; default sqlite:///mentorflow.db]",
        show_default=False,
    ),
]
PolicyOption = Annotated[
    str | None,
    typer.Option(
        "--policy",
        help="Policy file, or a shipped policy's name [env MENTORFLOW_POLICY; default: default]",
        show_default=False,
    ),
]
FormatTableJson = Annotated[str, typer.Option("--format", help="table or json")]
ActorOption = Annotated[
    str | None, typer.Option("--actor", help="Who does this [env MENTORFLOW_ACTOR; default: login name]")
]


def print_error(exc: MentorflowError) -> None:
    """An engine error for the operator: the message, then one line per problem, fields named as flags."""
    typer.echo(f"error: {in_flags(exc.message)}", err=True)
    for problem in exc.problems:
        typer.echo(f"  {in_flags(problem)}", err=True)


def fail_unexpected(exc: Exception) -> NoReturn:
    typer.echo(
        f"unexpected error: {type(exc).__name__}: {exc}\n"
        "nothing was committed by the failed operation; rerun with MENTORFLOW_DEBUG=1 for details",
        err=True,
    )
    sys.exit(1)


def settings(database: str | None = None, policy: str | None = None) -> Settings:
    """The command's settings: its options, then the environment, mentorflow.toml and the defaults.

    Resolve them once, at the command's start, and pass them on.
    """
    from engine.settings import resolve

    return resolve(database=database, policy=policy)


def open_store(chosen: Settings, *, initialised: bool = True) -> Engine:
    """The store the settings name, checked to be initialised unless asked not to."""
    from engine.services.setup import open_store as open_url

    return open_url(chosen.database_url, initialised=initialised)


def policy_file(chosen: Settings) -> Path:
    """The policy file the settings name (a shipped policy's, by name); the shipped default otherwise."""
    from engine.policy.model import resolve_policy_path

    return resolve_policy_path(chosen.policy)


def load_policy(chosen: Settings) -> Policy:
    """The policy the settings name; the shipped default otherwise."""
    from engine.policy.model import load_policy as load

    return load(policy_file(chosen))


def actor_name(actor: str | None) -> str:
    """Who runs the command: ``--actor``, ``MENTORFLOW_ACTOR``, or the login name."""
    name = actor or os.environ.get("MENTORFLOW_ACTOR")
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "operator"
    return name


def parse_moment(text: str, option: str, timezone: str, *, end_of_day: bool = False) -> datetime:
    """A date (``2026-03-01``) or date-time (``2026-03-01T09:30``), read in the program's time zone."""
    from zoneinfo import ZoneInfo

    from engine.errors import InputError

    zone = ZoneInfo(timezone)
    try:
        if len(text.strip()) == 10:
            day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
            moment = datetime.combine(day, time(0), zone)
            return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{option}: {text!r} is not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def check_choice(value: str, option: str, choices: tuple[str, ...]) -> str:
    from engine.errors import InputError

    if value not in choices:
        raise InputError(f"{option}: {value!r} is not one of {', '.join(choices)}")
    return value
