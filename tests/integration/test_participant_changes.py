"""An import that changes only what the file says; participants' own audit chains; leave; opening again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from engine.clock import SimulatedClock
from engine.domain.lifecycle import Lifecycle
from engine.errors import InputError, RefusedError
from engine.files.participants import read_participants, read_participants_text
from engine.policy.model import Policy, load_policy, shipped_policies
from engine.services import journeys, leave, queries
from engine.services import participants as services
from engine.services.participant_history import participant_history
from engine.store.database import UnitOfWork
from engine.store.participant_entries import record_participant_change
from engine.store.participants import mark_trained
from engine.store.tables import metadata, participants, relationships

from .support import fire, import_examples


def dump(store: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: a refusal or a dry run must leave it as it was."""
    with store.connect() as conn:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key))]
            for t in metadata.sorted_tables
        }


def person(store: Engine, key: str) -> dict[str, Any]:
    with store.connect() as conn:
        return dict(
            conn.execute(select(participants).where(participants.c.external_id == key)).mappings().one()
        )


def run_import(
    store: Engine, policy: Policy, clock: SimulatedClock, text_: str, **kw: Any
) -> services.ImportSummary:
    read = read_participants_text(text_, "people.csv")
    return services.import_participants(
        store, policy, clock, read.people, actor="hr", columns=read.columns, rows=read.rows, **kw
    )


def train(store: Engine, key: str, clock: SimulatedClock) -> None:
    pid = person(store, key)["id"]
    with UnitOfWork(store) as uow:
        mark_trained(uow.conn, pid, clock.now())
        record_participant_change(uow.conn, pid, "coordinator", ["trained"], "training", clock.now())
        uow.commit()


EXAMPLES = Path(__file__).parents[2] / "examples" / "participants.csv"


