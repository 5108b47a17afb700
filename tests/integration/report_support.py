"""A simulated program in a store (no Prefect), and every report figure recomputed from the audit export.

:func:`recompute` is deliberately written apart from :mod:`engine.metrics`: it
reads nothing but the exported JSON lines and the policy, follows the
definitions in the README, and uses SciPy for the correlations, so a report
that agrees with it was not merely checked against itself.
"""

from __future__ import annotations

import io
import json
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scipy import stats
from sqlalchemy import Engine

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.policy.model import Policy
from engine.services.matching import propose
from engine.services.participants import import_participants
from engine.services.queries import export
from engine.services.sessions import plan_sessions
from engine.services.tick import run_tick
from engine.simulation import generate_program, simulate_day
from tests.conftest import START
from tests.integration.goal_recount import GOAL_TRIGGERS, note_goal, program_goal_rows
from tests.integration.session_recount import SESSION_TRIGGERS, note_session, session_figures

LINK_KEYS = ("simulated-program-link-key-" * 2,)  # what the participants' links are signed with


def run_program(
    store: Engine,
    lifecycle: Lifecycle,
    *,
    seed: int,
    mentees: int,
    mentors: int,
    days: int,
    each_day: Callable[[datetime], None] | None = None,
) -> datetime:
    """Days of a simulated program, matched weekly, ticked daily and its group sessions planned daily
    (then ``each_day`` of the day's moment, if given); returns the last day's moment."""
    policy = lifecycle.policy
    program = generate_program(seed, mentees=mentees, mentors=mentors, days=days)
    clock = SimulatedClock(START)
    now = START
    for day in range(days + 1):
        now = START + timedelta(days=day)
        clock.set(now)
        if day in program.import_days:
            import_participants(store, policy, clock, program.arriving(day), actor="hr")
        simulate_day(store, lifecycle, seed, now, LINK_KEYS)
        if now.weekday() == 0 or day == 0:
            propose(store, lifecycle, clock, actor="matching")
        run_tick(store, lifecycle, now)
        if policy.sessions:
            plan_sessions(store, policy, clock, actor="cadence")
        if each_day is not None:
            each_day(now)
    return now


def exported(store: Engine) -> list[dict[str, Any]]:
    """The audit history exactly as ``mentorflow audit export`` writes it, read back."""
    out = io.StringIO()
    export(store, out, "jsonl")
    return [json.loads(line) for line in out.getvalue().splitlines()]


# --- the recomputation -------------------------------------------------------------------------

RECORDED = ("record_meeting", "record_survey")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _days(span: timedelta) -> float:
    return span.total_seconds() / 86400


@dataclass
class Pair:
    id: int
    phases: list[list[Any]] = field(default_factory=list)  # [phase, entered, left or None]
    meetings: list[tuple[str, datetime]] = field(default_factory=list)
    answers: list[tuple[str, datetime, dict[str, Any]]] = field(
        default_factory=list
    )  # respondent, at, answers
    match: dict[str, Any] | None = None
    match_at: datetime | None = None
    early: tuple[str, str] | None = None  # (from phase, reason)
    goals: dict[int, list[Any]] = field(default_factory=dict)  # goal id -> [program goal, level]
    sessions: dict[tuple[int, str], list[Any]] = field(default_factory=dict)  # see note_session


def pairs_from_export(records: list[dict[str, Any]], policy: Policy, moment: datetime) -> dict[int, Pair]:
    terminal = {name for name, phase in policy.phases.items() if phase.terminal}
    pairs: dict[int, Pair] = {}
    for r in sorted(records, key=lambda r: (r["relationship_id"], r["seq"])):
        at = _time(r["at"])
        if at > moment:
            continue
        pair = pairs.setdefault(r["relationship_id"], Pair(r["relationship_id"]))
        if r["trigger"] == "record_meeting":
            meeting = r["data"]["meeting"]
            pair.meetings.append((meeting["kind"], _time(meeting["held_on"])))
            continue
        if r["trigger"] == "record_survey":
            survey = r["data"]["survey"]
            pair.answers.append((survey["respondent"], at, survey["answers"]))
            continue
        if r["trigger"] in GOAL_TRIGGERS:
            note_goal(pair.goals, r)
            if pair.phases:
                continue
        if r["trigger"] in SESSION_TRIGGERS:
            note_session(pair.sessions, r)
            if pair.phases:
                continue
        if r["trigger"] == "create":
            note_goal(pair.goals, r)
        if pair.phases:
            pair.phases[-1][2] = at
        pair.phases.append([r["to_phase"], at, None])
        if r["trigger"] == "match" and pair.match is None:
            pair.match, pair.match_at = r["data"].get("proposal") or {}, at
        if r["to_phase"] in terminal and "reason" in r["data"].get("requires", []):
            pair.early = (r["from_phase"], r["reason"])
    return pairs


