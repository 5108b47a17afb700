"""The attendance page of a personal link (purpose ``session``), over HTTP through FastAPI's TestClient:
an invited mentor says they attended a session that has begun, once; before it the page only lists it."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from engine.clock import SimulatedClock
from engine.delivery.links import Link, binding, sign, url
from engine.services.links import revoke_links
from engine.services.sessions import plan_sessions
from engine.store.tables import audit_entries, session_invitations
from tests.integration.session_support import active_pairs, session_policy
from tests.web.conftest import BASE, COORDINATOR, KEYS, dump
from workflows.web import create_app
from workflows.web.config import WebConfig


def _site(store: Engine, clock: SimulatedClock) -> tuple[TestClient, int, int, object]:
    policy = session_policy("mentors", 8)
    (rel,) = active_pairs(store, policy, clock, 1)
    group = plan_sessions(store, policy, clock, actor="c").groups[0]
    ((mentor, _),) = group.added
    config = WebConfig(store, policy, KEYS, BASE, COORDINATOR, clock)
    client = TestClient(create_app(config), base_url=BASE, raise_server_exceptions=True)
    link = Link("session", rel, "mentor", binding(KEYS, mentor), group.starts_at)
    return client, group.session_id, rel, url(BASE, sign(link, KEYS)).removeprefix(BASE)


def test_an_invited_mentor_records_attendance_once_through_their_link(
    store: Engine, clock: SimulatedClock
) -> None:
    client, session_id, rel, path = _site(store, clock)
    start = clock.now()
    clock.set(start + timedelta(days=3, hours=6))  # Thursday 15:00 in Amsterdam has passed
    page = client.get(str(path), headers={"accept-language": "en"})
    assert page.status_code == 200, page.text
    assert "Peer session (intervisie)" in page.text or "Intervisie" in page.text
    assert 'name="attended" value="yes"' in page.text
    form = {"form_token": _token(page.text), "session": str(session_id), "attended": "yes"}
    done = client.post(str(path), data=form)
    assert done.status_code == 200 and ("recorded" in done.text or "vastgelegd" in done.text)
    with store.connect() as conn:
        (attended, by) = conn.execute(
            select(session_invitations.c.attended, session_invitations.c.recorded_by)
        ).one()
        triggers = [
            t
            for (t,) in conn.execute(
                select(audit_entries.c.trigger).where(audit_entries.c.relationship_id == rel)
            )
        ]
    assert attended is True and by.endswith("via link") and by.startswith("participant:")
    assert triggers[-1] == "record_attendance"
    before = dump(store)
    again = client.post(str(path), data=form)
    assert again.status_code == 200 and dump(store) == before


def test_before_the_session_the_page_offers_nothing_to_record(store: Engine, clock: SimulatedClock) -> None:
    client, session_id, _, path = _site(store, clock)
    page = client.get(str(path))
    assert page.status_code == 200
    assert 'name="attended"' not in page.text
    before = dump(store)
    refused = client.post(str(path), data={"form_token": "x", "session": str(session_id), "attended": "yes"})
    assert refused.status_code in (403, 409) and dump(store) == before


def test_a_revocation_after_the_invitation_withdraws_the_link(store: Engine, clock: SimulatedClock) -> None:
    client, _, rel, path = _site(store, clock)
    clock.set(clock.now() + timedelta(hours=1))
    revoke_links(store, clock.now(), "coordinator", relationship=rel)
    clock.set(clock.now() + timedelta(days=4))
    assert client.get(str(path)).status_code == 410


def _token(text: str) -> str:
    marker = 'name="form_token" value="'
    return text.split(marker, 1)[1].split('"', 1)[0]
