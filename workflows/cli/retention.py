"""``mentorflow purge``: erase now what the policy's ``retention:`` says has expired, as the cadence does."""

from __future__ import annotations

from typing import Annotated

import typer

from workflows.cli.common import (
    DatabaseOption,
    FormatTableJson,
    PolicyOption,
    check_choice,
    load_policy,
    settings,
)
from workflows.cli.common import open_store as store_of
from workflows.cli.output import print_json


def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what has expired; erase nothing.")
    ] = False,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
    format: FormatTableJson = "table",
) -> None:
    """Erase now what the policy's retention: says has expired (the cadence does it on every run).

    Survey answers' free text, meetings' notes, settled messages' personal parts, closed relationships'
    free text and leavers, each past its period; an audit entry (trigger purge) counts what each
    relationship lost. A policy without retention: purges nothing.
    """
    from engine.clock import SystemClock
    from engine.policy.retention_periods import retention_rules
    from engine.services.retention import due_for_purge, purge_expired, purged_line

    check_choice(format, "--format", ("table", "json"))
    chosen = settings(database, policy)
    loaded = load_policy(chosen)
    rules = retention_rules(loaded)
    if rules is None:
        typer.echo(f"policy {loaded.policy} has no retention: section; nothing is purged", err=True)
        raise typer.Exit(2)
    store, now = store_of(chosen), SystemClock().now()
    if dry_run:
        due = due_for_purge(store, rules, now)
        if format == "json":
            print_json({"policy": loaded.policy, "dry_run": True, "due": due})
            return
        typer.echo(f"{loaded.policy}: due for purging: {purged_line(due)} (dry run: nothing erased)")
        return
    done = purge_expired(store, loaded, now)
    if format == "json":
        print_json({"policy": loaded.policy, "purged": done.purged, "relationships": done.relationships})
        return
    typer.echo(
        f"{loaded.policy}: purged {purged_line(done.purged)}; {done.relationships} relationship(s) noted"
    )
