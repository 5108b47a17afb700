"""Matching against the store: runs, approval through the lifecycle, rejection, stale proposals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.errors import ConflictError, InputError, NotFoundError, RefusedError
from engine.policy.model import Policy, load_policy_text, shipped_policies
from engine.services import advance as advancing
from engine.services import matching as match_service
from engine.services import participants as services
from engine.services import queries
from engine.services.advance_each import advance_each
from engine.store.database import UnitOfWork, open_engine
from engine.store.tables import audit_entries, match_proposals, outbox, relationships
from tests.design_policy import matching_merged

from .support import SINGLE_MENTOR, TRAINED_MENTOR, example_people, fire, import_examples

COORDINATOR = "coordinator@example.com"
ZOE, THIJS, SANNE, LOTTE, BRAM = 1, 2, 3, 4, 7  # relationships, in the order of examples/participants.csv


def proposals(store: Engine) -> dict[tuple[int, int], dict[str, object]]:
    """Every proposal row by (run, relationship)."""
    with store.connect() as conn:
        rows = conn.execute(select(match_proposals)).mappings().all()
    return {(row["run"], row["relationship_id"]): dict(row) for row in rows}


def mentor_of(store: Engine, rel_id: int) -> int | None:
    with store.connect() as conn:
        query = select(relationships.c.mentor_id).where(relationships.c.id == rel_id)
        return conn.execute(query).scalar_one()


def with_matching(section: str) -> Policy:
    """The default policy with ``section`` (indented keys) added to its ``matching:`` block."""
    text = Path(shipped_policies()["default"]).read_text(encoding="utf-8")
    return load_policy_text(matching_merged(text, section), "team.yaml")


@pytest.fixture
def waiting(store: Engine, policy: Policy, clock: SimulatedClock) -> list[int]:
    return import_examples(store, policy, clock)


def test_a_run_stores_a_proposal_or_a_reason_for_every_waiting_relationship(
    store: Engine, lifecycle: Lifecycle, clock: SimulatedClock, waiting: list[int]
) -> None:
    run = match_service.propose(store, lifecycle, clock, actor=COORDINATOR)

    rows = proposals(store)
    assert run.run == 1
    assert sorted(rel for _, rel in rows) == waiting
    assert {rows[(1, rel)]["status"] for rel in (ZOE, SANNE)} == {"unmatched"}
    assert rows[(1, LOTTE)]["status"] == "pending"
    lotte = rows[(1, LOTTE)]
    assert isinstance(lotte["score"], float) and lotte["score"] > 0.9
    assert [c["criterion"] for c in lotte["breakdown"]["criteria"]] == [
        "skills",
        "goals_and_interests",
        "compatibility",
        "language",
        "timezone",
        "qualities",
    ]
    assert mentor_of(store, LOTTE) is None  # nothing is matched before the coordinator approves
    zoe = match_service.proposals_of(store, ZOE)[0]["explanation"]
    assert zoe["reason_kind"] == "below_minimum"
    assert [r["key"] for r in zoe["ruled_out"]] == ["E1001", "E1006"]


def test_approval_matches_the_pair_and_the_audit_entry_carries_the_proposal(
    store: Engine, lifecycle: Lifecycle, clock: SimulatedClock, waiting: list[int]
) -> None:
    match_service.propose(store, lifecycle, clock, actor=COORDINATOR)

    decided = match_service.approve(store, lifecycle, clock, [LOTTE], actor="Hanna (HR)")

    assert decided.done == [LOTTE] and decided.refused == {}
    current, entries = queries.history(store, LOTTE)
    assert current.phase == "matched"
    last = entries[-1]
    assert (last.trigger, last.actor, last.from_phase, last.to_phase) == (
        "match",
        "Hanna (HR)",
        "intake",
        "matched",
    )
    assert last.data["mentor"] == "E1005"
    proposal = last.data["proposal"]
    assert proposal["approved_by"] == "Hanna (HR)"
    assert proposal["approval"] == "by the coordinator"
    assert proposal["score"] > 0.9
    assert set(proposal["breakdown"]) == {
        "skills",
        "goals_and_interests",
        "compatibility",
        "language",
        "timezone",
        "qualities",
    }
    row = proposals(store)[(1, LOTTE)]
    assert (row["status"], row["decided_by"]) == ("approved", "Hanna (HR)")
    assert queries.verify(store).problems == []


def test_proposals_at_or_above_the_policy_threshold_are_approved_at_once(
    store: Engine, clock: SimulatedClock, waiting: list[int]
) -> None:
    lifecycle = Lifecycle(with_matching("  auto_approve_at: 0.75\n"))

    run = match_service.propose(store, lifecycle, clock, actor=COORDINATOR)

    high = sorted(r["relationship_id"] for r in run.rows if r["score"] is not None and r["score"] >= 0.75)
    assert run.approved == high and LOTTE in high
    assert all(mentor_of(store, rel) is not None for rel in high)
    low = [r["relationship_id"] for r in run.rows if r["status"] == "pending"]
    assert low and all(mentor_of(store, rel) is None for rel in low)
    entry = queries.history(store, LOTTE)[1][-1]
    assert entry.data["proposal"]["approval"].startswith(
        "automatically: score 0.99 is at least auto_approve_at 0.75"
    )


def test_a_new_run_supersedes_what_is_pending_and_never_proposes_a_rejected_pair_again(
    store: Engine, lifecycle: Lifecycle, clock: SimulatedClock, waiting: list[int]
) -> None:
    match_service.propose(store, lifecycle, clock, actor=COORDINATOR)
    rejected_mentor = proposals(store)[(1, THIJS)]["mentor_id"]
    match_service.approve(store, lifecycle, clock, [LOTTE], actor=COORDINATOR)
    match_service.reject(store, clock, [THIJS], "the mentor is on leave", actor=COORDINATOR)

    match_service.propose(store, lifecycle, clock, actor=COORDINATOR)

    rows = proposals(store)
    assert rows[(1, LOTTE)]["status"] == "approved"
    assert (rows[(1, THIJS)]["status"], rows[(1, THIJS)]["reason"]) == ("rejected", "the mentor is on leave")
    assert rows[(1, BRAM)]["status"] == "superseded"
    assert (2, LOTTE) not in rows  # matched: no longer waiting
    assert rows[(2, THIJS)]["mentor_id"] != rejected_mentor
    counts = rows[(2, THIJS)]["explanation"]["ruled_out_counts"]
    assert counts["rejected"] == 1


def test_approval_is_refused_when_the_mentor_filled_up_meanwhile(
    store: Engine, lifecycle: Lifecycle, clock: SimulatedClock, waiting: list[int]
) -> None:
    match_service.propose(store, lifecycle, clock, actor=COORDINATOR)
    assert proposals(store)[(1, BRAM)]["explanation"]["mentor"]["key"] == "E1006"
    fire(store, lifecycle, clock, SANNE, "match", mentor="E1006")  # Anouk's one place, by hand

    decided = match_service.approve(store, lifecycle, clock, [BRAM, LOTTE], actor=COORDINATOR)

    assert decided.done == [LOTTE]
    assert "no places left" in decided.refused[BRAM]
    assert proposals(store)[(1, BRAM)]["status"] == "pending"
    assert mentor_of(store, BRAM) is None


def test_approval_rechecks_the_constraints_against_todays_records(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, waiting: list[int]
) -> None:
    match_service.propose(store, lifecycle, clock, actor=COORDINATOR)
    bram = next(p for p in example_people() if p.external_id == "E1107")
    moved = bram.model_copy(update={"manager_id": "E1006"})  # Bram now reports to Anouk, his proposed mentor
    services.import_participants(store, policy, clock, [moved], actor="hr")

    decided = match_service.approve(store, lifecycle, clock, [BRAM], actor=COORDINATOR)

    assert decided.refused[BRAM] == (
        f"the proposal of relationship {BRAM} no longer holds (in the mentee's reporting line: is the "
        "mentee's manager); run `mentorflow match propose` again"
    )
    assert mentor_of(store, BRAM) is None


def test_an_approval_that_matched_but_was_not_marked_is_marked_next_time(
    store: Engine, lifecycle: Lifecycle, clock: SimulatedClock, waiting: list[int]
) -> None:
    match_service.propose(store, lifecycle, clock, actor=COORDINATOR)
    fire(
        store, lifecycle, clock, LOTTE, "match", mentor="E1005"
    )  # as if the approval crashed after the advance

    decided = match_service.approve(store, lifecycle, clock, [LOTTE], actor=COORDINATOR)

    assert decided.done == [LOTTE]
    assert proposals(store)[(1, LOTTE)]["status"] == "approved"
    assert [e.trigger for e in queries.history(store, LOTTE)[1]] == ["create", "match"]  # matched once


def test_approve_all_above_takes_every_pending_proposal_from_that_score(
    store: Engine, lifecycle: Lifecycle, clock: SimulatedClock, waiting: list[int]
) -> None:
    run = match_service.propose(store, lifecycle, clock, actor=COORDINATOR)
    expected = sorted(r["relationship_id"] for r in run.rows if r["score"] is not None and r["score"] >= 0.6)

    decided = match_service.approve(store, lifecycle, clock, above=0.6, actor=COORDINATOR)

    assert decided.done == expected and len(expected) >= 3


def test_rejection_needs_a_reason_and_a_pending_proposal_for_each_and_writes_all_or_nothing(
    store: Engine, lifecycle: Lifecycle, clock: SimulatedClock, waiting: list[int]
) -> None:
    match_service.propose(store, lifecycle, clock, actor=COORDINATOR)
    with pytest.raises(InputError, match="say why"):
        match_service.reject(store, clock, [LOTTE], "  ", actor=COORDINATOR)
    with pytest.raises(
        NotFoundError, match=f"no pending proposal for relationship {ZOE}; nothing was rejected"
    ):
        match_service.reject(store, clock, [LOTTE, ZOE], "no", actor=COORDINATOR)
    assert proposals(store)[(1, LOTTE)]["status"] == "pending"
    with pytest.raises(NotFoundError, match="no relationship 999"):
        match_service.proposals_of(store, 999)


def written(store: Engine) -> tuple[list[tuple[object, ...]], ...]:
    """What the store holds that a phase change writes: entries with hashes, rows, outbox keys."""
    with store.connect() as conn:
        entries = conn.execute(
            select(audit_entries.c.relationship_id, audit_entries.c.seq, audit_entries.c.hash).order_by(
                audit_entries.c.relationship_id, audit_entries.c.seq
            )
        ).all()
        rows = conn.execute(
            select(relationships.c.id, relationships.c.phase, relationships.c.mentor_id,
                   relationships.c.due_at, relationships.c.version, relationships.c.audit_head)
            .order_by(relationships.c.id)
        ).all()  # fmt: skip
        keys = conn.execute(select(outbox.c.idempotency_key).order_by(outbox.c.idempotency_key)).all()
    return [tuple(r) for r in entries], [tuple(r) for r in rows], [tuple(r) for r in keys]


def test_advance_each_writes_and_refuses_exactly_as_one_advance_per_request_in_turn(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, sqlite_template: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    shutil.copyfile(sqlite_template, tmp_path / "in-turn.db")
    apart = open_engine(f"sqlite:///{tmp_path / 'in-turn.db'}")
    rels = import_examples(store, policy, clock)
    assert import_examples(apart, policy, clock) == rels
    data = {"proposal": {"score": 0.5, "approved_by": COORDINATOR}}
    requests = [
        advancing.AdvanceRequest(THIJS, "match", COORDINATOR, mentor=SINGLE_MENTOR, data=data),
        advancing.AdvanceRequest(LOTTE, "match", COORDINATOR, mentor=SINGLE_MENTOR),  # her one place is taken
        advancing.AdvanceRequest(999, "match", COORDINATOR, mentor=TRAINED_MENTOR),
        advancing.AdvanceRequest(BRAM, "match", COORDINATOR, mentor="nobody@example.com"),
        advancing.AdvanceRequest(SANNE, "schedule_kickoff", COORDINATOR),  # not matched yet
        advancing.AdvanceRequest(ZOE, "match", COORDINATOR, mentor="E1001"),  # Jeroen is above Zoë
        advancing.AdvanceRequest(rels[-1], "match", COORDINATOR, mentor=TRAINED_MENTOR, data=data),
    ]

    with UnitOfWork(store) as uow:
        together = advance_each(uow, lifecycle, clock.now(), requests)
        uow.commit()
    in_turn = advancing.BatchResult()
    for request in requests:
        try:
            advancing.advance(apart, lifecycle, clock, request)
            in_turn.moved.append(request.relationship_id)
        except (RefusedError, NotFoundError) as exc:
            in_turn.refused[request.relationship_id] = exc.message

    assert together == in_turn
    assert together.moved == [THIJS, rels[-1]] and set(together.refused) == {LOTTE, 999, BRAM, SANNE, ZOE}
    assert written(store) == written(apart)
    assert queries.verify(store).problems == []
    apart.dispose()


def test_advance_each_checks_a_second_request_of_a_mentee_after_the_first(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    again = [
        advancing.AdvanceRequest(LOTTE, "match", COORDINATOR, mentor=TRAINED_MENTOR),
        advancing.AdvanceRequest(LOTTE, "match", COORDINATOR, mentor=SINGLE_MENTOR),  # the same one: the last
    ]

    with UnitOfWork(store) as uow:
        done = advance_each(uow, lifecycle, clock.now(), again)
        uow.commit()

    assert done.moved == [LOTTE] and done.refused == {}
    assert queries.history(store, LOTTE)[1][-1].data["mentor"] == SINGLE_MENTOR
    by_hand = advancing.AdvanceRequest(ZOE, "match", COORDINATOR, overrides=("level",))  # but no mentor
    with UnitOfWork(store) as uow, pytest.raises(InputError, match="applies to a mentor chosen by hand"):
        advance_each(uow, lifecycle, clock.now(), [by_hand])


def test_approvals_in_one_transaction_and_one_by_one_decide_and_write_the_same(
    store: Engine, policy: Policy, lifecycle: Lifecycle, clock: SimulatedClock, sqlite_template: Path,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    shutil.copyfile(sqlite_template, tmp_path / "one-by-one.db")
    apart = open_engine(f"sqlite:///{tmp_path / 'one-by-one.db'}")
    decided = []
    for target in (store, apart):
        import_examples(target, policy, clock)
        match_service.propose(target, lifecycle, clock, actor=COORDINATOR)
        pending = sorted(r for (_, r), row in proposals(target).items() if row["status"] == "pending")
        fire(target, lifecycle, clock, SANNE, "match", mentor="E1006")  # Anouk's one place, by hand
        fire(target, lifecycle, clock, LOTTE, "match", mentor="E1005")  # as if crashed before the mark
        with monkeypatch.context() as patched:
            if target is apart:  # the fallback after a conflict: one advance and one mark per proposal

                def conflict(*args: object) -> advancing.BatchResult:
                    raise ConflictError("a relationship was changed by another writer meanwhile")

                patched.setattr(match_service, "advance_each", conflict)
            asked = [BRAM, *pending, ZOE, 999, BRAM]
            decided.append(match_service.approve(target, lifecycle, clock, asked, actor=COORDINATOR))

    together, one_by_one = decided
    assert together == one_by_one
    assert LOTTE in together.done and len(together.done) >= 2
    assert list(together.refused) == [BRAM, ZOE, 999] and "no places left" in together.refused[BRAM]
    assert written(store) == written(apart)
    assert proposals(store) == proposals(apart)
    assert queries.verify(store).problems == []
    apart.dispose()
