"""What to change, read from the outcomes: matching criteria, phases that stall, pairs to look at now.

- Matching: each criterion's score in the approved proposals against the pair's
  later satisfaction (Spearman's rho, with the number of pairs). Criteria
  with enough pairs keep half their current weight, and share the other half of
  their total in proportion to their positive correlation (from 0.1 up): a step
  towards what the outcomes say, not a swing on one year's data. The
  reweighting is given as a ``matching:`` snippet the policy loader accepts.
- Stalls: per phase, how often pairs passed its deadline or went without a
  meeting for longer than ``remind_after`` (``escalate_after``), per pair that
  reached the phase; the same moments the tick reminds and escalates at
  (:func:`engine.domain.cadence.outlasted`).
- Attention: open pairs with something overdue now (:func:`engine.domain.cadence.overdue`)
  or a low latest satisfaction.
- Group sessions: the mean satisfaction of the pairs whose people attended one against that of the
  pairs invited whose people never came (:mod:`engine.reporting.session_figures`), judged only when
  each group has at least ``MIN_PAIRS`` pairs with a satisfaction answer.

Pure over :class:`~engine.report.outcomes.PairOutcome` records; the sentences
are in :mod:`engine.report.insight_text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise

from engine.domain.cadence import REMIND, Overdue, Standing, outlasted, overdue
from engine.policy.matching import CRITERIA, CRITERION_LABELS
from engine.policy.model import Policy
from engine.policy.surveys import RESPONDENTS
from engine.reporting.metrics import is_satisfaction, latest_answer, pair_satisfaction
from engine.reporting.outcomes import PairOutcome
from engine.reporting.session_figures import satisfaction_by_attendance
from engine.reporting.stats import Figure, rounded, spearman

MIN_PAIRS = 10
"""Pairs with a score and a satisfaction answer a criterion needs before its weight is judged."""
MIN_RHO = 0.1
"""A correlation below this is noise, not a reason to give a criterion weight."""
STEP = 0.5
"""The share of the judged criteria's total weight that a suggestion moves by correlation."""
LOW_SATISFACTION = 2
"""A latest satisfaction at or below this (of 5) puts an open pair on the attention list."""
SAME_SATISFACTION = 0.1
"""Means of satisfaction this close (of 5) or closer read as about the same."""


@dataclass(frozen=True)
class CriterionSignal:
    """How one matching criterion's score went with the pairs' later satisfaction."""

    criterion: str
    weight: float
    rho: float | None
    relationships: tuple[int, ...]

    @property
    def label(self) -> str:
        return CRITERION_LABELS.get(self.criterion, self.criterion)

    @property
    def n(self) -> int:
        return len(self.relationships)

    @property
    def judged(self) -> bool:
        return self.rho is not None and self.n >= MIN_PAIRS


def criterion_signals(pairs: Sequence[PairOutcome], policy: Policy) -> list[CriterionSignal]:
    """Every criterion of the policy, the best predictor of satisfaction first (unjudged ones last)."""
    signals = []
    satisfied = {pair.id: pair_satisfaction(pair) for pair in pairs}
    weighed = policy.matching.weights.weighed  # and any other criterion the stored proposals were scored on
    names = list(weighed) + sorted({c for p in pairs if p.match for c in p.match.criteria} - set(weighed))
    for criterion in names:
        points = []
        for pair in pairs:
            score = pair.match.criteria.get(criterion) if pair.match else None
            sat = satisfied[pair.id]
            if score is not None and sat is not None:
                points.append((pair.id, score, sat))
        rho = spearman([s for _, s, _ in points], [v for _, _, v in points])
        weight = policy.matching.weights.of(criterion) if criterion in CRITERIA else 0.0
        signals.append(CriterionSignal(criterion, weight, rounded(rho), tuple(rid for rid, _, _ in points)))
    return sorted(signals, key=lambda s: (not s.judged, -(s.rho or 0.0) if s.judged else 0.0))


def suggested_weights(signals: Sequence[CriterionSignal]) -> dict[str, float] | None:
    """New weights: each judged criterion keeps ``1 - STEP`` of its weight; ``STEP`` of their total
    is shared in proportion to positive rho.

    A rho below :data:`MIN_RHO` counts as none; criteria without enough data
    keep their weight. ``None`` when no judged criterion correlates positively
    (nothing to go on).
    """
    judged = [s for s in signals if s.judged]
    positive = {s.criterion: s.rho if s.rho is not None and s.rho >= MIN_RHO else 0.0 for s in judged}
    if sum(positive.values()) <= 0:
        return None
    total = sum(s.weight for s in judged) or float(len(judged))
    weights = {s.criterion: s.weight for s in signals if s.criterion in CRITERIA}
    for criterion, share in positive.items():
        kept = (1 - STEP) * weights[criterion]
        weights[criterion] = round(kept + STEP * total * share / sum(positive.values()), 1)
    if not any(weights.values()):
        return None
    return {criterion: weights[criterion] for criterion in CRITERIA if criterion in weights}


