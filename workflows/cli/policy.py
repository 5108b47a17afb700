"""``mentorflow policy``: validate, show, draw and describe phase policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from workflows.cli.common import PolicyOption, check_choice, load_policy, print_error, settings

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
    loaded = load_policy(settings(policy=file or policy))
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
    loaded = load_policy(settings(policy=file or policy))
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