def test_reimporting_twice_after_training_leaves_the_mentor_trained(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    untrained = next(p for p in read_participants(EXAMPLES).people if p.role == "mentor" and not p.trained)
    train(store, str(untrained.external_id), clock)
    for _ in range(2):
        read = read_participants(EXAMPLES)
        services.import_participants(store, policy, clock, read.people, actor="hr", columns=read.columns)
        assert person(store, str(untrained.external_id))["trained"] is True
    assert queries.verify(store).problems == []


def test_a_five_column_file_changes_only_those_columns(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    before = person(store, "E1001")

    summary = run_import(
        store, policy, clock,
        "external_id,role,name,email,capacity\n"
        "E1001,mentor,Jeroen van den Bergh,jeroen.vandenbergh@example.com,5\n",
    )  # fmt: skip

    after = person(store, "E1001")
    assert (summary.updated, summary.unchanged) == (1, 0)
    assert after["capacity"] == 5
    assert {
        k: v for k, v in after.items() if k not in ("capacity", "updated_at", "audit_seq", "audit_head")
    } == {k: v for k, v in before.items() if k not in ("capacity", "updated_at", "audit_seq", "audit_head")}
    _, entries = participant_history(store, "E1001")
    assert [(e["cause"], e["fields"]) for e in entries][-1] == ("import", ["capacity"])
    assert queries.verify(store).problems == []


def test_an_empty_cell_clears_its_field(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    import_examples(store, policy, clock)
    run_import(
        store,
        policy,
        clock,
        "external_id,role,name,email,department\nE1001,mentor,J,jeroen.vandenbergh@example.com,\n",
    )
    assert person(store, "E1001")["department"] is None


def test_a_dutch_excel_file_imports(
    store: Engine, policy: Policy, clock: SimulatedClock, tmp_path: Path
) -> None:
    path = tmp_path / "export.csv"
    rows = [
        "external_id;role;name;email;skills;trained;Employee Status",
        'E1;mentor;Jan;jan@example.com;"python;sql";ja;x',
    ]
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode() + b"\r\n")

    read = read_participants(path)
    services.import_participants(store, policy, clock, read.people, actor="hr", columns=read.columns)

    assert read.ignored == ("employee status",) and read.warning and "'employee status'" in read.warning
    jan = person(store, "E1")
    assert (jan["skills"], jan["trained"]) == (["python", "sql"], True)


def test_dry_run_writes_nothing_and_says_what_would_change(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    before = dump(store)

    summary = run_import(
        store, policy, clock,
        "external_id,role,name,email,capacity,status\n"
        "E1001,mentor,Jeroen van den Bergh,jeroen.vandenbergh@example.com,4,left\n"
        "E9,mentee,Nieuw,nieuw@example.com,,\n",
        dry_run=True,
    )  # fmt: skip

    assert dump(store) == before
    plans = {p.key: p for p in summary.people}
    assert ("capacity", 3, 4) in plans["E1001"].changes and ("status", "active", "left") in plans[
        "E1001"
    ].changes
    assert plans["E9"].action == "new" and plans["E9"].relationships
    assert summary.opened == 1


def test_unknown_columns_are_refused_when_strict() -> None:
    with pytest.raises(InputError) as caught:
        read_participants_text(
            "role,name,email,phone\nmentor,Jan,jan@example.com,06\n", "people.csv", strict=True
        )
    assert "unknown column 'phone'" in str(caught.value)


def test_a_manager_loop_is_refused_naming_its_rows(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    before = dump(store)
    with pytest.raises(InputError) as caught:
        run_import(
            store, policy, clock,
            "external_id,role,name,email,manager_id\nA1,mentor,A,a@example.com,B1\nB1,mentor,B,b@example.com,A1\n",
        )  # fmt: skip
    assert caught.value.exit_code == 2
    assert (
        "A1 → B1 → A1" in str(caught.value) and "row 1" in str(caught.value) and "row 2" in str(caught.value)
    )
    assert dump(store) == before


def test_a_role_change_with_an_open_relationship_is_refused(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    before = dump(store)
    with pytest.raises(RefusedError) as caught:
        run_import(
            store,
            policy,
            clock,
            "external_id,role,name,email\nE1101,mentor,Zoë Çelik,zoe.celik@example.com\n",
        )
    assert "cannot change role from mentee to mentor" in str(caught.value)
    assert dump(store) == before


def test_leave_pauses_where_the_policy_has_a_pause_and_return_resumes(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = load_policy(shipped_policies()["with-pause"])
    rels = import_examples(store, policy, clock)
    with store.begin() as conn:  # put the first pair in active, as if its kickoff had been held
        conn.execute(relationships.update().where(relationships.c.id == rels[0]).values(phase="active"))
    mentee = _mentee_key(store, rels[0])

    done = leave.change_status(store, policy, clock, mentee, "leave", reason="parental leave", actor="hr")

    assert [str(c) for c in done.consequences] == [f"relationship {rels[0]}: paused (pause)"]
    back = leave.change_status(store, policy, clock, mentee, "active", reason=None, actor="hr")
    assert [str(c) for c in back.consequences] == [f"relationship {rels[0]}: active (resume)"]
    _, entries = participant_history(store, mentee)
    assert [e["cause"] for e in entries] == ["create", "leave", "return"]


def test_leave_without_a_pause_tells_the_coordinator_and_left_closes(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    mentee = _mentee_key(store, rels[0])

    done = leave.change_status(store, policy, clock, mentee, "leave", reason="sick", actor="hr")
    assert "coordinator told (notify_coordinator)" in str(done.consequences[0])
    gone = leave.change_status(store, policy, clock, mentee, "left", reason="left the company", actor="hr")
    assert str(gone.consequences[0]) == f"relationship {rels[0]}: closed (close)"
    assert queries.verify(store).problems == []


def test_a_leave_without_reason_is_refused(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    import_examples(store, policy, clock)
    before = dump(store)
    with pytest.raises(InputError):
        leave.change_status(store, policy, clock, "E1101", "leave", reason=" ", actor="hr")
    assert dump(store) == before


def test_open_again_links_to_the_previous_relationship(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    rels = import_examples(store, policy, clock)
    mentee = _mentee_key(store, rels[0])
    before = dump(store)
    with pytest.raises(RefusedError) as caught:
        journeys.open_again(store, policy, clock, mentee, actor="coordinator")
    assert f"already has relationship {rels[0]} open" in str(caught.value)
    assert dump(store) == before
    fire(store, Lifecycle(policy), clock, rels[0], "close", reason="moved abroad")

    opened = journeys.open_again(store, policy, clock, mentee, actor="coordinator", reason="second try")

    assert opened.previous_id == rels[0] and opened.phase == "intake"
    with store.connect() as conn:
        row = (
            conn.execute(select(relationships).where(relationships.c.id == opened.relationship_id))
            .mappings()
            .one()
        )
    assert row["previous_id"] == rels[0]
    _, entries = queries.history(store, opened.relationship_id)
    assert entries[0].data["previous_id"] == rels[0] and entries[0].reason == "second try"
    assert queries.verify(store).problems == []


def test_a_tampered_participant_entry_is_detected(
    store: Engine, policy: Policy, clock: SimulatedClock
) -> None:
    import_examples(store, policy, clock)
    assert queries.verify(store).participant_entries == 20
    with store.begin() as conn:
        if store.dialect.name == "postgresql":
            conn.execute(
                text("ALTER TABLE participant_entries DISABLE TRIGGER participant_entries_append_only")
            )
        else:
            conn.execute(text("DROP TRIGGER participant_entries_no_update"))
        conn.execute(
            text("UPDATE participant_entries SET actor = 'mallory' WHERE seq = 1 AND participant_id = 1")
        )
        if store.dialect.name == "postgresql":
            conn.execute(
                text("ALTER TABLE participant_entries ENABLE TRIGGER participant_entries_append_only")
            )

    problems = [str(p) for p in queries.verify(store).problems]

    assert problems == ["participant 1, entry 1: edited: its content does not match its hash"]


def test_participant_entries_are_append_only(store: Engine, policy: Policy, clock: SimulatedClock) -> None:
    import_examples(store, policy, clock)
    with pytest.raises(Exception, match="append-only"), store.begin() as conn:
        conn.execute(text("DELETE FROM participant_entries"))


def _mentee_key(store: Engine, rel_id: int) -> str:
    with store.connect() as conn:
        query = select(participants.c.external_id).join(
            relationships, relationships.c.mentee_id == participants.c.id
        )
        return str(conn.execute(query.where(relationships.c.id == rel_id)).scalar_one())
