"""``mentorflow policy``: validate, show, draw and describe phase policies, and plan a change of one."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Annotated

import typer

from workflows.cli.common import (
    DatabaseOption,
    PolicyOption,
    check_choice,
    load_policy,
    open_store,
    parse_moment,
    print_error,
    settings,
)
from workflows.cli.output import print_json

app = typer.Typer(help="Validate, show and draw phase policies.", no_args_is_help=True)


@app.command("validate")
def validate(
    files: Annotated[list[Path], typer.Argument(help="Policy files to check.", show_default=False)],
) -> None:
    """Check policy files; print every error and warning with file:line. Exit 2 if any is invalid."""
    from engine.errors import PolicyError
    from engine.policy.model import load_policy as load

    invalid = 0
    for path in files:
        try:
            policy = load(path)
        except PolicyError as exc:
            invalid += 1
            print_error(exc)
            continue
        typer.echo(f"ok  {path}: policy {policy.policy!r}, version {policy.digest[:19]}")
        for warning in policy.warnings:  # what loads but cannot mean what it says: exit 0 all the same
            typer.echo(warning, err=True)
    if invalid:
        raise typer.Exit(2)


@app.command("show")
def show(
    file: Annotated[str | None, typer.Argument(help="Policy file (default: the configured one).")] = None,
    policy: PolicyOption = None,
    format: Annotated[str, typer.Option("--format", help="yaml or json")] = "yaml",
) -> None:
    """Print the effective policy, every default filled in, and its version."""
    import yaml

    check_choice(format, "--format", ("yaml", "json"))
    loaded = load_policy(settings(policy=file or policy), acting=False)
    data = loaded.normalised()
    if format == "json":
        typer.echo(json.dumps({"version_digest": loaded.digest, **data}, indent=2, ensure_ascii=False))
        return
    typer.echo(f"# version: {loaded.digest}")
    typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), nl=False)


@app.command("graph")
def graph(
    file: Annotated[str | None, typer.Argument(help="Policy file (default: the configured one).")] = None,
    policy: PolicyOption = None,
    format: Annotated[str, typer.Option("--format", help="mermaid or dot")] = "mermaid",
) -> None:
    """Draw the phase graph as Mermaid or Graphviz DOT."""
    from engine.policy import diagrams

    check_choice(format, "--format", ("mermaid", "dot"))
    loaded = load_policy(settings(policy=file or policy), acting=False)
    typer.echo(diagrams.mermaid(loaded) if format == "mermaid" else diagrams.dot(loaded), nl=False)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of policy files, for completion in editors."""
    from engine.policy.model import Policy

    document = Policy.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "mentorflow phase policy"
    typer.echo(json.dumps(document, indent=2))


@app.command("list")
def list_policies() -> None:
    """List the policies shipped with mentorflow."""
    from engine.policy.model import load_policy as load
    from engine.policy.model import shipped_policies

    for name, path in sorted(shipped_policies().items()):
        typer.echo(f"{name:<20} {load(path).description or ''}")


@app.command("plan")
def plan(
    file: Annotated[
        str,
        typer.Argument(
            help="The new version of the policy: a file, or a shipped policy's name.", show_default=False
        ),
    ],
    policy: PolicyOption = None,
    database: DatabaseOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The moment of the next tick (YYYY-MM-DD[THH:MM]) [default: now]"),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    max_messages: Annotated[
        int | None,
        typer.Option(
            "--max-messages", min=0, help="Not safe above this many messages in one tick [default: no limit]"
        ),
    ] = None,
) -> None:
    """What switching the program to this version would do, writing nothing: the changes, the relationships
    it strands, and what the next tick would move and send. Exit 1 when it strands relationships or sends
    more than --max-messages messages."""
    from engine.clock import SystemClock
    from engine.policy.model import load_policy as load
    from engine.policy.model import resolve_policy_path
    from engine.services.plan import plan_change
    from workflows.cli.policy_plan import plan_document, print_plan

    check_choice(format, "--format", ("text", "json"))
    chosen = settings(database, policy)
    current = load_policy(chosen, acting=False)
    new = load(resolve_policy_path(file))
    moment = (
        parse_moment(as_of, "--as-of", current.program.timezone).astimezone(UTC)
        if as_of
        else SystemClock().now()
    )
    found = plan_change(open_store(chosen), current, new, moment, max_messages=max_messages)
    if format == "json":
        print_json(plan_document(found))
    else:
        print_plan(found)
    if found.concerns:
        raise typer.Exit(1)
