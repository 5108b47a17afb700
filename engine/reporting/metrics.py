"""The program's figures: engagement, satisfaction, goals, time in phase, drop-out, time to match.

Pure functions over the relationships' outcomes (:mod:`engine.report.outcomes`),
the policy and the moment the report stands at. Every figure is a mapping
with its ``value`` and the ``relationships`` it counts (sorted ids), so each
number in a report can be traced to the pairs behind it; a figure without
data has ``value: null``, never 0. The definitions, which a test recomputes
from the audit export:

- check-in adherence: a pair is expected to hold one check-in per cadence
  interval (``check_in``) of the time it spent in a phase with a cadence; the
  check-ins held in that time count up to what was expected (a pair meeting
  weekly does not make up for a silent one); adherence is counted over
  expected. Per calendar month (program time zone) the same, per month.
- satisfaction, recommend, met regularly: each respondent's latest answer per relationship.
- goals: the mentee's latest ``goals`` answer (the mentor's if the mentee gave none).
- program goals: per program goal, the development goals serving it (:mod:`engine.reporting.goal_figures`).
- group sessions: per series, invitations and attendance (:mod:`engine.reporting.session_figures`).
- time in phase: completed stays only; time to match: creation to the ``match`` entry.
- drop-out: a close that needed a reason (the regular close after review does not).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.domain.audit import iso
from engine.domain.relationships import MEETING_KINDS
from engine.policy.model import Policy
from engine.policy.surveys import GOAL_LEVELS, RESPONDENTS
from engine.reporting.goal_figures import program_goals
from engine.reporting.outcomes import PairOutcome
from engine.reporting.session_figures import group_sessions
from engine.reporting.stats import Figure, figure, mean, pearson, quartiles, rounded, spearman

SATISFACTION_SCALE = (1, 2, 3, 4, 5)
DAY = 86400.0


def days(span: timedelta) -> float:
    return span.total_seconds() / DAY


def program_report(
    pairs: Sequence[PairOutcome],
    policy: Policy,
    *,
    moment: datetime,
    generated_at: datetime,
    since: datetime | None = None,
    replayed: bool = False,
    other_policies: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Every figure of the program report, as JSON-ready data.

    ``other_policies`` counts the relationships of other programs in the store, by policy name: the
    heading says they are left out.
    """
    return {
        "report": {
            "generated_at": iso(generated_at),
            "as_of": iso(moment),
            "replayed": replayed,
            "since": iso(since) if since else None,
            "policy": {"name": policy.policy, "version": str(policy.version), "digest": policy.digest},
            "timezone": policy.program.timezone,
            "other_policies": dict(other_policies or {}),
        },
        "scope": figure(len(pairs), (p.id for p in pairs)),
        "funnel": funnel(pairs, policy),
        "time_in_phase": time_in_phase(pairs, policy),
        "engagement": engagement(pairs, policy, moment),
        "satisfaction": {who: satisfaction(pairs, who) for who in RESPONDENTS},
        "recommend": {who: recommend(pairs, who) for who in RESPONDENTS},
        "goals": goals(pairs),
        "program_goals": program_goals(pairs, policy),
        "sessions": group_sessions(pairs, policy, moment, pair_satisfaction),
        "time_to_match": time_to_match(pairs, policy, moment),
        "dropout": dropout(pairs, policy),
        "match_score_vs_satisfaction": score_vs_satisfaction(pairs),
    }


def phase_order(pairs: Sequence[PairOutcome], policy: Policy) -> list[str]:
    """The policy's phases in file order, then any phase seen only in the history."""
    seen = dict.fromkeys(policy.phases)
    for pair in pairs:
        seen.update(dict.fromkeys(stay.phase for stay in pair.stays))
    return list(seen)


def funnel(pairs: Sequence[PairOutcome], policy: Policy) -> list[Figure]:
    """Per phase: how many pairs ever reached it (``value``), and how many are in it now."""
    rows = []
    for phase in phase_order(pairs, policy):
        reached = [p.id for p in pairs if p.reached(phase)]
        current = [p.id for p in pairs if p.phase == phase]
        rows.append(
            {"phase": phase, **figure(len(reached), reached), "current": figure(len(current), current)}
        )
    return rows


