"""How ``mentorflow policy plan`` prints a plan: plain lines for an operator, or one JSON document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from workflows.cli.output import paragraph

if TYPE_CHECKING:
    from engine.policy.comparison import Difference
    from engine.policy.model import Policy
    from engine.services.plan import Forecast, Message, Plan

SHOWN = 20
"""Messages listed one per line in the text output; ``--format json`` lists all."""


def plan_document(plan: Plan) -> dict[str, Any]:
    """The plan as JSON: every number with the relationship ids behind it."""
    return {
        "policy": plan.new.policy,
        "current": _version(plan.current),
        "new": _version(plan.new),
        "as_of": plan.as_of,
        "changed": bool(plan.changes),
        "changes": [_difference(d) for d in plan.changes],
        "stranded": [
            {"relationship": s.relationship, "phase": s.phase, "since": s.since} for s in plan.stranded
        ],
        "next_tick": {"new": _forecast(plan.under_new), "current": _forecast(plan.under_current)},
        "extra_messages": [_message(m) for m in plan.extra_messages],
        "max_messages": plan.max_messages,
        "safe": not plan.concerns,
        "concerns": plan.concerns,
    }


def _difference(difference: Difference) -> dict[str, Any]:
    found = {
        name: getattr(difference, name) for name in ("area", "subject", "change", "field", "before", "after")
    }
    return found | {"line": difference.line}


def _version(policy: Policy) -> dict[str, Any]:
    return {"version": policy.version, "digest": policy.digest}


def _forecast(forecast: Forecast) -> dict[str, Any]:
    from engine.services.plan import KINDS

    counts = forecast.counts()
    moves = {trigger: {"count": len(ids), "relationships": ids} for trigger, ids in forecast.moves.items()}
    found: dict[str, Any] = {"moved": {"count": counts["moved"], "relationships": _ids(
        [i for ids in forecast.moves.values() for i in ids]
    ), "by_trigger": moves}}  # fmt: skip
    for name, action in KINDS.items():
        sent = forecast.sent(action)
        found[name] = {"count": len(sent), "relationships": _ids(sent)}
    found["messages"] = {
        "count": counts["messages"],
        "relationships": _ids([m.relationship for m in forecast.messages]),
    }
    return found


def _message(message: Message) -> dict[str, Any]:
    return {"relationship": message.relationship, "action": message.action, **message.params}


def _ids(ids: Sequence[int | None]) -> list[int]:
    """The distinct relationship ids, in order."""
    return sorted({i for i in ids if i is not None})


def print_plan(plan: Plan) -> None:
    """The plan as plain lines: the changes, the stranded, the next tick under each version, the verdict."""
    from engine.clock import shown

    zone = ZoneInfo(plan.current.program.timezone)
    paragraph(
        f"policy plan {plan.new.policy}: version {plan.current.version} ({plan.current.digest[:19]}) → "
        f"version {plan.new.version} ({plan.new.digest[:19]}), next tick at {shown(plan.as_of, zone)}"
    )
    if not plan.changes:
        paragraph("no change: the new version has the same content as the current one")
    else:
        paragraph(f"changes ({len(plan.changes)}):")
        for difference in plan.changes:
            paragraph(f"  {difference.line}")
    if plan.stranded:
        paragraph(f"stranded ({len(plan.stranded)}), in a phase the new version no longer has:")
        for item in plan.stranded:
            paragraph(f"  relationship {item.relationship} in {item.phase} since {shown(item.since, zone)}")
    else:
        paragraph("stranded: none")
    _print_forecasts(plan)
    _print_extra(plan.extra_messages)
    verdict = "; ".join(plan.concerns)
    paragraph(f"not safe: {verdict}" if verdict else "safe: nothing stranded, no message limit passed")


def _print_forecasts(plan: Plan) -> None:
    new, current = plan.under_new, plan.under_current
    paragraph("next tick under the new version (under the current one):")
    for trigger in dict.fromkeys([*new.moves, *current.moves]):
        ids = new.moves.get(trigger, [])
        paragraph(f"  move by {trigger}: {len(ids)} ({len(current.moves.get(trigger, []))}){_listed(ids)}")
    if not new.moves and not current.moves:
        paragraph("  moves: 0 (0)")
    from engine.services.plan import KINDS

    for name, action in KINDS.items():
        sent = new.sent(action)
        label = name.replace("_", " ")
        paragraph(f"  {label}: {len(sent)} ({len(current.sent(action))}){_listed(sent)}")
    paragraph(f"  messages in all: {len(new.messages)} ({len(current.messages)})")


def _print_extra(extra: list[Message]) -> None:
    if not extra:
        paragraph("messages only the new version would write: none")
        return
    paragraph(f"messages only the new version would write ({len(extra)}):")
    for message in extra[:SHOWN]:
        about = ", ".join(f"{k} {v}" for k, v in message.params.items() if k in ("survey", "phase", "kind"))
        to = message.params.get("recipient", "")
        paragraph(f"  relationship {message.relationship}: {message.action} to {to} ({about})")
    if len(extra) > SHOWN:
        paragraph(f"  ... and {len(extra) - SHOWN} more (--format json lists all)")


def _listed(ids: Sequence[int | None]) -> str:
    distinct = _ids(ids)
    if not distinct:
        return ""
    shown = ", ".join(map(str, distinct[:SHOWN])) + (", ..." if len(distinct) > SHOWN else "")
    return f": relationship(s) {shown}"
