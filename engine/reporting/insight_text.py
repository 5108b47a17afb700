"""What ``mentorflow insights`` says: plain sentences with the numbers behind them, and the same as data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.clock import shown, shown_day
from engine.domain.audit import iso
from engine.domain.cadence import Overdue
from engine.domain.programs import others_note
from engine.reporting.insights import (
    MIN_PAIRS,
    MIN_RHO,
    SAME_SATISFACTION,
    AttendanceSignal,
    Attention,
    CriterionSignal,
    Insights,
    PhaseStall,
    weights_yaml,
)

Names = Mapping[int, tuple[str, str | None]]


def strength(rho: float) -> str:
    """How a correlation reads in words."""
    if rho >= 0.5:
        return "pairs that scored higher on it were clearly more satisfied later"
    if rho >= 0.3:
        return "pairs that scored higher on it were somewhat more satisfied later"
    if rho >= 0.1:
        return "pairs that scored higher on it were slightly more satisfied later"
    if rho > -0.1:
        return "no clear relation with later satisfaction"
    return "pairs that scored higher on it were less satisfied later"


def _signal(s: CriterionSignal) -> str:
    return f"Spearman ρ = {s.rho:+.2f}, n = {s.n} pairs"


def matching_sentences(found: Insights) -> list[str]:
    judged = [s for s in found.criteria if s.judged]
    if not judged:
        most = max((s.n for s in found.criteria), default=0)
        return [
            f"Not enough outcomes to judge the matching criteria yet: {most} matched pair(s) have a "
            f"proposal breakdown and a satisfaction answer; each criterion needs at least {MIN_PAIRS}."
        ]
    best, rest = judged[0], judged[1:]
    assert best.rho is not None
    if best.rho >= 0.1:
        lead = f"{best.label.capitalize()} predicted good relationships best"
        lines = [f"{lead}: {strength(best.rho)} ({_signal(best)})."]
    else:
        lead = "No matching criterion predicted good relationships"
        lines = [f"{lead}; the best was {best.label} ({_signal(best)})."]
    for s in rest:
        assert s.rho is not None
        lines.append(f"{s.label.capitalize()}: {strength(s.rho)} ({_signal(s)}).")
    for s in found.criteria:
        if not s.judged:
            lines.append(
                f"{s.label.capitalize()}: not enough data to judge (n = {s.n} pairs, {MIN_PAIRS} needed)."
            )
    lines.append(_reweighting(found))
    return lines


def _reweighting(found: Insights) -> str:
    if found.weights is None:
        return (
            f"No criterion went with higher satisfaction clearly enough (ρ of at least {MIN_RHO:.2f}), "
            "so there is no reweighting to suggest; keep the current weights."
        )
    changes = ", ".join(
        f"{criterion} {found.current_weights.get(criterion, 0):g} → {weight:g}"
        for criterion, weight in found.weights.items()
        if weight != found.current_weights.get(criterion)
    )
    if not changes:
        return "The current weights already follow the outcomes; keep them."
    return (
        "Suggested reweighting: each judged criterion keeps half its weight, and the other half "
        "of their total goes to the criteria in proportion to their positive correlation "
        f"(the total stays the same): {changes}."
    )


def stall_sentences(found: Insights) -> list[str]:
    stalled = [s for s in found.stalls if s.lapses]
    if not stalled:
        return ["No phase stalled: no deadline passed and no pair went without a meeting past remind_after."]
    lines = []
    for number, stall in enumerate(stalled):
        lead = f"{stall.phase} stalls most" if number == 0 else stall.phase
        lines.append(
            f"{lead}: {stall.lapses} lapse(s) over {len(stall.reached)} pair(s) that reached it "
            f"({stall.per_pair:.2f} per pair, {len(stall.pairs_affected)} pair(s) affected): "
            f"{_lapses(stall)}."
        )
    return lines


def _lapses(stall: PhaseStall) -> str:
    parts = []
    if stall.deadline is not None:
        parts.append(f"{len(stall.deadline_missed)} passed its deadline of {stall.deadline}")
    if stall.quiet is not None:
        part = f"{len(stall.quiet_spells)} time(s) a pair went {stall.quiet} without a meeting"
        if stall.escalated_spells:
            part += f" ({len(stall.escalated_spells)} of them long enough to escalate)"
        parts.append(part)
    return "; ".join(parts)


def session_sentences(found: Insights) -> list[str]:
    """Whether the pairs whose people came to a group session were more satisfied than those who did not."""
    signal = found.sessions
    came, never = signal.attended, signal.not_attended
    if signal.difference is None:
        return [
            "Too few pairs to tell whether coming to a group session went with satisfaction: "
            f"{came['n']} pair(s) whose people came and {never['n']} invited who never came have a "
            f"satisfaction answer; each group needs at least {MIN_PAIRS}."
        ]
    if round(abs(signal.difference), 4) <= SAME_SATISFACTION:
        how, than = "about as satisfied", "as"
    else:
        how, than = ("more" if signal.difference > 0 else "less") + " satisfied", "than"
    return [
        f"Pairs whose people came to a group session were {how} (mean {came['value']:.1f} of 5, "
        f"{came['n']} pairs) {than} pairs invited who never came ({never['value']:.1f}, {never['n']} pairs)."
    ]


def _attendance_data(signal: AttendanceSignal) -> dict[str, Any]:
    return {
        "judged": signal.judged,
        **{
            group: {"mean": shown["value"], "n": shown["n"], "relationships": shown["relationships"]}
            for group, shown in (("attended", signal.attended), ("not_attended", signal.not_attended))
        },
    }


def attention_sentences(found: Insights, names: Names, zone: ZoneInfo) -> list[str]:
    if not found.attention:
        return ["No open pair needs attention now: nothing is overdue and no latest satisfaction is low."]
    return [_attention(item, names, zone, found.as_of) for item in found.attention]


def _attention(item: Attention, names: Names, zone: ZoneInfo, moment: datetime) -> str:
    mentee, mentor = names.get(item.relationship_id, ("?", None))
    who = f"{mentee} with {mentor}" if mentor else f"{mentee}, no mentor yet"
    reasons = [_overdue_reason(due, item.last_meeting, zone, moment) for due in item.overdue]
    reasons += [f"{who_} satisfaction {value}/5" for who_, value in item.satisfaction.items()]
    return f"Relationship {item.relationship_id} ({who}, {item.phase}): {'; '.join(reasons)}."


def _overdue_reason(due: Overdue, last_meeting: datetime | None, zone: ZoneInfo, moment: datetime) -> str:
    """Since when the pair has waited (the start of the silence, or the entry), and since when it is late."""
    since = _day(due.since, zone)
    if due.kind == "check-in":
        quiet = (
            f"no meeting since {since}"
            if last_meeting is not None and last_meeting == due.since
            else f"no meeting since entering {due.phase} on {since}"
        )
        done = "escalated to the coordinator" if due.action == "escalate" else "reminded"
        return f"{quiet}, overdue since {_day(due.due, zone)} ({done})"
    days = (moment - due.due).days
    return f"in {due.phase} since {since}, its deadline passed {days} day(s) ago ({due.action})"


def _day(moment: datetime, zone: ZoneInfo) -> str:
    """The day of ``moment`` in the program's time zone (a time stored without a zone is UTC)."""
    return shown_day(moment, zone)


