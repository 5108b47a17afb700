"""A policy's phase graph as a diagram: Mermaid for Markdown, DOT for Graphviz."""

from __future__ import annotations

from engine.policy.model import Call, Edge, Policy


def _condition(call: Call) -> str:
    if call.param is None:
        return call.name
    values = ", ".join(f"{k}={v}" for k, v in call.param.model_dump(mode="json").items())
    return f"{call.name}({values})"


def _label(edge: Edge) -> str:
    parts = [edge.trigger]
    if edge.requires:
        parts.append("[" + ", ".join(_condition(call) for call in edge.requires) + "]")
    if edge.after is not None:
        parts.append(f"after {edge.after}")
    if edge.auto:
        parts.append("(auto)")
    return " ".join(parts)


def mermaid(policy: Policy) -> str:
    """A Mermaid ``stateDiagram-v2`` of the policy."""
    lines = ["stateDiagram-v2", f"    [*] --> {policy.initial_phase}"]
    lines += [f"    {e.source} --> {e.dest}: {_label(e)}" for e in policy.edges]
    lines += [f"    {name} --> [*]" for name, phase in policy.phases.items() if phase.terminal]
    return "\n".join(lines) + "\n"


def dot(policy: Policy) -> str:
    """A Graphviz ``digraph`` of the policy."""
    lines = [f'digraph "{policy.policy}" {{', "    rankdir=LR;"]
    for name, phase in policy.phases.items():
        shape = "doublecircle" if phase.terminal else "circle" if phase.initial else "box"
        lines.append(f'    "{name}" [shape={shape}];')
    for e in policy.edges:
        style = ", style=dashed" if e.auto else ""
        lines.append(f'    "{e.source}" -> "{e.dest}" [label="{_label(e)}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
