"""``mentorflow tokens``: the tokens of the REST API (/api/v1).

``tokens create NAME --scope read`` prints the new token's secret once, alone on standard output (so a
script can capture it), and says on standard error that it is not shown again: the store keeps only its
SHA-256. ``tokens list`` shows the tokens (never a secret), ``tokens revoke NAME`` stops one at once. What
a request with a token does is recorded as done by ``api:<name>``; creating and revoking one, by
``cli:<--actor or login name>``.
"""

from __future__ import annotations

import csv
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from workflows.cli.common import ActorOption, DatabaseOption, actor_name, check_choice, open_store, settings
from workflows.cli.output import Column, cell, print_rows, print_table

if TYPE_CHECKING:
    from engine.services.tokens import TokenInfo

app = typer.Typer(help="Tokens of the REST API (/api/v1): create, list, revoke.", no_args_is_help=True)

SCOPES = (
    "read",
    "participants:write",
    "participants:erase",
    "records:write",
    "matching:write",
    "events:read",
)
"""engine.services.tokens.SCOPES (a test keeps them equal): named in the help without importing the store."""
FIELDS = (
    "name",
    "scopes",
    "rate_limit",
    "created_at",
    "created_by",
    "last_used_at",
    "revoked_at",
    "revoked_by",
)


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The token's name, unique (who uses it).")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope", metavar="SCOPE", help=f"A scope it is granted; repeat for more: {', '.join(SCOPES)}."
        ),
    ] = None,
    rate_limit: Annotated[
        int, typer.Option("--rate-limit", metavar="N", help="Requests a minute it may make (1 to 100000).")
    ] = 600,
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Create a token; its secret is printed once, alone on standard output, and stored as a SHA-256 only."""
    from engine.clock import SystemClock
    from engine.services.tokens import check_name, check_rate_limit, check_scopes, create_token

    check_name(name)
    check_scopes(scope or [])
    check_rate_limit(rate_limit)
    store = open_store(settings(database))
    token, secret = create_token(
        store, name, scope or [], SystemClock().now(), actor=_cli_actor(actor), rate_limit=rate_limit
    )
    typer.echo(secret)
    typer.echo(
        f"token {token.name!r} created ({', '.join(token.scopes)}; {token.rate_limit} requests a minute): "
        "the secret above is shown this once and stored hashed (SHA-256); keep it somewhere safe now",
        err=True,
    )


@app.command("list")
def list_(
    format: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    database: DatabaseOption = None,
) -> None:
    """List the tokens: name, scopes, rate limit, created, last used, revoked. Never a secret."""
    from engine.services.tokens import list_tokens

    check_choice(format, "--format", ("table", "json", "csv"))
    tokens = list_tokens(open_store(settings(database)))
    if format == "json":
        print_rows([_json_row(token) for token in tokens], [], "json", title="")
    elif format == "csv":
        _write_csv(tokens)
    elif not tokens:
        typer.echo("no tokens yet (create one with `mentorflow tokens create NAME --scope read`)")
    else:
        rows = [
            [t.name, " ".join(t.scopes), f"{t.rate_limit}/min", cell(t.created_at),
             "never" if t.last_used_at is None else cell(t.last_used_at), cell(t.revoked_at)]
            for t in tokens
        ]  # fmt: skip
        columns = [Column("name", 0, 12), Column("scopes", 0, 20), Column("rate limit", 2),
                   Column("created", 3, 20), Column("last used", 2, 20),
                   Column("revoked", 1, 20)]  # fmt: skip
        print_table(columns, rows, title=f"API tokens: {len(tokens)}")


@app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The token to revoke.")],
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke a token: from now on it authenticates no request."""
    from engine.clock import SystemClock
    from engine.services.tokens import revoke_token

    store = open_store(settings(database))
    token = revoke_token(store, name, SystemClock().now(), actor=_cli_actor(actor))
    typer.echo(f"token {token.name!r} revoked; it authenticates no more")


def _cli_actor(actor: str | None) -> str:
    """Who creates or revokes a token: ``cli:`` and who runs the command (``--actor``, ``MENTORFLOW_ACTOR``
    or the login name), as for ``mentorflow users``."""
    return f"cli:{actor_name(actor)}"


def _json_row(token: TokenInfo) -> dict[str, object]:
    return {name: list(token.scopes) if name == "scopes" else getattr(token, name) for name in FIELDS}


def _write_csv(tokens: list[TokenInfo]) -> None:
    """The tokens as CSV: scopes separated by spaces, times as the audit history writes them (UTC, ISO)."""
    from engine.domain.audit import iso
    from engine.reporting.cells import csv_row

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(FIELDS)
    for t in tokens:
        times = [None if at is None else iso(at) for at in (t.created_at, t.last_used_at, t.revoked_at)]
        writer.writerow(
            csv_row([t.name, " ".join(t.scopes), t.rate_limit, times[0], t.created_by, times[1], times[2],
                     t.revoked_by])
        )  # fmt: skip