def insights_data(found: Insights, names: Names, zone: ZoneInfo) -> dict[str, Any]:
    """The insights as JSON-ready data, sentences included."""
    return {
        "as_of": iso(found.as_of),
        "relationships": found.pairs,
        "other_policies": found.other_policies,
        "criteria": [
            {"criterion": s.criterion, "label": s.label, "weight": s.weight, "spearman": s.rho, "n": s.n,
             "judged": s.judged, "relationships": list(s.relationships)}
            for s in found.criteria
        ],
        "suggested_weights": found.weights,
        "policy_snippet": weights_yaml(found.weights) if found.weights else None,
        "stalls": [
            {"phase": s.phase, "reached": len(s.reached), "lapses": s.lapses,
             "per_pair": round(s.per_pair, 4), "deadline": s.deadline,
             "deadline_missed": len(s.deadline_missed), "remind_after": s.quiet,
             "quiet_spells": len(s.quiet_spells), "escalated_spells": len(s.escalated_spells),
             "relationships": s.pairs_affected}
            for s in found.stalls
        ],
        "attention": [
            {"relationship": a.relationship_id, "mentee": names.get(a.relationship_id, ("?", None))[0],
             "mentor": names.get(a.relationship_id, ("?", None))[1], "phase": a.phase,
             "escalated": a.escalated, "last_meeting": iso(a.last_meeting) if a.last_meeting else None,
             "overdue": [{"kind": o.kind, "action": o.action, "since": iso(o.since), "due": iso(o.due)}
                         for o in a.overdue],
             "low_satisfaction": a.satisfaction}
            for a in found.attention
        ],
        "sessions": _attendance_data(found.sessions),
        "sentences": {
            "matching": matching_sentences(found),
            "stalls": stall_sentences(found),
            "sessions": session_sentences(found),
            "attention": attention_sentences(found, names, zone),
        },
    }  # fmt: skip


def insights_text(found: Insights, names: Names, zone: ZoneInfo) -> str:
    """The insights as an operator reads them: four short sections and the policy snippet."""
    moment = shown(found.as_of, zone)
    out = [f"Insights from {found.pairs} relationship(s), as of {moment}.", ""]
    if found.other_policies:
        out.insert(1, others_note(found.other_policies))
    out += ["Matching", *(f"  {line}" for line in matching_sentences(found))]
    if found.weights:
        out += ["", "  Paste into the policy file to apply it:", ""]
        out += [f"    {line}" for line in weights_yaml(found.weights).splitlines()]
    out += ["", "Phases that stall", *(f"  {line}" for line in stall_sentences(found))]
    out += ["", "Group sessions", *(f"  {line}" for line in session_sentences(found))]
    out += [
        "",
        "Pairs that need attention now",
        *(f"  {line}" for line in attention_sentences(found, names, zone)),
    ]
    return "\n".join(out) + "\n"
