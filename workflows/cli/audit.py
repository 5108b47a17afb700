"""``mentorflow audit``: verify the hash chains, anchor their heads, export the history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from workflows.cli.common import (
    DatabaseOption,
    PolicyOption,
    check_choice,
    load_policy,
    open_store,
    output_file,
    parse_moment,
    settings,
)

app = typer.Typer(help="Verify and export the audit history.", no_args_is_help=True)


@app.command("verify")
def verify(
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor", help="A file written earlier by `audit anchor`: check no anchored entry changed."
        ),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Recompute every hash chain; exit 1 naming each edited, deleted, inserted or reordered entry."""
    from engine.services.queries import read_anchor
    from engine.services.queries import verify as run

    anchors = read_anchor(anchor) if anchor else None
    report = run(open_store(settings(database)), anchors)
    for problem in report.problems:
        typer.echo(f"BROKEN {problem}")
    summary = f"{report.relationships} relationship(s), {report.entries} entries checked"
    if report.participant_entries:
        summary += f" (and {report.participant_entries} participant entries)"
    if report.problems:
        typer.echo(f"{summary}: {len(report.problems)} problem(s)")
        raise typer.Exit(1)
    typer.echo(f"{summary}: the audit history is intact")
    typer.echo(f"heads digest {report.digest}")


@app.command("anchor")
def anchor(
    output: Annotated[Path, typer.Option("--output", help="File to write the chain heads to.")],
    database: DatabaseOption = None,
) -> None:
    """Write every chain head to a file to keep outside the database; verify against it later."""
    from engine.services.queries import write_anchor

    count, digest = write_anchor(open_store(settings(database)), output_file(output))
    typer.echo(f"{output}: {count} chain head(s) anchored, digest {digest}")


@app.command("export")
def export(
    format: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    output: Annotated[Path | None, typer.Option("--output", help="File to write (default: stdout).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only entries at or after this date.")] = None,
    database: DatabaseOption = None,
    policy: PolicyOption = None,
) -> None:
    """Export the audit history, every field and hash, in insertion order."""
    from engine.services.queries import export as run

    check_choice(format, "--format", ("jsonl", "csv"))
    chosen = settings(database, policy)
    start = parse_moment(since, "--since", load_policy(chosen).program.timezone) if since else None
    store = open_store(chosen)
    if output is not None:
        output_file(output)
    if output is None:
        run(store, sys.stdout, format, start)
        return
    partial = output.with_name(output.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        count = run(store, out, format, start)
    partial.replace(output)
    typer.echo(f"{output}: {count} entries written", err=True)
