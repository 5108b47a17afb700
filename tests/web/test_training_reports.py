"""The training page when the policy has a coordinator confirm a training, and the console's decision.

With ``links.confirm_training`` a mentor's "I completed the training" is a report: the page says the
coordinator will confirm it, and says so again (writing nothing) while it waits. The console's Today page
lists the open reports; a coordinator confirms one (the training recorded in their name) or declines it
with a reason; a viewer, a form without the session's token, or no session at all changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.policy.model import load_policy_text, resolve_policy_path
from engine.services.policy_apply import PINNED_VARIABLE
from engine.store.tables import participant_entries, participants, training_reports
from tests.integration.support import UNTRAINED_MENTOR
from workflows.web import create_app
from workflows.web.config import WebConfig
from workflows.web.forms import form_token
from workflows.web.texts import TEXTS

from .conftest import BASE, COORDINATOR, KEYS, Site, dump, form_tokens, sign_in


@pytest.fixture
def confirming(accounts: Site, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    """The site (with ``sam`` and ``vera``) under the default policy with ``links.confirm_training``: a
    version never applied to the pairs written under the default, so pinned (any version acts)."""
    monkeypatch.setenv(PINNED_VARIABLE, "1")
    text = Path(resolve_policy_path("default")).read_text(encoding="utf-8")
    policy = load_policy_text(text + "\nlinks:\n  confirm_training: true\n", "confirming.yaml")
    config = WebConfig(accounts.store, policy, KEYS, BASE, COORDINATOR, accounts.clock)
    with TestClient(create_app(config), base_url=BASE, raise_server_exceptions=True) as client:
        yield Site(accounts.store, policy, accounts.lifecycle, accounts.clock, client, accounts.rels)


def _trained(site: Site) -> bool:
    query = select(participants.c.trained).where(participants.c.external_id == UNTRAINED_MENTOR)
    with site.store.connect() as conn:
        return bool(conn.execute(query).scalar_one())


def _reports(site: Site) -> list[dict[str, Any]]:
    with site.store.connect() as conn:
        query = select(training_reports).order_by(training_reports.c.id)
        return [dict(row) for row in conn.execute(query).mappings()]


def _reported(site: Site) -> int:
    """The mentor's report, made through their training page; its id."""
    path = site.link("training", "mentor", "training")
    assert site.post(path, {}).status_code == 200
    (report,) = _reports(site)
    return int(report["id"])


def _console_token(site: Site, name: str) -> str:
    assert sign_in(site.client, name).status_code == 303
    return form_tokens(site.client.get("/").text)[0]


def test_the_mentor_reports_and_a_second_submit_writes_nothing(confirming: Site) -> None:
    site = confirming
    path = site.link("training", "mentor", "training")
    page = site.client.get(path)
    assert page.status_code == 200 and "The coordinator confirms it before it is recorded." in page.text
    done = site.post(path, {})
    assert done.status_code == 200 and "reported; the coordinator will confirm it" in done.text
    assert not _trained(site)
    (report,) = _reports(site)
    assert (report["reported_by"], report["decision"]) == (f"participant:{UNTRAINED_MENTOR} via link", None)
    before = dump(site.store)
    assert "Already reported" in site.client.get(path).text
    again = site.client.post(path, data={"form_token": form_token(KEYS, path.rsplit("/", 1)[1])})
    assert (
        again.status_code == 200 and "Already reported: your training waits for the coordinator" in again.text
    )
    assert dump(site.store) == before


def test_the_texts_are_in_english_and_dutch() -> None:
    for key in ("training_reported", "training_waiting", "training_confirm_note"):
        assert TEXTS["en"][key] and TEXTS["nl"][key] and TEXTS["en"][key] != TEXTS["nl"][key]
    assert "coordinator will confirm it" in TEXTS["en"]["training_reported"]
    assert "coördinator bevestigt" in TEXTS["nl"]["training_reported"]


