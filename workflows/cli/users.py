"""``mentorflow users``: the accounts of the coordinator pages (``mentorflow web``).

``users add NAME --role coordinator`` asks the password twice (hidden), or reads one line from standard
input with ``--password-stdin`` for scripts; it is stored as an Argon2 hash only. ``users list`` shows
the accounts, ``users disable NAME`` stops one signing in and ends its sessions at once. ``users events``
lists what happened to the accounts, newest first, for auditors: sign-ins, failed sign-ins, sign-outs,
expired sessions, accounts added or disabled (these two by ``cli:<--actor or login name>``).
"""

from __future__ import annotations

import csv
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from workflows.cli.common import ActorOption, DatabaseOption, actor_name, check_choice, open_store, settings
from workflows.cli.output import Column, print_rows, print_table

if TYPE_CHECKING:
    from engine.services.users import AccountEvent

app = typer.Typer(help="Accounts of the coordinator pages: add, list, disable, events.", no_args_is_help=True)

ROLES = ("coordinator", "viewer")  # engine.services.users.ROLES


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The account's name (what it signs in with).")],
    role: Annotated[str, typer.Option("--role", help="coordinator (acts) or viewer (reads).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    database: DatabaseOption = None,
    actor: ActorOption = None,
) -> None:
    """Add an account; the password is asked twice (or read from stdin) and stored as an Argon2 hash."""
    from engine.clock import SystemClock
    from engine.errors import InputError
    from engine.services.users import add_user, check_name, check_password

    check_name(name)
    if role not in ROLES:
        raise InputError(f"--role: {role!r} is not one of {', '.join(ROLES)}")
    store = open_store(settings(database))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
        check_password(password)
        if typer.prompt("Password again", hide_input=True) != password:
            raise InputError("the two passwords differ; nothing was added")
    account = add_user(store, name, role, password, SystemClock().now(), actor=_cli_actor(actor))
    typer.echo(f"account {account.name!r} added ({account.role})")


@app.command("list")
def list_(database: DatabaseOption = None) -> None:
    """List the accounts: name, role, enabled or disabled, created, last sign-in."""
    from engine.services.users import list_users

    accounts = list_users(open_store(settings(database)))
    if not accounts:
        typer.echo("no accounts yet (add one with `mentorflow users add NAME --role coordinator`)")
        return
    rows = [
        [a.name, a.role, "disabled" if a.disabled else "enabled", f"{a.created_at:%Y-%m-%d %H:%M}",
         "never" if a.last_login_at is None else f"{a.last_login_at:%Y-%m-%d %H:%M}"]
        for a in accounts
    ]  # fmt: skip
    columns = [Column("name", 0, 12), Column("role", 0), Column("state", 0), Column("created", 0),
               Column("last sign-in", 0)]  # fmt: skip
    print_table(columns, rows, title="")


@app.command("disable")
def disable(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The account to disable.")],
    database: DatabaseOption = None,
    actor: ActorOption = None,
) -> None:
    """Disable an account: it signs in no more, and its open sessions end now."""
    from engine.clock import SystemClock
    from engine.services.users import disable_user

    store = open_store(settings(database))
    account = disable_user(store, name, SystemClock().now(), actor=_cli_actor(actor))
    typer.echo(f"account {account.name!r} disabled; its sessions have ended")


def _cli_actor(actor: str | None) -> str:
    """Who an account event names for these commands: ``cli:`` and who runs it (``--actor``,
    ``MENTORFLOW_ACTOR`` or the login name)."""
    return f"cli:{actor_name(actor)}"


EVENT_FIELDS = ("at", "account", "kind", "actor", "address", "detail")


@app.command("events")
def events(
    account: Annotated[
        str | None, typer.Option("--account", metavar="NAME", help="Only the events of this account.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many, newest first.")] = 200,
    format: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    database: DatabaseOption = None,
) -> None:
    """List what happened to the accounts, newest first: sign-ins (by password or a trusted proxy's
    header), failed sign-ins, sign-outs, expired sessions, accounts added or disabled; who did it, from
    which client address. Never a password or a token."""
    from engine.services.users import account_events

    check_choice(format, "--format", ("table", "json", "csv"))
    found = account_events(open_store(settings(database)), account, limit)
    rows = [_event_row(event) for event in found]
    if format == "json":
        print_rows(rows, [], "json", title="")
    elif format == "csv":
        _write_csv(rows)
    elif not rows:
        typer.echo(f"no events of {account!r}" if account else "no account events yet")
    else:
        columns = [Column("at", 0), Column("account", 0, 10), Column("kind", 0), Column("actor", 1, 10),
                   Column("address", 2), Column("detail", 3)]  # fmt: skip
        print_rows(rows, columns, "table", title=f"account events: {len(rows)}, newest first")


def _event_row(event: AccountEvent) -> dict[str, object]:
    return {name: getattr(event, name) for name in EVENT_FIELDS}


def _write_csv(rows: list[dict[str, object]]) -> None:
    """The events as CSV, times as the audit history writes them (UTC, ISO 8601)."""
    from engine.domain.audit import iso
    from engine.reporting.cells import csv_row

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(EVENT_FIELDS)
    for row in rows:
        writer.writerow(csv_row([iso(row["at"]), *(row[name] for name in EVENT_FIELDS[1:])]))
