"""One set of constraints for a manual match, overrides, and `match replace` (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.domain.participants import Participant
from engine.errors import InputError, RefusedError
from engine.policy.model import Policy, load_policy_text, shipped_policies
from engine.services import advance as services
from engine.services import matching as match_service
from engine.services import queries, recording
from engine.services.opening import open_relationships
from engine.services.participants import import_participants
from engine.services.replacing import ReplaceRequest, replace_mentor
from engine.store.tables import metadata, participants, relationships
from tests.integration.support import default_with_matching, example_people, fire, outbox_rows

ZOE, THIJS, PRIYA, BRAM = 0, 1, 9, 6  # indexes of the relationships the examples open
JEROEN, FATIMA, MARIEKE, ANOUK = "E1001", "E1002", "E1004", "E1006"
COORDINATOR = "coordinator"


def dump(store: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to show that a refusal wrote nothing."""
    with store.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr)
            for t in metadata.sorted_tables
        }


def _import(store: Engine, policy: Policy, clock: SimulatedClock, *extra: Participant) -> list[int]:
    people = [*example_people(), *extra]
    return import_participants(store, policy, clock, people, actor="hr").relationships_opened


def _policy_with(extra: str) -> Policy:
    return load_policy_text(default_with_matching(extra), "custom.yaml")


def _match(store: Engine, lc: Lifecycle, clock: SimulatedClock, rel: int, mentor: str, **kw: Any) -> Any:
    request = services.AdvanceRequest(rel, "match", COORDINATOR, mentor=mentor, **kw)
    return services.advance(store, lc, clock, request)


def _mentor_of(store: Engine, rel: int) -> int | None:
    with store.connect() as conn:
        return conn.execute(select(relationships.c.mentor_id).where(relationships.c.id == rel)).scalar_one()


def _id_of(store: Engine, key: str) -> int:
    with store.connect() as conn:
        return int(
            conn.execute(select(participants.c.id).where(participants.c.external_id == key)).scalar_one()
        )


# -- each hard constraint on a manual match --------------------------------------------------------


def _capacity(store: Engine, policy: Policy, lc: Lifecycle, clock: SimulatedClock, rels: list[int]) -> int:
    _match(store, lc, clock, rels[THIJS], ANOUK)  # Anouk's one place
    return rels[BRAM]


def _no_rematch(store: Engine, policy: Policy, lc: Lifecycle, clock: SimulatedClock, rels: list[int]) -> int:
    _match(store, lc, clock, rels[THIJS], JEROEN)
    fire(store, lc, clock, rels[THIJS], "close", reason="wrong start")
    mentee = _id_of(store, "E1102")
    return open_relationships(store, policy, clock, [mentee], actor=COORDINATOR)[0]


def _rejected(store: Engine, policy: Policy, lc: Lifecycle, clock: SimulatedClock, rels: list[int]) -> int:
    match_service.propose(store, lc, clock, actor=COORDINATOR)
    row = match_service.proposals_of(store, rels[THIJS])[0]
    assert row["mentor_key"] == MARIEKE
    match_service.reject(store, clock, [rels[THIJS]], "they fell out", actor=COORDINATOR)
    return rels[THIJS]


def _self(store: Engine, policy: Policy, lc: Lifecycle, clock: SimulatedClock, rels: list[int]) -> int:
    with store.begin() as conn:  # re-imported as a mentor, as the issue found possible
        conn.execute(update(participants).where(participants.c.external_id == "E1101").values(role="mentor"))
    return rels[ZOE]


def _nothing(store: Engine, policy: Policy, lc: Lifecycle, clock: SimulatedClock, rels: list[int]) -> int:
    return rels[ZOE]


Setup = Callable[[Engine, Policy, Lifecycle, SimulatedClock, list[int]], int]
DEPARTMENTS = "matching:\n  constraints: {different_department: true}\n"
TIMEZONES = "matching:\n  constraints: {max_timezone_hours: 2}\n"
CASES: list[tuple[str, Setup, str, str, str]] = [
    (
        "reporting_line",
        lambda s, p, lc, c, r: r[ZOE],
        ANOUK,
        "",
        "in the mentee's reporting line: is the mentee's manager",
    ),
    ("capacity", _capacity, ANOUK, "", "no places left (1 of 1 mentees)"),
    ("min_level_gap", lambda s, p, lc, c, r: r[PRIYA], ANOUK, "", "level 4 is not 1 above the mentee's 4"),
    ("shared_language", lambda s, p, lc, c, r: r[-1], JEROEN, "", "no language in common (speaks nl, en)"),
    ("no_rematch", _no_rematch, JEROEN, "", "already had a relationship with the mentee"),
    ("rejected", _rejected, MARIEKE, "", "rejected by the coordinator: they fell out"),
    (
        "different_department",
        lambda s, p, lc, c, r: r[BRAM],
        JEROEN,
        DEPARTMENTS,
        "same department (Engineering)",
    ),
    (
        "max_timezone_hours",
        lambda s, p, lc, c, r: r[PRIYA],
        JEROEN,
        TIMEZONES,
        "4.5 h apart (at most 2 h allowed)",
    ),
]
POLE = Participant(
    role="mentee", name="Piotr Nowak", email="piotr@example.com", external_id="E1199", languages=("pl",)
)