def test_a_coordinator_confirms_from_today_and_the_training_is_theirs(confirming: Site) -> None:
    site = confirming
    report_id = _reported(site)
    token = _console_token(site, "sam")
    today = site.client.get("/").text
    assert "Trainings reported" in today and "Søren Ødegaard (E1003)" in today
    assert (
        f'action="/trainings/{report_id}/confirm"' in today
        and f'action="/trainings/{report_id}/decline"' in today
    )
    done = site.client.post(
        f"/trainings/{report_id}/confirm", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert _trained(site)
    with site.store.connect() as conn:
        entry = conn.execute(select(participant_entries).order_by(participant_entries.c.id.desc())).first()
    assert entry is not None and (entry.actor, entry.cause) == ("coordinator:sam", "training")
    (report,) = _reports(site)
    assert (report["decision"], report["decided_by"]) == ("confirmed", "coordinator:sam")
    assert "No training report waits for a decision." in site.client.get("/").text
    before = dump(site.store)
    twice = site.client.post(f"/trainings/{report_id}/decline", data={"csrf_token": token, "reason": "no"})
    assert twice.status_code == 409 and "was confirmed by coordinator:sam" in twice.text
    assert dump(site.store) == before


def test_a_decline_needs_a_reason(confirming: Site) -> None:
    site = confirming
    report_id = _reported(site)
    token = _console_token(site, "sam")
    before = dump(site.store)
    for data in ({}, {"reason": "  "}):
        blank = site.client.post(f"/trainings/{report_id}/decline", data={"csrf_token": token, **data})
        assert blank.status_code == 422 and "say why the training report is declined" in blank.text
    assert dump(site.store) == before
    done = site.client.post(
        f"/trainings/{report_id}/decline",
        data={"csrf_token": token, "reason": "no certificate yet"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and not _trained(site)
    (report,) = _reports(site)
    assert (report["decision"], report["decided_by"], report["reason"]) == (
        "declined", "coordinator:sam", "no certificate yet",
    )  # fmt: skip
    path = site.link("training", "mentor", "training")
    assert "<button" in site.client.get(path).text  # the mentor may report again


def test_a_viewer_sees_the_report_but_cannot_decide(confirming: Site) -> None:
    site = confirming
    report_id = _reported(site)
    token = _console_token(site, "vera")
    today = site.client.get("/").text
    assert "Søren Ødegaard (E1003)" in today and "/trainings/" not in today
    before = dump(site.store)
    for decision, data in (("confirm", {}), ("decline", {"reason": "no"})):
        refused = site.client.post(f"/trainings/{report_id}/{decision}", data={"csrf_token": token, **data})
        assert refused.status_code == 403 and "not act" in refused.text
    assert dump(site.store) == before and not _trained(site)


def test_a_form_without_the_sessions_token_or_a_session_is_refused(confirming: Site) -> None:
    site = confirming
    report_id = _reported(site)
    token = _console_token(site, "sam")
    before = dump(site.store)
    for data, headers in (
        ({}, {}),
        ({"csrf_token": "forged"}, {}),
        ({"csrf_token": token}, {"origin": "https://evil.example"}),
    ):
        refused = site.client.post(f"/trainings/{report_id}/confirm", data=data, headers=headers)
        assert refused.status_code == 403 and "not sent from its page" in refused.text
    assert dump(site.store) == before
    with TestClient(site.client.app, base_url=BASE) as stranger:
        anonymous = stranger.post(f"/trainings/{report_id}/confirm", data={"csrf_token": token})
        assert anonymous.status_code == 401 and 'name="password"' in anonymous.text
    assert dump(site.store) == before and not _trained(site)


def test_an_unknown_report_or_decision_is_not_found(confirming: Site) -> None:
    site = confirming
    report_id = _reported(site)
    token = _console_token(site, "sam")
    before = dump(site.store)
    missing = site.client.post("/trainings/9999/confirm", data={"csrf_token": token})
    assert missing.status_code == 404 and "no training report 9999" in missing.text
    assert site.client.post(f"/trainings/{report_id}/approve", data={"csrf_token": token}).status_code == 404
    assert dump(site.store) == before