def spread(values: Sequence[float], relationships: Iterable[int], **extra: Any) -> Figure:
    """Median (``value``), 25th and 75th percentile and count of some values, in days."""
    found = quartiles(values)
    low, middle, high = found if found else (None, None, None)
    return figure(rounded(middle), relationships, p25=rounded(low), p75=rounded(high), n=len(values), **extra)


def time_in_phase(pairs: Sequence[PairOutcome], policy: Policy) -> list[Figure]:
    """Per non-terminal phase: the median and spread of completed stays, in days."""
    terminal = policy.terminal_phases
    rows = []
    for phase in phase_order(pairs, policy):
        if phase in terminal:
            continue
        stays = [(p.id, s) for p in pairs for s in p.stays if s.phase == phase and s.left is not None]
        spans = [days(s.left - s.entered) for _, s in stays if s.left is not None]
        rows.append({"phase": phase, **spread(spans, (rid for rid, _ in stays), unit="days")})
    return rows


def _intervals(policy: Policy) -> dict[str, float]:
    """Days per expected check-in, for each phase with a cadence."""
    return {
        name: days(phase.cadence.check_in.approx())
        for name, phase in policy.phases.items()
        if phase.cadence is not None
    }


def _windows(
    pair: PairOutcome, intervals: dict[str, float], moment: datetime
) -> list[tuple[datetime, datetime, float]]:
    """(start, end, days per check-in) of each stay in a phase with a cadence, up to ``moment``."""
    found = []
    for stay in pair.stays:
        if stay.phase in intervals:
            end = max(stay.entered, min(stay.left or moment, moment))
            found.append((stay.entered, end, intervals[stay.phase]))
    return found


def _check_ins(pair: PairOutcome, windows: list[tuple[datetime, datetime, float]]) -> list[datetime]:
    """When the pair's check-ins were held, those held within a cadence window."""
    return [
        m.held_on
        for m in pair.meetings
        if m.kind == "check-in" and any(start <= m.held_on <= end for start, end, _ in windows)
    ]


def engagement(pairs: Sequence[PairOutcome], policy: Policy, moment: datetime) -> dict[str, Any]:
    """Meetings held by kind; check-ins held against the cadence, per pair, overall and per month."""
    intervals = _intervals(policy)
    zone = ZoneInfo(policy.program.timezone)
    per_pair, monthly = [], _Monthly(zone, moment)
    counted, expected_total, held_total = 0.0, 0.0, 0
    for pair in pairs:
        windows = _windows(pair, intervals, moment)
        held = _check_ins(pair, windows)
        expected = sum(days(end - start) / interval for start, end, interval in windows)
        monthly.add(pair.id, windows, held)
        if expected <= 0:
            continue
        expected_total += expected
        held_total += len(held)
        counted += min(len(held), expected)
        per_pair.append(
            figure(min(len(held), expected) / expected, [pair.id], expected=rounded(expected), held=len(held))
        )
    ids = [f["relationships"][0] for f in per_pair]
    overall = counted / expected_total if expected_total else None
    return {
        "meetings": {kind: _meetings_of(pairs, kind) for kind in MEETING_KINDS},
        "met_regularly": {who: met_regularly(pairs, who) for who in RESPONDENTS},
        "check_ins": figure(overall, ids, expected=rounded(expected_total), held=held_total),
        "per_pair": per_pair,
        "by_month": monthly.figures(),
    }


def met_regularly(pairs: Sequence[PairOutcome], respondent: str) -> Figure:
    """The share of pairs whose respondent said, last time asked, that they met as regularly as agreed."""
    given = {p.id: latest_answer(p, respondent, "met_regularly", is_yes_no) for p in pairs}
    given = {rid: v for rid, v in given.items() if v is not None}
    share = sum(1 for v in given.values() if v) / len(given) if given else None
    return figure(share, given, n=len(given))


