"""Group sessions through the services: planning (groups, audit entries, outbox rows, idempotent, dry
run), topping up a planned date, attendance and its refusals, and the invitation as delivered."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.delivery.channels.config import configured_channels
from engine.errors import InputError, NotFoundError, RefusedError
from engine.policy.model import load_policy_text
from engine.services import delivery as outbox
from engine.services import queries
from engine.services import sessions as service
from engine.store.database import UnitOfWork
from engine.store.sessions import attendance_by_relationship
from engine.store.tables import audit_entries, session_invitations
from engine.store.tables import outbox as outbox_table
from tests.design_policy import DESIGN_BLOCK

from .session_support import active_pairs, session_policy
from .support import footprint, import_examples


def _entries(store: Engine, trigger: str) -> list[tuple[int, dict[str, object]]]:
    query = select(audit_entries.c.relationship_id, audit_entries.c.data).where(
        audit_entries.c.trigger == trigger
    )
    with store.connect() as conn:
        return [(rel, data) for rel, data in conn.execute(query.order_by(audit_entries.c.id))]


def test_plan_invites_the_mentors_once_in_groups_and_is_idempotent(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = session_policy("mentors", 2)
    rels = active_pairs(store, policy, clock, 8)  # mentors E1004 (3 pairs), E1001 (3), E1002 (2)
    plan = service.plan_sessions(store, policy, clock, actor="coordinator")
    assert plan.new_invitations == 3 and plan.new_sessions == 2
    assert sorted(g.invited for g in plan.groups) == [1, 2]
    start = plan.groups[0].starts_at
    assert start > clock.now() and start.astimezone().weekday() == 3  # a Thursday, 15:00 in Amsterdam
    assert {(g.starts_at.hour, g.starts_at.minute) for g in plan.groups} == {(14, 0)}
    invited = _entries(store, "session_invited")
    assert len(invited) == 3 and all(set(data) == {"session"} for _, data in invited)
    assert {rel for rel, _ in invited} <= set(rels)
    assert all(data["session"]["invited"] == ["mentor"] for _, data in invited)  # type: ignore[index]
    with store.connect() as conn:
        rows = conn.execute(
            select(outbox_table).where(outbox_table.c.action == "schedule_group_session")
        ).all()
    assert len(rows) == 3 and all(row.params["recipient"] == "mentor" for row in rows)

    before = footprint(store)
    assert service.plan_sessions(store, policy, clock, actor="coordinator").groups == ()
    assert footprint(store) == before
    assert queries.verify(store).problems == []


def test_a_dry_run_writes_nothing_and_until_plans_each_date_with_stable_groups(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = session_policy("both", 4)
    active_pairs(store, policy, clock, 4)
    before = footprint(store)
    dry = service.plan_sessions(
        store, policy, clock, actor="c", until=clock.now() + timedelta(weeks=20), dry_run=True
    )
    assert dry.dry_run and dry.new_invitations > 0
    assert footprint(store) == before
    plan = service.plan_sessions(store, policy, clock, actor="c", until=clock.now() + timedelta(weeks=20))
    dates = sorted({g.starts_at for g in plan.groups})
    assert len(dates) == 3 and dates[1] - dates[0] == timedelta(weeks=8)
    assert [(g.starts_at, g.group_no, g.added) for g in dry.groups] == [
        (g.starts_at, g.group_no, g.added) for g in plan.groups
    ]
    groups_by_date = [
        {pid: g.group_no for g in plan.groups if g.starts_at == d for pid, _ in g.added} for d in dates
    ]
    assert groups_by_date[0] == groups_by_date[1] == groups_by_date[2]  # everyone keeps their group
    for group in plan.groups:
        assert group.invited <= 4


def test_a_pair_that_became_active_is_added_to_the_planned_date(store: Engine, clock: SimulatedClock) -> None:
    policy = session_policy("mentees", 8)
    opened = import_examples(store, policy, clock)
    active_pairs(store, policy, clock, 2, rels=opened)
    first = service.plan_sessions(store, policy, clock, actor="c")
    assert first.new_invitations == 2
    active_pairs(store, policy, clock, 1, rels=opened, skip=2)
    topped = service.plan_sessions(store, policy, clock, actor="c")
    assert topped.new_sessions == 0 and topped.new_invitations == 1
    assert topped.groups[0].session_id == first.groups[0].session_id and topped.groups[0].invited == 3


def test_attendance_is_recorded_once_then_corrected_and_refused_otherwise(
    store: Engine, clock: SimulatedClock
) -> None:
    policy = session_policy("mentors", 8)
    rels = active_pairs(store, policy, clock, 2)
    group = service.plan_sessions(store, policy, clock, actor="c").groups[0]
    session_id = group.session_id
    before = footprint(store)
    with pytest.raises(RefusedError, match="once it has begun"):
        service.record_attendance(store, policy, clock, session_id, "E1004", True, actor="c")
    clock.set(group.starts_at + timedelta(hours=2))
    with pytest.raises(NotFoundError, match="no session 999"):
        service.record_attendance(store, policy, clock, 999, "E1004", True, actor="c")
    with pytest.raises(NotFoundError, match="no participant"):
        service.record_attendance(store, policy, clock, session_id, "E9999", True, actor="c")
    with pytest.raises(RefusedError, match="was not invited"):
        service.record_attendance(store, policy, clock, session_id, "E1101", True, actor="c")  # a mentee
    assert footprint(store) == before

    done = service.record_attendance(store, policy, clock, session_id, "E1004", True, actor="coordinator")
    assert done.role == "mentor" and done.relationship_id == rels[0] and not done.corrected
    with pytest.raises(RefusedError, match=r"already recorded .*`correct`"):
        service.record_attendance(store, policy, clock, session_id, "E1004", False, actor="c")
    with pytest.raises(RefusedError, match="nothing to correct"):
        service.record_attendance(store, policy, clock, session_id, "E1004", True, actor="c", correct=True)
    fixed = service.record_attendance(
        store, policy, clock, session_id, "E1004", False, actor="c", correct=True
    )
    assert fixed.corrected
    recorded = [data for _, data in _entries(store, "record_attendance")]
    assert recorded == [
        {"attendance": {"session": session_id, "respondent": "mentor", "attended": True}},
        {"attendance": {"session": session_id, "respondent": "mentor", "attended": False, "corrected": True}},
    ]
    with UnitOfWork(store, write=False) as uow:
        found = attendance_by_relationship(uow.conn, rels)
    assert [(a.session_id, a.role, a.attended) for a in found[rels[0]]] == [(session_id, "mentor", False)]
    listed = {row["id"]: row for row in service.list_sessions(store, policy)}
    assert listed[session_id]["absent"] == 1 and listed[session_id]["attended"] == 0
    assert queries.verify(store).problems == []


def test_plan_refuses_a_policy_without_sessions_and_an_until_beyond_a_year(
    store: Engine, clock: SimulatedClock, policy: object
) -> None:
    without = load_policy_text(DESIGN_BLOCK, "design.yaml")  # the default before it had sessions
    with pytest.raises(RefusedError, match="no `sessions:` block"):
        service.plan_sessions(store, without, clock, actor="c")
    with pytest.raises(InputError, match="`until`"):
        service.plan_sessions(
            store, session_policy(), clock, actor="c", until=clock.now() + timedelta(days=400)
        )


def test_the_invitation_names_date_place_and_carries_an_ics_and_a_link(
    store: Engine, clock: SimulatedClock, tmp_path: Path
) -> None:
    policy = session_policy("both", 8)
    active_pairs(store, policy, clock, 1)
    service.plan_sessions(store, policy, clock, actor="c")
    settings = tmp_path / "mentorflow.toml"
    settings.write_text(
        '[notifications]\ncoordinator_email = "coordinator@example.com"\n\n'
        '[web]\nbase_url = "https://mentoring.example.com"\n'
        'secret_keys = ["a-key-for-the-session-tests-' + "s" * 24 + '"]\n\n'
        '[channels]\ndefault = ["log"]\n\n[channels.log]\npath = "outbox.jsonl"\nbodies = true\n',
        encoding="utf-8",
    )
    channels = configured_channels(
        settings, timezone=policy.program.timezone, surveys=policy.survey_definitions
    )
    assert outbox.deliver_due(store, channels, clock.now()).parked == 0
    lines = [
        json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    invitations = [line for line in lines if line["action"] == "schedule_group_session"]
    assert {line["recipient"] for line in invitations} == {"mentee", "mentor"}
    bodies = {line["recipient"]: line for line in invitations}
    mentee = bodies["mentee"]  # Zoë Çelik reads Dutch
    assert "Intervisie op donderdag 8 januari 2026" in mentee["subject"]
    assert "om 15:00 (CET)" in mentee["body"] and "Room 4.12 or Teams" in mentee["body"]
    assert "/l/session/" in mentee["body"]
    assert any(name.endswith(".ics") for name in mentee.get("attachments", []))


def test_invitations_and_attendance_are_rows_of_their_own(store: Engine, clock: SimulatedClock) -> None:
    policy = session_policy("mentors", 8)
    active_pairs(store, policy, clock, 3)
    service.plan_sessions(store, policy, clock, actor="c")
    with store.connect() as conn:
        rows = conn.execute(select(session_invitations)).all()
    assert len(rows) == 2 and all(
        row.attended is None and row.role == "mentor" for row in rows
    )  # E1004, E1001
