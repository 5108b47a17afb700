"""``policy apply``: a new version of a policy is put in force deliberately, in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.errors import InputError
from engine.policy.model import Policy, load_policy_text
from engine.services import policy_apply, queries
from engine.services.policy_apply import ApplyRequest, PolicyVersionError, apply_policy, check_in_force
from engine.store.tables import audit_entries, relationships
from tests.web.conftest import dump

from .support import paused_first_pair, without_paused_text


@pytest.fixture
def paused(store: Engine, clock: SimulatedClock) -> tuple[Policy, list[int]]:
    """The example mentees under with-pause, the first pair active, then paused, three days ago."""
    old, rels = paused_first_pair(store, clock)
    clock.advance(timedelta(days=3))
    return old, rels


def _new() -> Policy:
    return load_policy_text(without_paused_text(), "with-pause-v2.yaml")


def test_a_pair_in_a_removed_phase_refuses_the_application_and_nothing_is_written(
    store: Engine, clock: SimulatedClock, paused: tuple[Policy, list[int]]
) -> None:
    _, rels = paused
    before = dump(store)

    with pytest.raises(InputError) as refused:
        apply_policy(store, clock, ApplyRequest(_new(), "hr"))

    assert "stranded" in refused.value.message
    assert any(f"'paused': relationship(s) {rels[0]}" in p for p in refused.value.problems)
    assert any("`map` paused=PHASE" in p for p in refused.value.problems)
    assert dump(store) == before


@pytest.mark.parametrize(
    ("mapping", "named"), [({"nowhere": "active"}, "'nowhere'"), ({"paused": "holiday"}, "'holiday'")]
)
def test_a_mapping_must_name_an_old_phase_and_a_new_one(
    store: Engine,
    clock: SimulatedClock,
    paused: tuple[Policy, list[int]],
    mapping: dict[str, str],
    named: str,
) -> None:
    before = dump(store)

    with pytest.raises(InputError) as refused:
        apply_policy(store, clock, ApplyRequest(_new(), "hr", mapping))

    assert refused.value.message.startswith("`map`")
    assert any(named in problem for problem in refused.value.problems)
    assert dump(store) == before


def test_the_mapping_moves_the_pairs_and_the_history_still_verifies_and_replays(
    store: Engine, clock: SimulatedClock, paused: tuple[Policy, list[int]]
) -> None:
    old, rels = paused
    new = _new()
    a_moment_before = clock.now() - timedelta(seconds=1)
    with store.connect() as conn:
        due_before = dict(conn.execute(select(relationships.c.id, relationships.c.due_at)).all())

    done = apply_policy(store, clock, ApplyRequest(new, "hr", {"paused": "active"}, "pause retired"))

    assert done.moved == {rels[0]: ("paused", "active")}
    assert done.application.relationships == len(rels)  # none of them is closed
    assert (done.application.from_digest, done.application.to_digest) == (old.digest, new.digest)
    assert queries.verify(store).problems == []
    rel, entries = queries.history(store, rels[0])
    last = entries[-1]
    assert (rel.phase, last.trigger, last.from_phase, last.to_phase) == (
        "active", "policy_mapped", "paused", "active",
    )  # fmt: skip
    assert last.policy_version == new.digest and last.reason == "pause retired"
    assert last.data == {"from_version": old.digest, "to_version": new.digest, "mapped": {"paused": "active"}}
    stayed = queries.history(store, rels[1])[1][-1]
    assert (stayed.trigger, stayed.from_phase, stayed.to_phase) == ("policy_applied", "intake", "intake")
    with store.connect() as conn:
        due_after = dict(conn.execute(select(relationships.c.id, relationships.c.due_at)).all())
    assert due_after[rels[0]] != due_before[rels[0]] and due_after[rels[0]] is not None
    then = queries.status(store, old, clock.now(), as_of=a_moment_before)
    assert then.phases["paused"] == 1 and then.replayed
    now = queries.status(store, new, clock.now())
    assert now.stranded == [] and now.phases["active"] == 1
    assert policy_apply.version_in_force(store, "with-pause") == new.digest


def test_an_unapplied_version_is_refused_until_applied_unless_pinned(
    store: Engine, clock: SimulatedClock, paused: tuple[Policy, list[int]]
) -> None:
    old, _ = paused
    new = _new()
    check_in_force(store, old)  # the version the relationships were written under

    with pytest.raises(PolicyVersionError) as refused:
        check_in_force(store, new)

    assert "mentorflow policy plan NEW.yaml" in refused.value.problems[0]
    assert "mentorflow policy apply NEW.yaml" in refused.value.problems[1]
    check_in_force(store, new, pinned=True)
    apply_policy(store, clock, ApplyRequest(new, "hr", {"paused": "active"}))
    check_in_force(store, new)
    with pytest.raises(PolicyVersionError):
        check_in_force(store, old)


def test_the_history_lists_each_application(
    store: Engine, clock: SimulatedClock, paused: tuple[Policy, list[int]]
) -> None:
    old, rels = paused
    new = _new()
    apply_policy(store, clock, ApplyRequest(new, "hr", {"paused": "active"}, "pause retired"))
    clock.advance(timedelta(days=1))
    apply_policy(store, clock, ApplyRequest(old, "coordinator", reason="back again"))

    found = policy_apply.applications(store, "with-pause")

    assert [(a.from_digest, a.to_digest, a.applied_by, a.reason) for a in found] == [
        (old.digest, new.digest, "hr", "pause retired"),
        (new.digest, old.digest, "coordinator", "back again"),
    ]
    assert found[0].mapping == {"paused": "active"} and found[0].relationships == len(rels)
    assert policy_apply.applications(store, "default") == []
    with store.connect() as conn:
        entries = conn.execute(
            select(audit_entries.c.trigger).where(audit_entries.c.relationship_id == rels[0])
        ).scalars()
        assert list(entries)[-2:] == ["policy_mapped", "policy_applied"]