def _meetings_of(pairs: Sequence[PairOutcome], kind: str) -> Figure:
    counts = {p.id: sum(1 for m in p.meetings if m.kind == kind) for p in pairs}
    return figure(sum(counts.values()), [rid for rid, n in counts.items() if n])


class _Monthly:
    """Check-ins expected and held per calendar month, per pair, capped as overall."""

    def __init__(self, zone: ZoneInfo, moment: datetime) -> None:
        self.zone, self.moment = zone, moment
        self.ends: dict[str, datetime] = {}
        self.expected: dict[str, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        self.held: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def month(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m")

    def add(self, rel_id: int, windows: list[tuple[datetime, datetime, float]], held: list[datetime]) -> None:
        for start, end, interval in windows:
            for label, part_start, part_end, month_end in month_parts(start, end, self.zone):
                self.expected[label][rel_id] += days(part_end - part_start) / interval
                self.ends[label] = month_end
        for on in held:
            self.held[self.month(on)][rel_id] += 1

    def figures(self) -> list[Figure]:
        rows = []
        for label in sorted(self.expected):
            expected = {rid: e for rid, e in self.expected[label].items() if e > 0}
            total = sum(expected.values())
            if total <= 0:
                continue
            held = self.held.get(label, {})
            counted = sum(min(held.get(rid, 0), e) for rid, e in expected.items())
            held_total = sum(held.get(rid, 0) for rid in expected)
            rows.append(
                {
                    "month": label,
                    **figure(counted / total, expected, expected=rounded(total), held=held_total),
                    "complete": self.ends[label] <= self.moment,
                }
            )
        return rows


def month_parts(
    start: datetime, end: datetime, zone: ZoneInfo
) -> Iterable[tuple[str, datetime, datetime, datetime]]:
    """The pieces of ``[start, end]`` in each calendar month of ``zone``: (YYYY-MM, from, to, month end)."""
    local = start.astimezone(zone)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    while month_start < end:
        following = (month_start + timedelta(days=32)).replace(day=1)
        part_start, part_end = max(start, month_start), min(end, following)
        if part_end > part_start:
            yield month_start.strftime("%Y-%m"), part_start, part_end, following
        month_start = following


def latest_answer(pair: PairOutcome, respondent: str, question: str, valid: Callable[[Any], bool]) -> Any:
    """The respondent's latest valid answer to ``question`` in any survey, or ``None``."""
    found = None
    for answer in sorted(pair.answers, key=lambda a: a.at):
        value = answer.answers.get(question)
        if answer.respondent == respondent and valid(value):
            found = value
    return found


def _scale(low: int, high: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


is_satisfaction = _scale(1, 5)
is_recommend = _scale(0, 10)


def is_yes_no(value: Any) -> bool:
    return isinstance(value, bool)


def is_goal_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(level in GOAL_LEVELS for level in value)


def satisfaction(pairs: Sequence[PairOutcome], respondent: str) -> dict[str, Any]:
    """Mean, median and distribution of the respondent's latest satisfaction (1-5) per pair."""
    given = {p.id: latest_answer(p, respondent, "satisfaction", is_satisfaction) for p in pairs}
    given = {rid: v for rid, v in given.items() if v is not None}
    values = list(given.values())
    median = quartiles(values)
    return {
        "mean": figure(mean(values), given, median=rounded(median[1]) if median else None, n=len(values)),
        "distribution": [
            {
                "score": score,
                **figure(
                    values.count(score) if values else None, [r for r, v in given.items() if v == score]
                ),
            }
            for score in SATISFACTION_SCALE
        ],
    }


def recommend(pairs: Sequence[PairOutcome], respondent: str) -> Figure:
    """Mean of the latest ``recommend`` answers (0-10), with the net promoter score (9-10 minus 0-6)."""
    given = {p.id: latest_answer(p, respondent, "recommend", is_recommend) for p in pairs}
    given = {rid: v for rid, v in given.items() if v is not None}
    values = list(given.values())
    nps = None
    if values:
        nps = rounded(100 * (sum(v >= 9 for v in values) - sum(v <= 6 for v in values)) / len(values))
    return figure(mean(values), given, nps=nps, n=len(values))


def goal_levels(pair: PairOutcome) -> list[str] | None:
    """The levels of the mentee's goals as last reported (by the mentee, else the mentor)."""
    for respondent in RESPONDENTS:
        found = latest_answer(pair, respondent, "goals", is_goal_list)
        if found is not None:
            return [str(level) for level in found]
    return None


def goals(pairs: Sequence[PairOutcome]) -> dict[str, Figure]:
    """How many of the mentees' goals were reached, partly reached, not started; the share reached."""
    levels = {p.id: found for p in pairs if (found := goal_levels(p)) is not None}
    total = sum(len(ls) for ls in levels.values())
    result = {
        level: figure(
            sum(ls.count(level) for ls in levels.values()) if levels else None,
            [r for r, ls in levels.items() if level in ls],
        )
        for level in GOAL_LEVELS
    }
    share = result["reached"]["value"] / total if total else None
    result["share_reached"] = figure(share, levels, goals=total)
    return result


def time_to_match(pairs: Sequence[PairOutcome], policy: Policy, moment: datetime) -> dict[str, Figure]:
    """Days from a relationship's creation to its match; and those still waiting, with how long."""
    matched = [(p.id, days(p.match.at - p.created)) for p in pairs if p.match is not None]
    initial = policy.initial_phase
    waiting = [(p.id, days(moment - p.created)) for p in pairs if p.match is None and p.phase == initial]
    return {
        "matched": spread([d for _, d in matched], (rid for rid, _ in matched), unit="days"),
        "waiting": spread([d for _, d in waiting], (rid for rid, _ in waiting), unit="days"),
    }


def dropout(pairs: Sequence[PairOutcome], policy: Policy) -> dict[str, Any]:
    """Pairs closed early (with a reason): how many, what share, from which phase, why."""
    closed = [p for p in pairs if p.early_close is not None]
    by_phase: dict[str, list[int]] = defaultdict(list)
    by_reason: dict[str, list[int]] = defaultdict(list)
    for pair in closed:
        assert pair.early_close is not None
        by_phase[pair.early_close.from_phase].append(pair.id)
        by_reason[pair.early_close.reason].append(pair.id)
    order = {phase: i for i, phase in enumerate(phase_order(pairs, policy))}
    reasons = sorted(by_reason.items(), key=lambda item: (-len(item[1]), item[0]))
    return {
        "total": figure(len(closed), (p.id for p in closed)),
        "rate": figure(len(closed) / len(pairs) if pairs else None, (p.id for p in closed), of=len(pairs)),
        "by_phase": [
            {"phase": phase, **figure(len(ids), ids)}
            for phase, ids in sorted(by_phase.items(), key=lambda item: order.get(item[0], len(order)))
        ],
        "by_reason": [{"reason": reason, **figure(len(ids), ids)} for reason, ids in reasons],
    }


def pair_satisfaction(pair: PairOutcome) -> float | None:
    """The pair's satisfaction: the mean of the mentee's and the mentor's latest answers (either alone)."""
    values = [latest_answer(pair, who, "satisfaction", is_satisfaction) for who in RESPONDENTS]
    return mean([float(v) for v in values if v is not None])


def score_vs_satisfaction(pairs: Sequence[PairOutcome]) -> dict[str, Any]:
    """Each matched pair's proposal score against its later satisfaction, and their correlation."""
    found: list[tuple[int, float, float]] = []
    for pair in pairs:
        sat = pair_satisfaction(pair)
        if pair.match is not None and pair.match.score is not None and sat is not None:
            found.append((pair.id, pair.match.score, sat))
    ids = [rid for rid, _, _ in found]
    xs, ys = [score for _, score, _ in found], [sat for _, _, sat in found]
    return {
        "points": [
            {"relationship": rid, "score": rounded(score), "satisfaction": rounded(sat)}
            for rid, score, sat in found
        ],
        "pearson": figure(pearson(xs, ys), ids, n=len(found)),
        "spearman": figure(spearman(xs, ys), ids, n=len(found)),
    }
