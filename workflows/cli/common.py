"""What every command shares: options, the settings, opening the store and policy, dates, errors.

A command resolves its settings once (:func:`settings`, the options first) and
opens the store and loads the policy from them. Times are aware datetimes.
"""

from __future__ import annotations

import getpass
import os
import sys
from datetime import datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from workflows.cli.output import in_flags

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

    from engine.errors import MentorflowError
    from engine.policy.model import Policy
    from engine.policy.outline import Outline
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


def debugging() -> bool:
    """Whether ``MENTORFLOW_DEBUG`` asks for tracebacks: ``1``, ``true``, ``yes``, ``on``; ``0``, ``false``,
    ``no``, ``off`` or empty read as off."""
    return os.environ.get("MENTORFLOW_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def fail_unexpected(exc: BaseException, *, committed: int = 0) -> NoReturn:
    """An error nobody foresaw, without its message: a database error's carries the SQL and the values of
    other people's rows. ``committed``: the transactions the command committed before it failed."""
    typer.echo(f"unexpected error: {_kind(exc)}{_origin(exc)}", err=True)
    typer.echo(what_was_committed(exc, committed), err=True)
    typer.echo(
        "rerun with MENTORFLOW_DEBUG=1 for the details (they may show personal data: do not share them)",
        err=True,
    )
    sys.exit(1)


def what_was_committed(exc: BaseException, committed: int) -> str:
    """What the failed command left in the database, as far as is known for sure.

    Every operation of the engine is one transaction: an error from inside one rolled it
    back whole. Transactions the command committed before (a tick commits the cadence
    before delivery starts) stay, and so does what an error outside a transaction
    interrupted (messages handed to a server, files written).
    """
    from engine.services.setup import rolled_back

    earlier = f"{committed} earlier transaction(s) of this command were committed and stay"
    if rolled_back(exc):
        return "the failed operation was rolled back: " + (earlier if committed else "nothing was committed")
    if committed:
        return f"the error came outside a transaction; {earlier} (see `mentorflow outbox list` for messages)"
    return "the error came outside a transaction; nothing was committed to the database"


def _kind(exc: BaseException) -> str:
    """The error's type, and for a database error the driver's (``psycopg.errors.UniqueViolation``)."""
    kind = type(exc).__name__
    original = getattr(exc, "orig", None)
    if isinstance(original, BaseException):
        kind += f" ({type(original).__module__}.{type(original).__name__})"
    return kind


def _origin(exc: BaseException) -> str:
    """Where in mentorflow's code the error came from (the innermost frame in engine/ or workflows/)."""
    import traceback
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if path.is_relative_to(root) and path.relative_to(root).parts[0] in ("engine", "workflows"):
            found = f" in {path.relative_to(root).as_posix()}:{frame.lineno} ({frame.name})"
    return found


def settings(database: str | None = None, policy: str | None = None) -> Settings:
    """The command's settings: its options, then the environment, mentorflow.toml and the defaults.

    Resolve them once, at the command's start (after its imports), and pass them on: the command has
    started then (:func:`workflows.cli.started`).
    """
    from engine.settings import resolve
    from workflows.cli import started

    started()
    return resolve(database=database, policy=policy)


def open_store(chosen: Settings, *, initialised: bool = True) -> Engine:
    """The store the settings name, checked to be initialised unless asked not to."""
    from engine.services.setup import open_store as open_url

    return open_url(chosen.database_url, initialised=initialised)


def policy_file(chosen: Settings) -> Path:
    """The policy file the settings name (a shipped policy's, by name); the shipped default otherwise."""
    from engine.policy.model import resolve_policy_path

    return resolve_policy_path(chosen.policy)


def load_policy(chosen: Settings, *, acting: bool = True) -> Policy:
    """The policy the settings name; the shipped default otherwise. Validated once per version of the file
    and kept between runs; a policy that does not load fails with every problem, as `policy check` says.

    A command that acts with it is refused (exit 2) when another version of that policy is in force in
    the store, until `policy apply` (or ``--policy-version-pinned``); the `policy` commands, which only
    read, compare or apply versions, load any (``acting=False``).
    """
    from engine.services.outlines import cached_policy

    path = policy_file(chosen)
    loaded = cached_policy(path)
    if acting:
        from engine.services.policy_apply import check_store_in_force

        check_store_in_force(chosen.database_url, loaded, str(path))
    return loaded


def policy_rules(chosen: Settings) -> Outline:
    """The outline of the policy the settings name (its phases, their deadlines and cadences, its time zone):
    what `status` and the listings need, kept between runs; a policy that does not load fails as
    :func:`load_policy` fails."""
    from engine.services.outlines import policy_outline

    path = _policy_path_light(chosen.policy)
    return policy_outline(path if path is not None else policy_file(chosen))


def program_zone(chosen: Settings) -> tzinfo:
    """The program's time zone, in which every command shows its times.

    Read from the policy file's ``program.timezone`` alone where it names a zone, so a light command
    (``history``) need not load the whole policy; otherwise as the policy loads (its default zone, or
    the error that names the file and line).
    """
    from zoneinfo import ZoneInfo

    path = _policy_path_light(chosen.policy)
    if path is not None:
        from engine.errors import PolicyError
        from engine.policy.yamlsafe import load_yaml_file

        try:
            program = load_yaml_file(path).data.get("program")
            named = program.get("timezone") if isinstance(program, dict) else None
            if isinstance(named, str):
                return ZoneInfo(named)
        except (PolicyError, ValueError, KeyError, OSError, AttributeError):
            pass  # the full load below names what is wrong
    return ZoneInfo(load_policy(chosen).program.timezone)


def _policy_path_light(name: str | None) -> Path | None:
    """The policy file ``name`` resolves to, where that is plain without loading the policy module."""
    from importlib import resources
    from pathlib import Path

    if name is not None and Path(name).is_file():
        return Path(name)
    shipped = Path(str(resources.files("policies") / f"{name or 'default'}.yaml"))
    return shipped if shipped.is_file() else None


def actor_name(actor: str | None) -> str:
    """Who runs the command: ``--actor``, ``MENTORFLOW_ACTOR``, or the login name; one line, as long as the
    audit history can record."""
    given = "--actor" if actor else "MENTORFLOW_ACTOR"
    name = actor or os.environ.get("MENTORFLOW_ACTOR")
    if not name:
        given = "the login name"
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "operator"
    return _recordable(name, given)


def _recordable(name: str, given: str) -> str:
    from engine.errors import InputError
    from engine.services.limits import actor_length

    longest = actor_length()
    if len(name) > longest:
        raise InputError(f"{given}: {len(name)} characters long (at most {longest} are recorded)")
    if any(ord(char) < 32 or ord(char) == 127 or char in "\x85\u2028\u2029" for char in name):
        raise InputError(f"{given}: {name!r} holds a line break or control character (expected one line)")
    return name


def output_file(path: Path, option: str = "--output") -> Path:
    """A file a command is to write: its folder must exist (the file itself need not)."""
    from engine.errors import InputError

    folder = path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise InputError(f"{option}: cannot write {path}: the folder {folder} {what}")
    if path.is_dir():
        raise InputError(f"{option}: {path} is a folder (expected a file name)")
    return path


def parse_moment(text: str, option: str, timezone: str, *, end_of_day: bool = False) -> datetime:
    """A date (``2026-03-01``) or date-time (``2026-03-01T09:30``), read in the program's time zone."""
    from zoneinfo import ZoneInfo

    from engine.errors import InputError

    zone = ZoneInfo(timezone)
    try:
        if len(text.strip()) == 10:
            day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
            moment = datetime.combine(day, time(0), zone)
            if end_of_day:
                moment += timedelta(days=1, microseconds=-1)
        else:
            moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"{option}: {text!r} is not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ) from None
    return _within_range(moment if moment.tzinfo else moment.replace(tzinfo=zone), text, option)


def _within_range(moment: datetime, text: str, option: str) -> datetime:
    """``moment`` if the program can work with it (and store what follows from it); InputError otherwise."""
    from engine.errors import InputError
    from engine.services.limits import EARLIEST, LATEST, in_range

    try:
        inside = in_range(moment)
    except OverflowError:  # year 1 east of UTC, year 9999 west of it
        inside = False
    if not inside:
        first, last = EARLIEST.date(), (LATEST - timedelta(days=1)).date()
        raise InputError(f"{option}: {text!r} is out of range (expected a date from {first} to {last})")
    return moment


def bound_integers(command: Any) -> Any:
    """``command`` (Click's, as Typer builds it) with every whole-number option and argument, of it and its
    subcommands, limited to what the store's integers hold unless it has a range of its own: a relationship
    id of 2**31 is refused, naming the argument, instead of failing in the database."""
    from engine.services.limits import INTEGER_MAX, INTEGER_MIN

    for param in command.params:
        kind = type(param.type)
        if kind.__name__ == "IntParamType":  # not IntRange; the Click Typer uses (Typer may vendor its own)
            param.type = sys.modules[kind.__module__].IntRange(INTEGER_MIN, INTEGER_MAX)
    for sub in getattr(command, "commands", {}).values():
        bound_integers(sub)
    return command


def check_choice(value: str, option: str, choices: tuple[str, ...]) -> str:
    from engine.errors import InputError

    if value not in choices:
        raise InputError(f"{option}: {value!r} is not one of {', '.join(choices)}")
    return value
