"""Development goals as records: set from the file, by a coordinator, moved on by the CLI's service and
by the mentee's survey answer, counted by the conditions, each an audit entry without the title."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, NotFoundError, RefusedError
from engine.policy.model import Policy, load_policy_text
from engine.services import queries, recording, tick
from engine.services.events import feed
from engine.services.facts import load_facts
from engine.services.goals import GoalLevel, NewGoal, goal_list, record_levels, set_goals
from engine.services.participants import import_participants
from engine.store import goals as goal_store
from engine.store import relationships as rel_store
from engine.store.database import UnitOfWork
from engine.store.tables import goals
from tests.design_policy import DESIGN_BLOCK

from .support import TRAINED_MENTOR, example_people, final_answers, fire, import_examples, to_review


def _rows(store: Engine, rel: int) -> list[goal_store.GoalRow]:
    with store.connect() as conn:
        return goal_store.goal_rows(conn, [rel]).get(rel, [])


def _entries(store: Engine, rel: int, trigger: str) -> list[dict[str, object]]:
    _, entries = queries.history(store, rel)
    return [e.data for e in entries if e.trigger == trigger]


def test_the_file_s_goals_become_records_of_the_new_relationship(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]  # Zoë, the first mentee of the file

    rows = _rows(store, rel)
    assert [r.title for r in rows] == list(example_people()[next(
        i for i, p in enumerate(example_people()) if p.role == "mentee")].goals)  # fmt: skip
    assert {(r.status, r.set_by, r.program_goal) for r in rows} == {("not_started", "hr", None)}
    (created,) = _entries(store, rel, "create")  # the entry that opened the relationship sets them
    assert created["goals"] == [{"id": r.id, "program_goal": None, "target": None} for r in rows]
    assert all(r.title not in str(created) for r in rows)  # no title in the chain


def test_a_goal_written_with_a_program_goal_s_id_serves_it(store: Engine, clock: SimulatedClock) -> None:
    policy = load_policy_text(
        "policy: p\nprogram: {duration: 6 months, goals: [{id: leadership, title: Leadership}, Career]}\n"
        "phases: {intake: {initial: true}, closed: {terminal: true}}\n"
        "transitions: [{trigger: close, from: intake, to: closed, requires: [reason]}]\n",
        "p.yaml",
    )
    mentee = example_people()[-1].model_copy(
        update={"role": "mentee", "goals": ("leadership: Chair the team meeting", "career: a plan", "x: y")}
    )
    rel = import_participants(store, policy, clock, [mentee], actor="hr").relationships_opened[0]

    assert [(r.title, r.program_goal) for r in _rows(store, rel)] == [
        ("Chair the team meeting", "leadership"), ("a plan", "career"), ("x: y", None)
    ]  # fmt: skip


def test_a_coordinator_sets_a_goal_and_records_how_far_the_mentee_got(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    target = date(2026, 6, 1)

    new = NewGoal(rel, " Present  to the board ", "communication", target)
    (gid,) = set_goals(store, policy, clock, [new], actor="coordinator")
    assert record_levels(store, policy, clock, [GoalLevel(rel, gid, "started")], actor="coordinator") == 1
    assert record_levels(store, policy, clock, [GoalLevel(rel, gid, "started")], actor="coordinator") == 0
    clock.advance(timedelta(days=3))
    assert record_levels(store, policy, clock, [GoalLevel(rel, gid, "reached")], actor="coordinator") == 1

    row = _rows(store, rel)[-1]
    assert (row.title, row.program_goal, row.target_date, row.status) == (
        "Present to the board", "communication", target, "reached"
    )  # fmt: skip
    assert row.reached_at == clock.now()
    assert _entries(store, rel, "set_goal")[-1] == {
        "goal": {"id": gid, "program_goal": "communication", "target": "2026-06-01"}
    }
    assert _entries(store, rel, "goal_progress") == [
        {"goal": {"id": gid, "level": "started", "was": "not_started"}},
        {"goal": {"id": gid, "level": "reached", "was": "started"}},
    ]
    assert [g["title"] for g in goal_list(store, policy, rel)][-1] == "Present to the board"
    assert queries.verify(store).problems == []


@pytest.mark.parametrize(
    ("goal", "error", "fragment"),
    [
        (NewGoal(1, "   "), InputError, "the goal has no title"),
        (NewGoal(1, "x" * 201), InputError, "at most 200"),
        (NewGoal(1, "New", "nope"), InputError, "unknown program goal 'nope' (expected one of: leadership,"),
        (NewGoal(1, "New", target=date(2025, 1, 1)), InputError, "2025-01-01 is in the past"),
        (NewGoal(99, "New"), NotFoundError, "no relationship 99"),
        (NewGoal(1, "LEAD a technical  design within a year"), RefusedError, "already has the goal"),
    ],
)
def test_a_bad_goal_is_refused_naming_what_is_wrong_and_nothing_is_written(
    store: Engine, policy: Policy, clock: SimulatedClock, goal: NewGoal, error: type[Exception], fragment: str
) -> None:
    import_examples(store, policy, clock)
    with store.connect() as conn:
        before = conn.execute(select(goals)).all()

    with pytest.raises(error) as raised:
        set_goals(store, policy, clock, [NewGoal(1, "A fine goal"), goal], actor="coordinator")

    assert fragment.lower() in str(raised.value).lower()
    with store.connect() as conn:
        assert conn.execute(select(goals)).all() == before


def test_a_level_must_be_one_of_four_and_the_goal_the_pair_s(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    first, second = import_examples(store, policy, clock)[:2]
    theirs = _rows(store, second)[0].id
    with pytest.raises(InputError, match="'done' is not a goal level"):
        record_levels(store, policy, clock, [GoalLevel(first, _rows(store, first)[0].id, "done")], actor="c")
    with pytest.raises(NotFoundError, match=f"relationship {first} has no goal {theirs}"):
        record_levels(store, policy, clock, [GoalLevel(first, theirs, "started")], actor="c")
    assert _entries(store, first, "goal_progress") == []


def test_the_mentee_s_final_answer_moves_their_goals_and_the_conditions_count_them(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    to_review(store, policy, lifecycle, clock, rel)
    answers = {**final_answers(store, rel), "goals": ["reached", "started"]}

    mentor_view = {**answers, "goals": ["partly"] * 2}
    recording.record_survey(store, policy, clock, rel, "final", "mentor", mentor_view, actor="mentor")
    assert {r.status for r in _rows(store, rel)} == {"not_started"}  # the mentor's view stays in the survey
    recording.record_survey(store, policy, clock, rel, "final", "mentee", answers, actor="mentee")

    assert [r.status for r in _rows(store, rel)] == ["reached", "started"]
    moved = [e["goal"] for e in _entries(store, rel, "goal_progress")]
    _, entries = queries.history(store, rel)
    answer = next(e.seq for e in entries if e.trigger == "record_survey" and e.actor == "mentee")
    assert [(g["survey"], g["answer"], g["was"]) for g in moved] == [("final", answer, "not_started")] * 2
    with UnitOfWork(store, write=False) as uow:
        row = rel_store.relationship_rows(uow.conn, [rel])[rel]
        facts = load_facts(uow, policy, [row], clock.now(), None, reads=frozenset({"goals"}))[rel]
    assert (facts.goals_set, facts.goals_reached) == (2, 1)


def test_a_re_import_adds_the_goals_new_in_the_file_and_removes_none(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    people = example_people()
    rel = import_participants(store, policy, clock, people, actor="hr").relationships_opened[0]
    first = next(i for i, p in enumerate(people) if p.role == "mentee")
    kept = people[first].goals[1]
    changed = people[first].model_copy(update={"goals": (kept, "mentor a newcomer", "Mentor  a newcomer")})

    import_participants(store, policy, clock, [*people[:first], changed, *people[first + 1 :]], actor="hr")
    import_participants(store, policy, clock, [*people[:first], changed, *people[first + 1 :]], actor="hr")

    assert [r.title for r in _rows(store, rel)] == [*people[first].goals, "mentor a newcomer"]
    (added,) = _entries(store, rel, "set_goal")  # the goal new in the file; the others came with the pair
    assert added["goal"]["id"] == _rows(store, rel)[-1].id


def test_goals_are_events_with_their_ids_and_levels_never_their_titles(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rel = import_examples(store, policy, clock)[0]
    (gid,) = set_goals(store, policy, clock, [NewGoal(rel, "Speak at a meetup", "network")], actor="c")
    record_levels(store, policy, clock, [GoalLevel(rel, gid, "started")], actor="c")

    events, _ = feed(store, "/mentorflow/test", 0, 1000)

    mine = [e for e in events if e["subject"] == f"relationships/{rel}"]
    created, goal_set, moved = mine[0], mine[-2], mine[-1]
    assert [g["id"] for g in created["data"]["goals"]] == [r.id for r in _rows(store, rel)[:2]]
    assert (goal_set["type"], goal_set["data"]["goal"]["program_goal"]) == (
        "mentorflow.relationship.goal_set",
        "network",
    )
    assert (moved["type"], moved["data"]["goal"]["level"]) == (
        "mentorflow.relationship.goal_progressed",
        "started",
    )
    assert "Speak at a meetup" not in str(events)


PULSE_WITH_GOALS = """\
surveys:
  pulse:
    send: {phase: active, after: 10 days}
    questions:
      - {id: satisfaction, type: scale, text: "How satisfied are you so far?"}
      - {id: goals, type: goals, text: "How far are you with each of your goals?", required: false}
"""


def test_a_pulse_survey_that_asks_about_the_goals_moves_them_on_mid_program(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = load_policy_text(DESIGN_BLOCK + PULSE_WITH_GOALS, "pulse.yaml")
    lifecycle = Lifecycle(policy)
    rel = import_examples(store, policy, clock)[0]
    fire(store, lifecycle, clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor="coordinator")
    fire(store, lifecycle, clock, rel, "start")
    clock.advance(timedelta(days=11))
    tick.run_tick(store, lifecycle, clock.now())  # the pulse goes out

    answers = {"satisfaction": 4, "goals": "started;not started"}
    recording.record_survey(store, policy, clock, rel, "pulse", "mentee", answers, actor="Zoë")

    assert [r.status for r in _rows(store, rel)] == ["started", "not_started"]
    (moved,) = _entries(store, rel, "goal_progress")
    assert (moved["goal"]["survey"], moved["goal"]["level"], moved["goal"]["was"]) == (
        "pulse", "started", "not_started"
    )  # fmt: skip
