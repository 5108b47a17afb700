"""One lifecycle shared between threads answers as it does alone."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from engine.domain.lifecycle import Lifecycle, unmet
from engine.errors import RefusedError
from engine.policy.model import load_policy, shipped_policies
from engine.policy.vocabulary import Facts

ENTERED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
THREADS = 8
ROUNDS = 300

KNOWN: list[dict[str, object]] = [
    {},
    {"mentor_id": 3},
    {"mentor_id": 3, "mentor_trained": True},
    {"kickoff_held": True},
    {"now": ENTERED + timedelta(days=181)},
    {"surveys_answered": frozenset({"mentor", "mentee"})},
    {"surveys_answered": frozenset({"mentee"})},
    {"reason": "moved abroad"},
]


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    """Threads switch every microsecond, so a race shows within the test's few thousand decisions."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _facts(known: dict[str, object]) -> Facts:
    values: dict[str, object] = {"now": ENTERED, "phase_entered_at": ENTERED, **known}
    return Facts(**values)  # type: ignore[arg-type]


def _answers(lifecycle: Lifecycle, phase: str) -> list[object]:
    """Everything the lifecycle says about ``phase``: its triggers, auto edges, each firing and refusal."""
    answers: list[object] = [lifecycle.triggers_from(phase), lifecycle.auto_edges_from(phase)]
    for trigger, known in product([*lifecycle.triggers_from("review"), "match", "start", "nope"], KNOWN):
        facts = _facts(known)
        try:
            answers.append(lifecycle.fire(phase, trigger, facts).edge)
        except RefusedError as exc:
            answers.append(exc.message)
        answers.append(lifecycle.try_fire(phase, trigger, facts))
    answers += [unmet(edge, _facts(known)) for edge in lifecycle.auto_edges_from(phase) for known in KNOWN]
    return answers


def test_threads_sharing_one_lifecycle_get_the_answers_of_one_thread() -> None:
    lifecycle = Lifecycle(load_policy(shipped_policies()["default"]))
    phases = [*lifecycle.phases, "paused"]
    alone = {phase: _answers(lifecycle, phase) for phase in phases}

    def asked(worker: int) -> list[tuple[str, list[object]]]:
        # each thread walks the phases from a different start, so different phases are asked at once
        return [
            (phase, _answers(lifecycle, phase))
            for step in range(ROUNDS // len(phases))
            for phase in [phases[(worker + step) % len(phases)]]
        ]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = [answer for answers in pool.map(asked, range(THREADS)) for answer in answers]

    assert len(results) == THREADS * (ROUNDS // len(phases))
    for phase, answers in results:
        assert answers == alone[phase], phase


def test_one_firing_shared_between_threads_decides_as_alone() -> None:
    lifecycle = Lifecycle(load_policy(shipped_policies()["default"]))
    close = lifecycle.firing("close")
    cases = [(phase, known) for phase in ("review", "active", "intake", "closed") for known in KNOWN]

    def decide(index: int) -> str:
        phase, known = cases[index % len(cases)]
        try:
            return close(phase, _facts(known)).dest
        except RefusedError as exc:
            return exc.message

    alone = [decide(i) for i in range(len(cases) * 20)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        together = list(pool.map(decide, range(len(cases) * 20)))

    assert together == alone
