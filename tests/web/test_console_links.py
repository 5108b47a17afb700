"""The relationship page's links (sent, each in its state), revoking them from the page, and what the
search and the today page read: the participants and pairs they show, never every one."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, insert, select

from engine.delivery.channels import Channels, LinkSettings
from engine.delivery.channels.log import LogChannel
from engine.delivery.links import LINK_LIFETIME
from engine.policy.durations import Duration
from engine.services import delivery
from engine.services.console import relationship_file, search
from engine.services.links import revoke_links
from engine.services.listing import participants as every_participant
from engine.services.listing import relationships as every_pair
from engine.store.tables import LIST_FIELDS, link_revocations, participants, relationships
from tests.integration.delivery_support import PROGRAM, RETRY
from tests.integration.support import SINGLE_MENTOR, TRAINED_MENTOR, answer_final, fire

from .conftest import BASE, KEYS, Site, dump, form_tokens, sign_in


def _deliver(site: Site, tmp_path: Path) -> None:
    """Send every due message, with personal links, to a log file."""
    program = dataclasses.replace(PROGRAM, links=LinkSettings(BASE, KEYS))
    channels = Channels(
        {"log": LogChannel(tmp_path / "sent.jsonl", fsync=False)}, ("log",), {}, program, RETRY
    )
    assert delivery.deliver_due(site.store, channels, site.clock.now()).sent > 0


def _states(
    site: Site, rel_id: int, lifetime: Duration | None = None
) -> dict[tuple[str, str, str], set[str]]:
    """(action, role, purpose) -> the states of those links of ``rel_id``, at the site's clock, for a link
    ``lifetime`` (the policy's unless given)."""
    file = relationship_file(
        site.store, rel_id, site.clock.now(),
        terminal=site.policy.terminal_phases, lifetime=lifetime or site.policy.link_lifetime,
    )  # fmt: skip
    found: dict[tuple[str, str, str], set[str]] = {}
    for link in file.links:
        found.setdefault((link.action, link.role, link.purpose), set()).add(link.state)
    return found


HALF_A_YEAR = Duration(seconds=200 * 86_400)
"""A link lifetime under which the fixture's final surveys (sent six months ago) still open, and its
kickoff invitations (a year ago) do not."""


def test_the_links_of_a_pair_in_each_state(accounts: Site, tmp_path: Path) -> None:
    site, rel_id = accounts, accounts.rels["survey"]
    _deliver(site, tmp_path)
    assert {s for found in _states(site, rel_id).values() for s in found} == {"expired"}  # 30 days
    answer_final(site.store, site.policy, site.clock, rel_id, "mentee")
    states = _states(site, rel_id, HALF_A_YEAR)
    assert states[("send_survey", "mentee", "survey")] == {"used"}  # answered in this stay
    assert states[("send_survey", "mentor", "survey")] == {"opens"}
    assert states[("schedule_kickoff_meeting", "mentee", "kickoff")] == {"expired"}  # six months ago
    assert states[("notify_pair", "mentor", "help")] == {"expired"}

    revoke_links(site.store, site.clock.now(), "tester", participant=TRAINED_MENTOR, reason="left")
    states = _states(site, rel_id, HALF_A_YEAR)
    assert {s for (_, role, _), found in states.items() if role == "mentor" for s in found} == {"revoked"}
    assert states[("send_survey", "mentee", "survey")] == {"used"}
    assert states[("send_survey", "mentee", "help")] == {"opens"}

    site.clock.advance(LINK_LIFETIME + timedelta(seconds=1))
    states = _states(site, rel_id, HALF_A_YEAR)
    assert (
        states[("send_survey", "mentee", "help")]
        == states[("send_survey", "mentee", "survey")]
        == {"expired"}
    )
    assert states[("send_survey", "mentor", "survey")] == {"revoked"}


def test_a_closed_pairs_links_and_the_page_that_shows_them(accounts: Site, tmp_path: Path) -> None:
    site, rel_id = accounts, accounts.rels["dutch"]
    fire(site.store, site.lifecycle, site.clock, rel_id, "close", reason="moved abroad")
    _deliver(site, tmp_path)
    states = _states(site, rel_id)
    assert states[("send_survey", "mentee", "help")] == {"pair closed"}
    assert states[("send_survey", "mentee", "survey")] == {"opens", "pair closed"}  # closing, and final
    sign_in(site.client, "vera")
    page = site.client.get(f"/relationships/{rel_id}")
    assert page.status_code == 200 and "Links sent" in page.text and 'data-state="pair closed"' in page.text
    assert "Zoë Çelik (mentee)" in page.text and "30 days after they were sent" in page.text
    assert "/revoke" not in page.text  # a viewer is offered no form


def _revocations(store: Engine) -> list[tuple[Any, ...]]:
    with store.connect() as conn:
        c = link_revocations.c
        return [
            tuple(r)
            for r in conn.execute(select(c.relationship_id, c.participant_id, c.revoked_by, c.reason))
        ]


def test_a_coordinator_revokes_the_pairs_links_from_its_page(accounts: Site, tmp_path: Path) -> None:
    site, rel_id = accounts, accounts.rels["intake"]
    fire(site.store, site.lifecycle, site.clock, rel_id, "match", mentor=SINGLE_MENTOR)
    fire(site.store, site.lifecycle, site.clock, rel_id, "schedule_kickoff")  # an invitation sent today
    _deliver(site, tmp_path)
    sign_in(site.client, "sam")
    page = site.client.get(f"/relationships/{rel_id}")
    assert f'action="/relationships/{rel_id}/revoke"' in page.text and 'data-state="opens"' in page.text
    token = form_tokens(page.text)[0]
    done = site.client.post(
        f"/relationships/{rel_id}/revoke",
        data={"csrf_token": token, "reason": "lost phone"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"/relationships/{rel_id}"
    assert _revocations(site.store) == [(rel_id, None, "coordinator:sam", "lost phone")]
    after = site.client.get(f"/relationships/{rel_id}").text
    assert 'data-state="revoked"' in after and 'data-state="opens"' not in after
    assert site.client.post("/relationships/99999/revoke", data={"csrf_token": token}).status_code == 404


def test_a_viewer_or_a_form_without_its_token_revokes_nothing(accounts: Site, tmp_path: Path) -> None:
    site, rel_id = accounts, accounts.rels["kickoff"]
    _deliver(site, tmp_path)
    before = dump(site.store)
    sign_in(site.client, "vera")
    token = form_tokens(site.client.get(f"/relationships/{rel_id}").text)[0]
    refused = site.client.post(f"/relationships/{rel_id}/revoke", data={"csrf_token": token, "reason": "x"})
    assert refused.status_code == 403 and "not act" in refused.text
    site.client.post("/logout", data={"csrf_token": token})
    sign_in(site.client, "sam")
    for data in ({"reason": "x"}, {"csrf_token": "forged", "reason": "x"}):
        refused = site.client.post(f"/relationships/{rel_id}/revoke", data=data)
        assert refused.status_code == 403 and "not sent from its page" in refused.text
    after = dump(site.store)
    assert {t: rows for t, rows in after.items() if t not in _SIGN_INS} == {
        t: rows for t, rows in before.items() if t not in _SIGN_INS
    }
    assert after["link_revocations"] == []


_SIGN_INS = {"web_sessions", "users", "account_events", "login_failures"}
"""What signing in and out writes (sessions, last sign-in, the accounts' events), not what revoking does."""


@contextmanager
def _counted(store: Engine) -> Iterator[list[str]]:
    """The statements ``store`` is sent meanwhile."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(store, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(store, "before_cursor_execute", count)


def _many(store: Engine, moment: Any, count: int) -> None:
    """``count`` mentees called "Quill ..." (ids quill-0..), each in a pair with mentor E1004."""
    people = [
        {"role": "mentee", "name": f"Quill Number {i}", "email": f"quill{i}@example.com",
         "external_id": f"quill-{i}", **{column: [] for column in LIST_FIELDS}, "capacity": 1,
         "trained": False, "created_at": moment, "updated_at": moment}
        for i in range(count)
    ]  # fmt: skip
    with store.begin() as conn:
        mentor = conn.execute(select(participants.c.id).where(participants.c.external_id == TRAINED_MENTOR))
        mentor_id = mentor.scalar_one()
        ids = conn.execute(insert(participants).returning(participants.c.id), people).scalars().all()
        pairs = [
            {"mentee_id": pid, "mentor_id": mentor_id, "policy_name": "default", "phase": "active",
             "phase_entered_at": moment, "due_at": moment, "version": 1, "audit_seq": 1,
             "audit_head": "f" * 64, "created_at": moment}
            for pid in ids
        ]  # fmt: skip
        conn.execute(insert(relationships), pairs)


def test_the_search_reads_the_same_few_statements_for_one_match_as_for_fifty(accounts: Site) -> None:
    site = accounts
    _many(site.store, site.clock.now(), 50)
    with _counted(site.store) as one:
        found_one = search(site.store, "quill-7")
    with _counted(site.store) as fifty:
        found_fifty = search(site.store, "QUILL number")
    assert [p["external_id"] for p in found_one] == ["quill-7"] and len(found_fifty) == 50
    assert all(len(p["relationships"]) == 1 for p in found_fifty)
    assert found_fifty[0]["relationships"][0]["other"] == "Marieke de Vries"
    assert len(one) == len(fifty) <= 3, fifty
    sign_in(site.client, "vera")
    with _counted(site.store) as page_one:
        assert "Quill Number 7" in site.client.get("/search", params={"q": "quill7@example.com"}).text
    with _counted(site.store) as page_fifty:
        text = site.client.get("/search", params={"q": "quill"}).text
    assert text.count("Quill Number") == 50 and text.count('href="/relationships/') == 50
    assert len(page_one) == len(page_fifty)


def _reference(store: Engine, text: str) -> list[tuple[int, list[int]]]:
    """What the search found before it read only what it shows: every participant, every pair."""
    wanted = text.strip().casefold()
    people = [
        p
        for p in every_participant(store)
        if wanted in {str(p["id"]), str(p["external_id"] or "").casefold(), str(p["email"]).casefold()}
        or wanted in str(p["name"]).casefold()
    ][:200]
    with store.connect() as conn:
        sides = {r.id: (r.mentee_id, r.mentor_id) for r in conn.execute(select(relationships))}
    pairs = every_pair(store)
    return [(p["id"], [r["id"] for r in pairs if p["id"] in sides[r["id"]]]) for p in people]


def test_the_search_finds_what_it_found_before(accounts: Site) -> None:
    site = accounts
    queries = ["tomasz", "E1004", "MARIEKE.DEVRIES@example.com", "ødegaard", "SØREN", "çelik", "de",
               "1", "3", "%", "_", "e100_", "  priya  ", "zzz"]  # fmt: skip
    for query in queries:
        found = [(p["id"], [r["id"] for r in p["relationships"]]) for p in search(site.store, query)]
        assert found == _reference(site.store, query), query
    sign_in(site.client, "vera")
    page = site.client.get("/search", params={"q": "E1004"}).text
    assert "Marieke de Vries" in page and "with Tomasz Kowalski" in page


def test_today_names_the_overdue_pairs_reading_only_them(accounts: Site) -> None:
    site = accounts
    _many(site.store, site.clock.now() - timedelta(days=400), 50)  # fifty pairs, long silent
    sign_in(site.client, "vera")
    with _counted(site.store) as sent:
        today = site.client.get("/")
    assert today.status_code == 200 and "Quill Number 49" in today.text
    named = [" ".join(s.split()) for s in sent if "AS mentee" in s]  # the pairs' names, joined in
    assert named and all("WHERE relationships.id IN" in s for s in named), named