def _latest(pair: Pair, who: str, question: str, ok: Any) -> Any:
    found = None
    for respondent, _, answers in sorted(pair.answers, key=lambda a: a[1]):
        if respondent == who and question in answers and ok(answers[question]):
            found = answers[question]
    return found


def _score(v: Any) -> bool:
    return type(v) is int and 1 <= v <= 5


def _recommend(v: Any) -> bool:
    return type(v) is int and 0 <= v <= 10


def _goals(v: Any) -> bool:
    return type(v) is list and len(v) > 0 and set(v) <= {"reached", "partly", "started", "not_started"}


def _spread(values: list[float], ids: list[int]) -> dict[str, Any]:
    if not values:
        return {"value": None, "p25": None, "p75": None, "n": 0, "relationships": sorted(set(ids))}
    q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    return {
        "value": statistics.median(values),
        "p25": q[0],
        "p75": q[2],
        "n": len(values),
        "relationships": sorted(set(ids)),
    }


def _fig(value: Any, ids: Any, **extra: Any) -> dict[str, Any]:
    return {"value": value, **extra, "relationships": sorted(set(ids))}


def _correlation(kind: str, xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    return float((stats.spearmanr if kind == "spearman" else stats.pearsonr)(xs, ys)[0])


def recompute(records: list[dict[str, Any]], policy: Policy, moment: datetime) -> dict[str, Any]:
    """Every figure of the report (but its heading), from the export alone."""
    pairs = pairs_from_export(records, policy, moment)
    ids = sorted(pairs)
    order = list(policy.phases) + sorted(
        {p[0] for x in pairs.values() for p in x.phases} - set(policy.phases)
    )
    terminal = {name for name, phase in policy.phases.items() if phase.terminal}
    result: dict[str, Any] = {"scope": _fig(len(ids), ids)}
    result["funnel"] = []
    for phase in order:
        reached = [i for i in ids if any(p[0] == phase for p in pairs[i].phases)]
        now = [i for i in ids if pairs[i].phases[-1][0] == phase]
        result["funnel"].append(
            {"phase": phase, **_fig(len(reached), reached), "current": _fig(len(now), now)}
        )
    result["time_in_phase"] = []
    for phase in order:
        if phase in terminal:
            continue
        done = [(i, p) for i in ids for p in pairs[i].phases if p[0] == phase and p[2] is not None]
        spans = [_days(p[2] - p[1]) for _, p in done]
        result["time_in_phase"].append(
            {"phase": phase, **_spread(spans, [i for i, _ in done]), "unit": "days"}
        )
    result["engagement"] = _engagement(pairs, policy, moment)
    result["satisfaction"] = {}
    result["recommend"] = {}
    for who in ("mentee", "mentor"):
        given = {i: v for i in ids if (v := _latest(pairs[i], who, "satisfaction", _score)) is not None}
        values = list(given.values())
        result["satisfaction"][who] = {
            "mean": _fig(
                statistics.mean(values) if values else None,
                given,
                median=statistics.median(values) if values else None,
                n=len(values),
            ),
            "distribution": [
                {
                    "score": s,
                    **_fig(values.count(s) if values else None, [i for i, v in given.items() if v == s]),
                }
                for s in range(1, 6)
            ],
        }
        rec = {i: v for i in ids if (v := _latest(pairs[i], who, "recommend", _recommend)) is not None}
        vals = list(rec.values())
        nps = (
            100 * (len([v for v in vals if v > 8]) - len([v for v in vals if v < 7])) / len(vals)
            if vals
            else None
        )
        result["recommend"][who] = _fig(statistics.mean(vals) if vals else None, rec, nps=nps, n=len(vals))
    result["goals"] = _goal_figures(pairs)
    result["program_goals"] = program_goal_rows({i: pairs[i].goals for i in ids}, policy)
    satisfied = {i: _pair_satisfaction(pairs[i]) for i in ids}
    result["sessions"] = session_figures({i: pairs[i].sessions for i in ids}, satisfied, policy, moment)
    matched = [(i, _days(pairs[i].match_at - pairs[i].phases[0][1])) for i in ids if pairs[i].match_at]
    waiting = [
        (i, _days(moment - pairs[i].phases[0][1]))
        for i in ids
        if pairs[i].match_at is None and pairs[i].phases[-1][0] == policy.initial_phase
    ]
    result["time_to_match"] = {
        "matched": {**_spread([d for _, d in matched], [i for i, _ in matched]), "unit": "days"},
        "waiting": {**_spread([d for _, d in waiting], [i for i, _ in waiting]), "unit": "days"},
    }
    result["dropout"] = _dropout(pairs, order)
    result["match_score_vs_satisfaction"] = _score_vs_satisfaction(pairs)
    return result


def _engagement(pairs: dict[int, Pair], policy: Policy, moment: datetime) -> dict[str, Any]:
    cadence = {n: _days(p.cadence.check_in.approx()) for n, p in policy.phases.items() if p.cadence}
    zone = ZoneInfo(policy.program.timezone)
    per_pair, counted, expected_all, held_all = [], 0.0, 0.0, 0
    monthly_expected: dict[str, dict[int, float]] = defaultdict(dict)
    monthly_held: dict[str, dict[int, int]] = defaultdict(dict)
    month_ends: dict[str, datetime] = {}
    for i, pair in sorted(pairs.items()):
        windows = [
            (p[1], max(p[1], min(p[2] or moment, moment)), cadence[p[0]])
            for p in pair.phases
            if p[0] in cadence
        ]
        held = [
            on
            for kind, on in pair.meetings
            if kind == "check-in" and any(a <= on <= b for a, b, _ in windows)
        ]
        expected = sum(_days(b - a) / every for a, b, every in windows)
        for a, b, every in windows:
            for label, m_start, m_end in _months(a, b, zone):
                overlap = _days(min(b, m_end) - max(a, m_start))
                if overlap > 0:
                    monthly_expected[label][i] = monthly_expected[label].get(i, 0.0) + overlap / every
                    month_ends[label] = m_end
        for on in held:
            label = on.astimezone(zone).strftime("%Y-%m")
            monthly_held[label][i] = monthly_held[label].get(i, 0) + 1
        if expected > 0:
            expected_all += expected
            held_all += len(held)
            counted += min(expected, len(held))
            per_pair.append(_fig(min(expected, len(held)) / expected, [i], expected=expected, held=len(held)))
    by_month = []
    for label in sorted(monthly_expected):
        exp = {i: e for i, e in monthly_expected[label].items() if e > 0}
        if not exp:
            continue
        got = {i: monthly_held[label].get(i, 0) for i in exp}
        by_month.append(
            {
                "month": label,
                **_fig(
                    sum(min(got[i], e) for i, e in exp.items()) / sum(exp.values()),
                    exp,
                    expected=sum(exp.values()),
                    held=sum(got.values()),
                ),
                "complete": month_ends[label] <= moment,
            }
        )
    meetings = {}
    for kind in ("kickoff", "check-in", "group"):
        counts = {i: sum(1 for k, _ in p.meetings if k == kind) for i, p in pairs.items()}
        meetings[kind] = _fig(sum(counts.values()), [i for i, n in counts.items() if n])
    regular = {}
    for who in ("mentee", "mentor"):
        said = {
            i: v
            for i, p in pairs.items()
            if (v := _latest(p, who, "met_regularly", lambda v: type(v) is bool)) is not None
        }
        regular[who] = _fig(sum(said.values()) / len(said) if said else None, said, n=len(said))
    ids = [f["relationships"][0] for f in per_pair]
    return {
        "meetings": meetings,
        "met_regularly": regular,
        "check_ins": _fig(
            counted / expected_all if expected_all else None, ids, expected=expected_all, held=held_all
        ),
        "per_pair": per_pair,
        "by_month": by_month,
    }


def _months(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    local = start.astimezone(zone)
    year, month = local.year, local.month
    found = []
    while True:
        first = datetime(year, month, 1, tzinfo=zone)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        following = datetime(year, month, 1, tzinfo=zone)
        if first >= end:
            return found
        found.append((first.strftime("%Y-%m"), first, following))


def _goal_figures(pairs: dict[int, Pair]) -> dict[str, Any]:
    levels = {}
    for i, pair in sorted(pairs.items()):
        given = _latest(pair, "mentee", "goals", _goals)
        if given is None:
            given = _latest(pair, "mentor", "goals", _goals)
        if given is not None:
            levels[i] = given
    total = sum(len(v) for v in levels.values())
    out = {
        level: _fig(
            sum(v.count(level) for v in levels.values()) if levels else None,
            [i for i, v in levels.items() if level in v],
        )
        for level in ("reached", "partly", "started", "not_started")
    }
    out["share_reached"] = _fig(out["reached"]["value"] / total if total else None, levels, goals=total)
    return out


def _dropout(pairs: dict[int, Pair], order: list[str]) -> dict[str, Any]:
    early = {i: p.early for i, p in pairs.items() if p.early}
    by_phase: dict[str, list[int]] = defaultdict(list)
    by_reason: dict[str, list[int]] = defaultdict(list)
    for i, (phase, reason) in sorted(early.items()):
        by_phase[phase].append(i)
        by_reason[reason].append(i)
    return {
        "total": _fig(len(early), early),
        "rate": _fig(len(early) / len(pairs) if pairs else None, early, of=len(pairs)),
        "by_phase": [
            {"phase": ph, **_fig(len(by_phase[ph]), by_phase[ph])} for ph in order if ph in by_phase
        ],
        "by_reason": [
            {"reason": r, **_fig(len(v), v)}
            for r, v in sorted(by_reason.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ],
    }


def _pair_satisfaction(pair: Pair) -> float | None:
    """The mean of the mentee's and the mentor's latest satisfaction (either alone), ``None`` without."""
    given = [
        a for who in ("mentee", "mentor") if (a := _latest(pair, who, "satisfaction", _score)) is not None
    ]
    return sum(given) / len(given) if given else None


def _score_vs_satisfaction(pairs: dict[int, Pair]) -> dict[str, Any]:
    points = []
    for i, pair in sorted(pairs.items()):
        answers = [_latest(pair, who, "satisfaction", _score) for who in ("mentee", "mentor")]
        given = [a for a in answers if a is not None]
        score = (pair.match or {}).get("score")
        if given and isinstance(score, int | float):
            points.append({"relationship": i, "score": score, "satisfaction": sum(given) / len(given)})
    xs, ys = [p["score"] for p in points], [p["satisfaction"] for p in points]
    ids = [p["relationship"] for p in points]
    return {
        "points": points,
        "pearson": _fig(_correlation("pearson", xs, ys), ids, n=len(points)),
        "spearman": _fig(_correlation("spearman", xs, ys), ids, n=len(points)),
    }


def differences(reported: Any, expected: Any, where: str = "") -> list[str]:
    """Where two reports differ (numbers within 0.001), as paths; empty when they agree."""
    if isinstance(expected, dict) and isinstance(reported, dict):
        found = [f"{where}.{k}: missing from the report" for k in expected if k not in reported]
        found += [f"{where}.{k}: not recomputed" for k in reported if k not in expected]
        for key in expected:
            if key in reported:
                found += differences(reported[key], expected[key], f"{where}.{key}")
        return found
    if isinstance(expected, list) and isinstance(reported, list):
        if len(expected) != len(reported):
            return [f"{where}: {len(reported)} items reported, {len(expected)} recomputed"]
        return [
            d
            for i, (a, b) in enumerate(zip(reported, expected, strict=True))
            for d in differences(a, b, f"{where}[{i}]")
        ]
    if (
        isinstance(expected, float | int)
        and isinstance(reported, float | int)
        and not isinstance(expected, bool)
    ):
        return (
            [] if abs(float(reported) - float(expected)) <= 1e-3 else [f"{where}: {reported} != {expected}"]
        )
    return [] if reported == expected else [f"{where}: {reported!r} != {expected!r}"]