@pytest.mark.parametrize(("name", "setup", "mentor", "custom", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_manual_match_obeys_each_hard_constraint_unless_overridden(
    store: Engine,
    policy: Policy,
    clock: SimulatedClock,
    name: str,
    setup: Setup,
    mentor: str,
    custom: str,
    message: str,
) -> None:
    chosen = _policy_with(custom) if custom else policy
    lc = Lifecycle(chosen)
    rel = setup(store, chosen, lc, clock, _import(store, chosen, clock, POLE))
    before = dump(store)

    with pytest.raises(RefusedError) as refused:
        _match(store, lc, clock, rel, mentor)
    assert f"{message} ({name})" in refused.value.message
    assert f"`override` {name}" in refused.value.message
    assert dump(store) == before

    entry = _match(store, lc, clock, rel, mentor, overrides=(name,), reason="the coordinator knows them both")
    assert entry.to_phase == "matched"
    assert entry.data["override"]["constraints"] == [name]
    assert entry.data["override"]["reason"] == "the coordinator knows them both"
    assert any(message in text_ for text_ in entry.data["override"]["overruled"])


def test_role_and_self_can_never_be_overridden(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    lc = Lifecycle(policy)
    rels = _import(store, policy, clock)
    _self(store, policy, lc, clock, rels)
    before = dump(store)
    with pytest.raises(RefusedError, match=r"is the mentee themselves \(self\)"):
        _match(store, lc, clock, rels[ZOE], "E1101")
    with pytest.raises(RefusedError, match=r"is a mentee, not a mentor \(role\)"):
        _match(store, lc, clock, rels[ZOE], "E1102")
    with pytest.raises(InputError, match="self cannot be overridden"):
        _match(store, lc, clock, rels[ZOE], "E1101", overrides=("self",), reason="x")
    assert dump(store) == before


def test_overrides_are_checked_before_anything_is_written(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    lc = Lifecycle(policy)
    rels = _import(store, policy, clock)
    before = dump(store)
    with pytest.raises(
        InputError, match=r"unknown constraint 'same_site' \(known: capacity, reporting_line, "
    ):
        _match(store, lc, clock, rels[ZOE], ANOUK, overrides=("same_site",), reason="x")
    with pytest.raises(InputError, match="`reason`: say why the constraint is overridden"):
        _match(store, lc, clock, rels[ZOE], ANOUK, overrides=("reporting_line",))
    with pytest.raises(InputError, match="applies to a mentor chosen by hand"):
        services.advance(
            store, lc, clock, services.AdvanceRequest(rels[ZOE], "close", "c", "x", overrides=("capacity",))
        )
    assert dump(store) == before


# -- match replace -----------------------------------------------------------------------------------


def _replace(store: Engine, policy: Policy, clock: SimulatedClock, rel: int, mentor: str, **kw: Any) -> Any:
    return replace_mentor(
        store, policy, clock, ReplaceRequest(rel, mentor, kw.pop("reason", "wrong match"), COORDINATOR, **kw)
    )


@pytest.mark.parametrize("phase", ["matched", "kickoff"])
def test_replace_gives_another_mentor_frees_the_old_place_and_messages_the_new_one(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, phase: str
) -> None:
    rels = _import(store, policy, clock)
    rel = rels[THIJS]
    _match(store, lifecycle, clock, rel, ANOUK)  # Anouk has one place
    if phase == "kickoff":
        fire(store, lifecycle, clock, rel, "schedule_kickoff")
    first = {r["idempotency_key"] for r in outbox_rows(store, rel)}

    entry = _replace(store, policy, clock, rel, JEROEN, reason="Anouk is leaving the team")

    assert (entry.trigger, entry.from_phase, entry.to_phase) == ("replace_mentor", phase, phase)
    assert entry.data["old_mentor"] == ANOUK and entry.data["mentor"] == JEROEN
    assert entry.reason == "Anouk is leaving the team"
    assert _mentor_of(store, rel) == _id_of(store, JEROEN)
    rows = outbox_rows(store, rel)
    new = [r for r in rows if r["idempotency_key"] not in first]
    assert {r["params"]["recipient"] for r in new} == {"mentor"}
    assert all(r["idempotency_key"].startswith(f"rel:{rel}:entry:{entry.seq}:") for r in new)
    expected = {"matched": {"notify_pair", "enrol_mentor_training"}, "kickoff": {"schedule_kickoff_meeting"}}
    assert {r["action"] for r in new} == expected[phase]
    old_to_mentor = [
        r for r in rows if r["idempotency_key"] in first and r["params"]["recipient"] == "mentor"
    ]
    assert {r["status"] for r in old_to_mentor if r["action"] in expected[phase]} == {"skipped"}
    # the old mentor's place is free: she can take another mentee at capacity 1
    assert _match(store, lifecycle, clock, rels[BRAM], ANOUK).to_phase == "matched"
    # history, replay and verification know the entry
    _, history = queries.history(store, rel)
    assert history[-1].trigger == "replace_mentor"
    assert queries.verify(store).problems == []
    replayed = queries.status(store, policy, clock.now(), as_of=clock.now())
    assert replayed.phases[phase] >= 1


def test_replace_is_refused_with_the_reason_and_writes_nothing(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = _import(store, policy, clock)
    rel = rels[THIJS]
    before = dump(store)
    with pytest.raises(RefusedError, match="is in 'intake': policy 'default' allows replacing"):
        _replace(store, policy, clock, rels[ZOE], JEROEN)
    assert dump(store) == before
    _match(store, lifecycle, clock, rel, JEROEN)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor=COORDINATOR)
    fire(store, lifecycle, clock, rel, "start")
    before = dump(store)
    with pytest.raises(
        RefusedError,
        match=r"is in 'active': policy 'default' allows replacing a mentor only in 'matched', 'kickoff'",
    ):
        _replace(store, policy, clock, rel, MARIEKE)
    assert dump(store) == before
    fire(store, lifecycle, clock, rel, "close", reason="done early")
    before = dump(store)
    with pytest.raises(RefusedError, match="a terminal phase"):
        _replace(store, policy, clock, rel, MARIEKE)
    assert dump(store) == before


def test_replace_with_the_same_mentor_or_against_a_constraint_is_refused(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    rels = _import(store, policy, clock)
    _match(store, lifecycle, clock, rels[ZOE], FATIMA)
    before = dump(store)
    with pytest.raises(RefusedError, match="is already the mentor of relationship"):
        _replace(store, policy, clock, rels[ZOE], FATIMA)
    with pytest.raises(RefusedError, match=r"is the mentee's manager \(reporting_line\)"):
        _replace(store, policy, clock, rels[ZOE], ANOUK)
    with pytest.raises(InputError, match="`reason`: say why the mentor is replaced"):
        _replace(store, policy, clock, rels[ZOE], JEROEN, reason="  ")
    assert dump(store) == before
    entry = _replace(
        store, policy, clock, rels[ZOE], ANOUK, overrides=("reporting_line",), reason="agreed with HR"
    )
    assert entry.data["override"]["constraints"] == ["reporting_line"]


def test_a_policy_may_allow_replacing_in_active(store: Engine, clock: SimulatedClock) -> None:
    policy = _policy_with("matching:\n  replace_in: [matched, kickoff, active]\n")
    lifecycle = Lifecycle(policy)
    rel = _import(store, policy, clock)[THIJS]
    _match(store, lifecycle, clock, rel, JEROEN)
    fire(store, lifecycle, clock, rel, "schedule_kickoff")
    recording.record_meeting(store, policy, clock, rel, "kickoff", None, actor=COORDINATOR)
    fire(store, lifecycle, clock, rel, "start")
    with store.connect() as conn:
        entered = conn.execute(
            text(f"SELECT phase_entered_at FROM relationships WHERE id = {rel}")
        ).scalar_one()

    entry = _replace(store, policy, clock, rel, MARIEKE)

    assert entry.to_phase == "active"
    with store.connect() as conn:
        assert (
            conn.execute(text(f"SELECT phase_entered_at FROM relationships WHERE id = {rel}")).scalar_one()
            == entered
        )
    assert queries.verify(store).problems == []


def test_replace_in_is_validated_when_the_policy_loads() -> None:
    from engine.errors import PolicyError

    with pytest.raises(PolicyError) as bad:
        _policy_with("matching:\n  replace_in: [matchd, closed, intake]\n")
    problems = "\n".join(bad.value.problems)
    assert 'matching.replace_in[0]: unknown phase "matchd": did you mean "matched"?' in problems
    assert 'matching.replace_in[1]: "closed" is a terminal phase' in problems
    assert 'matching.replace_in[2]: "intake" is the initial phase' in problems
    plain = load_policy_text(Path(shipped_policies()["default"]).read_text(encoding="utf-8"), "d.yaml")
    assert "replace_in" not in plain.normalised()["matching"]  # shipped policies keep their digests
