"""``mentorflow link``: a fresh personal link for a pair's mentee or mentor, and revoking links.

``mentorflow link REL --for mentee --purpose survey`` prints a new link (for a
coordinator who resends one; ``link issue REL ...`` is the same); ``mentorflow
link revoke`` withdraws the links of a relationship or a person. The keys and
the address come from ``[web]`` in the settings file, or ``MENTORFLOW_LINK_KEYS``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from engine.delivery.links import PURPOSES, ROLES
from workflows.cli.common import (
    ActorOption,
    DatabaseOption,
    PolicyOption,
    actor_name,
    check_choice,
    load_policy,
    open_store,
    settings,
)
from workflows.cli.output import print_json


class _IssueByDefault(TyperGroup):
    """``link REL ...`` runs ``link issue REL ...``: only ``revoke`` (and ``--help``) name a subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["issue", *args]
        return list(super().parse_args(ctx, args))


app = typer.Typer(
    cls=_IssueByDefault,
    help="Print a fresh personal link for a pair's mentee or mentor, or revoke links.",
    no_args_is_help=True,
)


@app.command("issue")
def issue(
    relationship: Annotated[int, typer.Argument(metavar="REL", help="Relationship id.")],
    for_: Annotated[str, typer.Option("--for", help="mentee or mentor: who opens the link.")],
    purpose: Annotated[str, typer.Option("--purpose", help=f"What it opens: {', '.join(PURPOSES)}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the link and its details as JSON.")] = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Print a fresh personal link (for a coordinator who resends one); writes nothing.

    It opens for the policy's links.expire_after (30 days unless it says), for the person who is the
    pair's mentee or mentor now, and holds no personal data. The address and keys come from [web] in
    mentorflow.toml (base_url, secret_keys) or MENTORFLOW_LINK_KEYS.
    """
    from engine.clock import SystemClock
    from engine.delivery.links import checked_base_url
    from engine.services.links import issue_link
    from engine.settings import check_link_keys, web_settings

    check_choice(for_, "--for", ROLES)
    check_choice(purpose, "--purpose", PURPOSES)
    chosen = settings(database, policy)
    web = web_settings()
    keys, base_url = check_link_keys(web.secret_keys, web.source), checked_base_url(web.base_url)
    loaded = load_policy(chosen)
    made = issue_link(
        open_store(chosen), relationship, for_, purpose, SystemClock().now(), keys, base_url,
        terminal=loaded.terminal_phases, lifetime=loaded.link_lifetime,
    )  # fmt: skip
    if not as_json:
        typer.echo(made.url)
        return
    document = {
        "url": made.url, "relationship": relationship, "for": for_, "purpose": purpose,
        "issued_at": made.link.issued_at, "expires_at": made.expires_at,
    }  # fmt: skip
    print_json(document)


@app.command("revoke")
def revoke(
    relationship: Annotated[
        int | None, typer.Option("--relationship", metavar="REL", help="Revoke this relationship's links.")
    ] = None,
    participant: Annotated[
        str | None,
        typer.Option(
            "--participant", metavar="ID", help="Revoke this person's links (id, external id or email)."
        ),
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (kept with the revocation).")] = None,
    actor: ActorOption = None,
    database: DatabaseOption = None,
) -> None:
    """Revoke the links issued so far of a relationship or of a person (in all their relationships).

    Links issued afterwards open as usual.
    """
    from engine.clock import SystemClock
    from engine.errors import InputError
    from engine.services.links import revoke_links

    if (relationship is None) == (participant is None):
        raise InputError("give --relationship REL or --participant ID (one of them)")
    chosen = settings(database)
    who = actor_name(actor)
    revoke_links(
        open_store(chosen), SystemClock().now(), who,
        relationship=relationship, participant=participant, reason=reason,
    )  # fmt: skip
    whose = f"relationship {relationship}" if relationship is not None else f"participant {participant}"
    typer.echo(f"links of {whose} issued until now are revoked (by {who})")
