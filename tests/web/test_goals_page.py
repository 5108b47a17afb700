"""The goals page: the mentee sets and updates their development goals through their link, as
`engine.services.goals` records them; the mentor's link and a closed pair's show them read-only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from engine.store.tables import audit_entries, goals
from tests.integration.support import fire
from workflows.web import create_app
from workflows.web.config import WebConfig
from workflows.web.forms import form_token

from .conftest import BASE, COORDINATOR, KEYS, Site, dump

ACTOR = "participant:E1113 via link"  # Tomasz Kowalski, the mentee of the pair waiting for its kickoff


def _goals(site: Site, pair: str = "kickoff") -> list[dict[str, Any]]:
    query = select(goals).where(goals.c.relationship_id == site.rels[pair]).order_by(goals.c.id)
    with site.store.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _entries(site: Site, trigger: str, pair: str = "kickoff") -> list[Any]:
    query = select(audit_entries).where(
        audit_entries.c.relationship_id == site.rels[pair], audit_entries.c.trigger == trigger
    )
    with site.store.connect() as conn:
        return list(conn.execute(query.order_by(audit_entries.c.seq)))


def _day(site: Site, days: int) -> str:
    today = site.clock.now().astimezone(ZoneInfo("Europe/Amsterdam")).date()
    return (today + timedelta(days=days)).isoformat()


def _forced(site: Site, path: str, data: dict[str, str]) -> Any:
    """A form posted to a page that shows none, with the form token of its link (as if it had)."""
    token = form_token(KEYS, path.rsplit("/", 1)[1])
    return site.client.post(path, data={"form_token": token, **data})


@pytest.fixture
def plain_site(site: Site) -> Iterator[Site]:
    """The same program and pairs, served under a policy that names no program goals."""
    policy = site.policy.model_copy(update={"program": site.policy.program.model_copy(update={"goals": []})})
    config = WebConfig(site.store, policy, KEYS, BASE, COORDINATOR, site.clock)
    with TestClient(create_app(config), base_url=BASE, raise_server_exceptions=True) as client:
        yield Site(site.store, policy, site.lifecycle, site.clock, client, site.rels)


def test_the_mentee_sees_their_goals_and_the_forms_to_change_them(site: Site) -> None:
    page = site.client.get(site.link("kickoff", "mentee", "goals"))
    assert page.status_code == 200
    html = page.text
    assert "<h1>Your development goals</h1>" in html
    titles = [row["text"] for row in _goals(site)]
    assert titles and all(f"<legend>{title}</legend>" in html for title in titles)  # the profile's goals
    first = _goals(site)[0]["id"]
    assert f'name="level-{first}" value="not_started" checked' in html and "> Reached</label>" in html
    assert 'name="action" value="levels"' in html and 'name="action" value="add"' in html
    assert '<input type="text" id="title" name="title"' in html and 'type="date" id="target"' in html
    assert 'name="program_goal" value="" checked> None in particular' in html
    assert 'value="leadership"> Leadership</label>' in html and 'value="career"> Career development' in html


def test_a_goal_set_through_the_link_is_a_goal_record_and_a_set_goal_entry(site: Site) -> None:
    path = site.link("kickoff", "mentee", "goals")
    before = len(_goals(site))
    data = {"action": "add", "title": "  Chair the   weekly planning meeting ", "target": _day(site, 30)}
    done = site.client.post(path, data={**site.hidden(path), **data}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == path
    rows = _goals(site)
    assert len(rows) == before + 1
    new = rows[-1]
    assert (new["text"], new["status"], new["set_by"]) == (
        "Chair the weekly planning meeting",
        "not_started",
        ACTOR,
    )
    assert new["target_date"].isoformat() == _day(site, 30)
    (entry,) = [e for e in _entries(site, "set_goal") if e.data["goal"]["id"] == new["id"]]
    assert entry.actor == ACTOR and entry.seq == new["entry_seq"]
    assert "Chair" not in str(entry.data)  # the title is the mentee's own words: not in the chain
    shown = site.client.get(path).text
    assert "<legend>Chair the weekly planning meeting</legend>" in shown and "Target date: " in shown


def test_a_level_changed_through_the_link_is_a_goal_progress_entry(site: Site) -> None:
    path = site.link("kickoff", "mentee", "goals")
    first, second = (row["id"] for row in _goals(site)[:2])
    # the second goal left as it was: only the first changes, and only it has an entry
    page = site.post(path, {"action": "levels", f"level-{first}": "partly", f"level-{second}": "not_started"})
    assert page.status_code == 200 and f'name="level-{first}" value="partly" checked' in page.text
    levels = {row["id"]: (row["status"], row["reached_at"]) for row in _goals(site)}
    assert levels[first] == ("partly", None) and levels[second][0] == "not_started"
    (entry,) = _entries(site, "goal_progress")
    assert entry.actor == ACTOR
    assert entry.data["goal"] == {"id": first, "level": "partly", "was": "not_started"}
    site.post(path, {"action": "levels", f"level-{first}": "reached"})
    assert _goals(site)[0]["reached_at"] == site.clock.now()
    before = dump(site.store)
    same = site.client.post(
        path,
        data={**site.hidden(path), "action": "levels", f"level-{first}": "reached"},
        follow_redirects=False,
    )
    assert same.status_code == 303 and dump(site.store) == before  # nothing changed: nothing written


@pytest.mark.parametrize(
    ("data", "status", "field", "text"),
    [
        ({"title": "   "}, 422, "title", "Write your goal in a few words."),
        ({"title": "x" * 201}, 422, "title", "at most 200 characters (this one has 201)"),
        ({"title": "Lead", "target": "next week"}, 422, "target", "Enter the date as YYYY-MM-DD"),
        ({"title": "Lead", "target": "2026-02-30"}, 422, "target", "Enter the date as YYYY-MM-DD"),
        ({"title": "Lead", "target": "past"}, 422, "target", "The target date cannot be in the past."),
        ({"title": "Lead", "program_goal": "sales"}, 422, "program_goal", "Choose one of the program"),
        ({"title": "BECOME a  team leader"}, 409, "title", "You already have this goal"),
    ],
)
def test_a_wrong_goal_names_its_field_and_writes_nothing(
    site: Site, data: dict[str, str], status: int, field: str, text: str
) -> None:
    path = site.link("kickoff", "mentee", "goals")
    if data.get("target") == "past":
        data = {**data, "target": _day(site, -1)}
    before = dump(site.store)
    page = site.post(path, {"action": "add", **data})
    assert page.status_code == status
    assert f'<a href="#{field}">' in page.text and text in page.text
    assert f'id="{field}"' in page.text  # the summary's link leads to the field
    assert dump(site.store) == before


def test_a_wrong_level_names_its_goal_and_writes_nothing(site: Site) -> None:
    path = site.link("kickoff", "mentee", "goals")
    first, second = (row["id"] for row in _goals(site)[:2])
    before = dump(site.store)
    page = site.post(path, {"action": "levels", f"level-{first}": "reached", f"level-{second}": "done"})
    assert page.status_code == 422
    assert f'<a href="#level-{second}">Choose one of the levels' in page.text
    assert f'name="level-{first}" value="reached" checked' in page.text  # what was entered, shown again
    assert dump(site.store) == before


def test_a_thirteenth_goal_is_refused(site: Site) -> None:
    path = site.link("kickoff", "mentee", "goals")
    for n in range(12 - len(_goals(site))):
        assert site.post(path, {"action": "add", "title": f"Goal number {n}"}).status_code == 200
    page = site.client.get(path).text
    assert "You have 12 goals, the most you can have" in page and 'id="title"' not in page
    before = dump(site.store)
    refused = site.post(path, {"action": "add", "title": "One more"})
    assert refused.status_code == 409 and '<a href="#title">You already have 12 goals' in refused.text
    assert dump(site.store) == before


def test_the_program_goal_a_goal_serves_is_shown_in_the_readers_language(site: Site) -> None:
    path = site.link("kickoff", "mentee", "goals")
    site.post(path, {"action": "add", "title": "Lead the team meeting", "program_goal": "leadership"})
    assert _goals(site)[-1]["program_goal"] == "leadership"
    assert _entries(site, "set_goal")[-1].data["goal"]["program_goal"] == "leadership"
    assert "Program goal: Leadership" in site.client.get(path).text
    mentor = site.client.get(site.link("kickoff", "mentor", "goals")).text  # Marieke reads Dutch
    assert '<th scope="row">Lead the team meeting</th><td>Leiderschap</td>' in mentor


def test_without_program_goals_the_page_offers_none(plain_site: Site) -> None:
    site = plain_site
    path = site.link("kickoff", "mentee", "goals")
    page = site.client.get(path).text
    assert 'name="program_goal"' not in page and 'id="title"' in page
    before = dump(site.store)
    wrong = site.post(path, {"action": "add", "title": "Something else", "program_goal": "leadership"})
    assert (
        wrong.status_code == 422 and '<a href="#program_goal">Choose one of the program goals' in wrong.text
    )
    assert 'id="program_goal"' in wrong.text and dump(site.store) == before
    site.post(path, {"action": "add", "title": "Something else"})
    assert _goals(site)[-1]["text"] == "Something else"


def test_the_mentors_link_shows_the_goals_and_changes_nothing(site: Site) -> None:
    path = site.link("kickoff", "mentor", "goals")
    page = site.client.get(path)
    assert page.status_code == 200
    html = page.text  # Marieke de Vries reads Dutch
    assert "<h1>De ontwikkeldoelen van je mentee</h1>" in html and "Alleen je mentee kan" in html
    assert "<td>Niet begonnen</td>" in html and "<form" not in html
    first = _goals(site)[0]["id"]
    before = dump(site.store)
    for data in ({"action": "add", "title": "Something"}, {"action": "levels", f"level-{first}": "reached"}):
        refused = _forced(site, path, data)
        assert refused.status_code == 403 and "Alleen de mentee kan de ontwikkeldoelen" in refused.text
    assert dump(site.store) == before


def test_a_closed_pairs_goals_are_read_only(site: Site) -> None:
    path = site.link("intake", "mentee", "goals")  # a closed pair gets no new links: one sent before
    fire(site.store, site.lifecycle, site.clock, site.rels["intake"], "close", reason="left the company")
    page = site.client.get(path).text  # Lotte Smit reads Dutch
    assert "Het mentortraject is afgelopen, dus de doelen kunnen niet meer worden veranderd." in page
    assert "<form" not in page and "<td>Niet begonnen</td>" in page
    before = dump(site.store)
    refused = _forced(site, path, {"action": "add", "title": "Something new"})
    assert refused.status_code == 409 and "niet meer worden veranderd" in refused.text
    assert dump(site.store) == before


def test_the_goals_page_speaks_dutch(site: Site) -> None:
    path = site.link("dutch", "mentee", "goals")  # Zoë Çelik reads Dutch
    html = site.client.get(path).text
    assert "<h1>Je ontwikkeldoelen</h1>" in html and "Sla de niveaus op" in html
    assert "Voeg een doel toe" in html and "> Gedeeltelijk</label>" in html
    wrong = site.post(path, {"action": "add", "title": "", "target": "morgen"})
    assert wrong.status_code == 422
    assert (
        "Schrijf je doel in een paar woorden." in wrong.text
        and "Schrijf de datum als JJJJ-MM-DD" in wrong.text
    )


def test_a_goals_form_from_elsewhere_or_another_link_is_refused(site: Site) -> None:
    path = site.link("kickoff", "mentee", "goals")
    before = dump(site.store)
    forged = site.client.post(path, data={"action": "add", "title": "Forged", "form_token": "x" * 24})
    assert forged.status_code == 403
    other = site.post(path, {"action": "add", "title": "Cross-site"}, origin="https://evil.example.com")
    assert other.status_code == 403
    help_link = site.link("kickoff", "mentee", "help").replace("/l/help/", "/l/goals/")
    assert site.client.get(help_link).status_code == 403  # a link opens its own page only
    assert dump(site.store) == before
