"""Timers that keep count: ``after:`` clocks, the phase clock a row keeps, the cycle refusal, warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.domain.cadence import Standing, next_due, runs_out_at
from engine.domain.changes import Cause, Mover
from engine.domain.lifecycle import Lifecycle, unmet
from engine.domain.phase_time import after_leaving, earlier
from engine.errors import PolicyError
from engine.policy.model import Policy, load_policy, load_policy_text, shipped_policies
from engine.policy.timers import FIRST_ENTRY, LATEST_ENTRY, TIME_IN_PHASE
from engine.policy.vocabulary import Facts
from engine.store.relationships import RelationshipRow
from tests.design_policy import DESIGN_BLOCK, DESIGN_DIGEST, SHIPPED_DEFAULT_DIGEST

T0 = datetime(2027, 1, 1, 9, tzinfo=UTC)
WITH_PAUSE = shipped_policies()["with-pause"]


def _with_pause(old: str = "", new: str = "") -> Policy:
    text = Path(WITH_PAUSE).read_text("utf-8")
    assert not old or text.count(old) == 1
    return load_policy_text(text.replace(old, new), "custom.yaml")


def _review_edge(policy: Policy) -> object:
    return next(e for e in policy.edges if e.trigger == "review")


def test_program_duration_counts_time_in_phase_and_plain_durations_the_latest_entry() -> None:
    policy = load_policy(WITH_PAUSE)
    assert {e.trigger: e.since for e in policy.edges if e.after} == {"review": TIME_IN_PHASE}
    custom = _with_pause("after: program.duration", "after: 2 months")
    assert next(e for e in custom.edges if e.trigger == "review").since == LATEST_ENTRY


def test_the_long_form_with_the_default_clock_is_the_same_policy() -> None:
    plain = load_policy(WITH_PAUSE)
    spelt = _with_pause(
        "after: program.duration", "after: {duration: program.duration, since: time_in_phase}"
    )
    assert spelt.digest == plain.digest
    other = _with_pause("after: program.duration", "after: {duration: program.duration, since: latest_entry}")
    assert other.digest != plain.digest
    assert other.normalised()["transitions"][5]["after"] == {
        "duration": "program.duration",
        "since": "latest_entry",
    }


def test_shipped_policies_keep_their_digests() -> None:
    assert load_policy_text(DESIGN_BLOCK, "policies/default.yaml").digest == DESIGN_DIGEST
    digests = {name: load_policy(path).digest[:15] for name, path in shipped_policies().items()}
    assert digests == {
        "default": SHIPPED_DEFAULT_DIGEST[:15],  # version 2: goals, resources, sessions
        "onboarding-buddy": "sha256:55f31e43",  # version 2: weighs personal qualities
        "with-pause": "sha256:6f9aad6c",  # version 2: weighs personal qualities
    }
    assert load_policy(shipped_policies()["default"]).digest == SHIPPED_DEFAULT_DIGEST


def test_four_months_active_a_month_paused_then_review_two_months_after_the_resume() -> None:
    policy = load_policy(WITH_PAUSE)
    paused_at, resumed_at = datetime(2027, 5, 1, 9, tzinfo=UTC), datetime(2027, 6, 1, 9, tzinfo=UTC)
    clock = after_leaving(None, "active", T0, paused_at, restart=False)
    clock = after_leaving(clock, "paused", paused_at, resumed_at, restart=False)
    before = earlier(clock, "active")
    assert before.spent == paused_at - T0 and before.first_entered == T0
    edge = _review_edge(policy)
    facts = Facts(now=datetime(2027, 7, 31, 9, tzinfo=UTC), phase_entered_at=resumed_at,
                  phase_time_before=before.spent, phase_first_entered_at=before.first_entered)  # fmt: skip
    (why,) = unmet(edge, facts)  # type: ignore[arg-type]
    assert "spent less than 6 months in 'active' (over all its stays) (until 2027-08-01 09:00)" in why
    at_review = Facts(now=datetime(2027, 8, 1, 9, tzinfo=UTC), phase_entered_at=resumed_at,
                      phase_time_before=before.spent)  # fmt: skip
    assert unmet(edge, at_review) == []  # type: ignore[arg-type]
    standing = Standing("active", resumed_at, resumed_at + timedelta(days=60), before.spent, T0)
    assert runs_out_at(edge, standing) == datetime(2027, 8, 1, 9, tzinfo=UTC)  # type: ignore[arg-type]
    due = next_due(policy, standing)
    assert due is not None and due <= datetime(2027, 8, 1, 9, tzinfo=UTC)


def test_first_entry_and_latest_entry_clocks() -> None:
    policy = _with_pause("after: program.duration", "after: {duration: 6 months, since: first_entry}")
    edge = _review_edge(policy)
    assert edge.since == FIRST_ENTRY  # type: ignore[attr-defined]
    resumed = datetime(2027, 6, 1, 9, tzinfo=UTC)
    facts = Facts(
        now=datetime(2027, 7, 1, 9, tzinfo=UTC), phase_entered_at=resumed, phase_first_entered_at=T0
    )
    assert unmet(edge, facts) == []  # type: ignore[arg-type]
    latest = _review_edge(_with_pause("after: program.duration", "after: 6 months"))
    assert unmet(latest, facts)  # type: ignore[arg-type]


def _row(phase: str, entered: datetime, clock: object = None) -> RelationshipRow:
    return RelationshipRow(41, 7, phase, entered, 3, 4, "h" * 64, "with-pause", clock)  # type: ignore[arg-type]


def test_a_phase_change_keeps_the_clock_and_the_due_time_counts_earlier_stays() -> None:
    policy = load_policy(WITH_PAUSE)
    paused_at, resumed_at = datetime(2027, 5, 1, 9, tzinfo=UTC), datetime(2027, 6, 1, 9, tzinfo=UTC)
    pause = Mover(policy, paused_at).change(_row("active", T0), "paused", Cause("c", "pause", "leave"))
    assert pause.update.phase_clock == {"active": [int((paused_at - T0).total_seconds()), T0.isoformat()]}
    resume = Mover(policy, resumed_at).change(
        _row("paused", paused_at, pause.update.phase_clock), "active", Cause("c", "resume")
    )
    assert set(resume.update.phase_clock or {}) == {"active", "paused"}
    assert resume.update.due_at is not None and resume.update.due_at <= datetime(2027, 8, 1, 9, tzinfo=UTC)


def test_a_timer_that_ran_out_starts_its_count_over_so_a_renewal_has_a_new_program() -> None:
    policy = load_policy(WITH_PAUSE)
    clock = {"active": [3600, T0.isoformat()], "paused": [60, T0.isoformat()]}
    review_at = datetime(2027, 9, 1, 9, tzinfo=UTC)
    review = Mover(policy, review_at).change(_row("active", T0, clock), "review", Cause("cadence", "review"))
    assert review.update.phase_clock == {"paused": [60, T0.isoformat()]}
    renewed = Lifecycle(policy)
    facts = Facts(now=review_at + timedelta(days=1), phase_entered_at=review_at + timedelta(days=1))
    assert renewed.try_fire("active", "review", facts) is None


def test_after_accepts_only_a_duration_or_duration_and_clock() -> None:
    with pytest.raises(PolicyError) as caught:
        _with_pause("after: program.duration", "after: {duration: 6 months, clock: first_entry}")
    assert 'unknown key "clock"' in "\n".join(caught.value.problems)
    with pytest.raises(PolicyError) as caught:
        _with_pause("after: program.duration", "after: {since: first_entry}")
    assert "after.duration: is missing" in "\n".join(caught.value.problems)


# --- cycles of auto transitions -------------------------------------------------------------------

AUTO_RESUME = "{trigger: resume, from: paused, to: active, auto: true}"


@pytest.mark.parametrize(
    ("pause", "resume"),
    [
        ("{trigger: pause, from: active, to: paused, auto: true, after: 2 weeks}", AUTO_RESUME),
        ("{trigger: pause, from: active, to: paused, auto: true, requires: [reason]}", AUTO_RESUME),
        ("{trigger: pause, from: active, to: paused, requires: [reason]}", AUTO_RESUME),
    ],
)
def test_a_cycle_with_something_to_wait_for_is_accepted(pause: str, resume: str) -> None:
    text = Path(WITH_PAUSE).read_text("utf-8")
    text = text.replace("{trigger: pause, from: active, to: paused, requires: [reason]}", pause)
    text = text.replace("{trigger: resume, from: paused, to: active}", resume)
    load_policy_text(text, "custom.yaml")


def test_a_cycle_through_three_phases_and_a_self_loop_are_refused() -> None:
    text = Path(WITH_PAUSE).read_text("utf-8")
    loop = text.replace(
        "  - {trigger: resume, from: paused, to: active}\n",
        "  - {trigger: resume, from: paused, to: active}\n"
        "  - {trigger: again, from: active, to: active, auto: true}\n",
    )
    with pytest.raises(PolicyError) as caught:
        load_policy_text(loop, "loop.yaml")
    (problem,) = caught.value.problems
    assert problem.startswith("loop.yaml:43: transitions[5]: the auto transitions again lead round active")


def test_every_shipped_policy_loads_without_warnings() -> None:
    for path in shipped_policies().values():
        assert load_policy(path).warnings == ()


def test_warnings_name_file_and_line() -> None:
    policy = _with_pause("remind_after: 3 weeks", "remind_after: 1 week")
    assert policy.warnings == (
        "custom.yaml:25: warning: phases.active.cadence.remind_after: 1 week is shorter than check_in "
        "(every 2 weeks): the pair is reminded before a meeting is due "
        "(expected remind_after of at least the check-in)",
    )
    longer = _with_pause(
        "  - {trigger: pause, from: active, to: paused, requires: [reason]}\n",
        "  - {trigger: pause, from: active, to: paused, requires: [reason]}\n"
        "  - {trigger: midpoint, from: active, to: paused, after: 8 months, auto: true}\n",
    )
    (warning,) = longer.warnings
    assert warning.startswith(
        "custom.yaml:42: warning: transitions[4].after: 8 months is longer than the program"
    )