def weights_yaml(weights: dict[str, float]) -> str:
    """The ``matching.weights`` section of a policy, ready to paste into the policy file."""
    lines = ["matching:", "  weights:"]
    lines += [f"    {criterion}: {weight:g}" for criterion, weight in weights.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class PhaseStall:
    """How often pairs got stuck in one phase: deadlines passed and silences too long."""

    phase: str
    reached: tuple[int, ...]
    deadline: str | None  # the deadline, as the policy says it
    deadline_missed: tuple[int, ...]  # one per stay that passed it
    quiet: str | None  # remind_after
    quiet_spells: tuple[int, ...]  # one per silence longer than remind_after
    escalated_spells: tuple[int, ...]  # one per silence longer than escalate_after

    @property
    def lapses(self) -> int:
        return len(self.deadline_missed) + len(self.quiet_spells)

    @property
    def per_pair(self) -> float:
        return self.lapses / len(self.reached) if self.reached else 0.0

    @property
    def pairs_affected(self) -> list[int]:
        return sorted(set(self.deadline_missed) | set(self.quiet_spells))


def stalls(pairs: Sequence[PairOutcome], policy: Policy, moment: datetime) -> list[PhaseStall]:
    """Per phase with a deadline or cadence, the lapses; the most per pair first (none left out)."""
    found = []
    for name, phase in policy.phases.items():
        if phase.terminal or (phase.deadline is None and phase.cadence is None):
            continue
        missed: list[int] = []
        quiet: list[int] = []
        escalated: list[int] = []
        for pair in pairs:
            for stay in pair.stays:
                if stay.phase != name:
                    continue
                end = min(stay.left or moment, moment)
                if phase.deadline is not None and phase.deadline.after.after(stay.entered) < end:
                    missed.append(pair.id)
                if phase.cadence is not None:
                    for start, stop in _silences(pair, stay.entered, end):
                        for nudge in outlasted(phase.cadence, start, stop):
                            (quiet if nudge.action == REMIND else escalated).append(pair.id)
        reached = tuple(p.id for p in pairs if p.reached(name))
        found.append(
            PhaseStall(
                name, reached,
                str(phase.deadline.after) if phase.deadline else None, tuple(missed),
                str(phase.cadence.remind_after) if phase.cadence else None, tuple(quiet), tuple(escalated),
            )
        )  # fmt: skip
    return sorted(found, key=lambda s: -s.per_pair)


def _silences(pair: PairOutcome, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The spans without a meeting (of any kind) between ``start`` and ``end``."""
    held = sorted(m.held_on for m in pair.meetings if start < m.held_on <= end)
    points = [start, *held, end]
    return [(a, b) for a, b in pairwise(points) if b > a]


@dataclass(frozen=True)
class AttendanceSignal:
    """How attending group sessions went with satisfaction: the pairs whose people came to one, and those
    invited whose people never came, each as a figure (mean satisfaction, ``n``, relationships)."""

    attended: Figure
    not_attended: Figure

    @property
    def judged(self) -> bool:
        return bool(min(self.attended["n"], self.not_attended["n"]) >= MIN_PAIRS)

    @property
    def difference(self) -> float | None:
        """Attended minus not attended, ``None`` unless judged."""
        if not self.judged:
            return None
        return float(self.attended["value"]) - float(self.not_attended["value"])


def attendance_signal(pairs: Sequence[PairOutcome], moment: datetime) -> AttendanceSignal:
    """Satisfaction by whether the pair's people attended a group session that began by ``moment``."""
    found = satisfaction_by_attendance(pairs, moment, pair_satisfaction)
    return AttendanceSignal(found["attended"], found["not_attended"])


@dataclass
class Attention:
    """An open pair that needs someone to look at it now, and why."""

    relationship_id: int
    phase: str
    overdue: list[Overdue] = field(default_factory=list)
    satisfaction: dict[str, int] = field(default_factory=dict)  # respondent -> low latest answer
    last_meeting: datetime | None = None

    @property
    def escalated(self) -> bool:
        return any(item.action == "escalate" for item in self.overdue)


def needing_attention(pairs: Sequence[PairOutcome], policy: Policy, moment: datetime) -> list[Attention]:
    """Open pairs with an overdue escalation or reminder, or a latest satisfaction of 2 or less.

    Escalations first, then low satisfaction, then reminders; the longest overdue first within each.
    """
    terminal = policy.terminal_phases
    found = []
    for pair in pairs:
        if pair.phase in terminal:
            continue
        held = [m.held_on for m in pair.meetings if m.held_on <= moment]
        last = max(held, default=None)
        items = overdue(policy, Standing(pair.phase, pair.stays[-1].entered, last), moment)
        low = {
            who: value
            for who in RESPONDENTS
            if (value := latest_answer(pair, who, "satisfaction", is_satisfaction)) is not None
            and value <= LOW_SATISFACTION
        }
        if items or low:
            found.append(Attention(pair.id, pair.phase, items, low, last))

    def rank(item: Attention) -> tuple[int, datetime]:
        tier = 0 if item.escalated else 1 if item.satisfaction else 2
        return tier, min((o.due for o in item.overdue), default=moment)

    return sorted(found, key=rank)


@dataclass
class Insights:
    """Everything ``mentorflow insights`` says, as data."""

    as_of: datetime
    pairs: int
    criteria: list[CriterionSignal]
    weights: dict[str, float] | None
    current_weights: dict[str, float]
    stalls: list[PhaseStall]
    attention: list[Attention]
    sessions: AttendanceSignal
    other_policies: dict[str, int] = field(default_factory=dict)  # other programs' relationships, left out


def insights(pairs: Sequence[PairOutcome], policy: Policy, moment: datetime) -> Insights:
    """Read the outcomes for what to change: criteria, stalls, pairs to look at."""
    signals = criterion_signals(pairs, policy)
    return Insights(
        as_of=moment,
        pairs=len(pairs),
        criteria=signals,
        weights=suggested_weights(signals),
        current_weights={c: policy.matching.weights.of(c) for c in policy.matching.weights.weighed},
        stalls=stalls(pairs, policy, moment),
        attention=needing_attention(pairs, policy, moment),
        sessions=attendance_signal(pairs, moment),
    )
