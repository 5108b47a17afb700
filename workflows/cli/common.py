"""What every command shares: options, opening the store and policy, dates, printing."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import Engine

    from engine.errors import MentorflowError
    from engine.policy.model import Policy

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


def console(err: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=err, highlight=False)


def print_error(exc: MentorflowError) -> None:
    """An engine error for the operator: the message, then one line per problem."""
    typer.echo(f"error: {exc.message}", err=True)
    for problem in exc.problems:
        typer.echo(f"  {problem}", err=True)


def fail_unexpected(exc: Exception) -> NoReturn:
    typer.echo(
        f"unexpected error: {type(exc).__name__}: {exc}\n"
        "nothing was committed by the failed operation; rerun with MENTORFLOW_DEBUG=1 for details",
        err=True,
    )
    sys.exit(1)


def open_store(database: str | None, *, initialised: bool = True) -> Engine:
    """The store the settings name, checked to be initialised unless asked not to."""
    from engine.settings import resolve
    from engine.store.database import open_engine, require_schema

    store = open_engine(resolve(database=database).database_url, create=not initialised)
    if initialised:
        require_schema(store)
    return store


def load_policy(policy: str | None) -> Policy:
    """The policy the option or settings name; the shipped default otherwise."""
    from engine.policy.model import load_policy as load
    from engine.policy.model import resolve_policy_path
    from engine.settings import resolve

    return load(resolve_policy_path(resolve(policy=policy).policy))


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
