"""``mentorflow users``: the accounts of the coordinator pages (``mentorflow web``).

``users add NAME --role coordinator`` asks the password twice (hidden), or reads one line from standard
input with ``--password-stdin`` for scripts; it is stored as an Argon2 hash only. ``users list`` shows
the accounts, ``users disable NAME`` stops one signing in and ends its sessions at once.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from workflows.cli.common import DatabaseOption, open_store, settings
from workflows.cli.output import Column, print_table

app = typer.Typer(help="Accounts of the coordinator pages: add, list, disable.", no_args_is_help=True)

ROLES = ("coordinator", "viewer")  # engine.services.users.ROLES


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The account's name (what it signs in with).")],
    role: Annotated[str, typer.Option("--role", help="coordinator (acts) or viewer (reads).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    database: DatabaseOption = None,
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
    account = add_user(store, name, role, password, SystemClock().now())
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
) -> None:
    """Disable an account: it signs in no more, and its open sessions end now."""
    from engine.services.users import disable_user

    account = disable_user(open_store(settings(database)), name)
    typer.echo(f"account {account.name!r} disabled; its sessions have ended")
