"""The survey page: every question type, the mentee's goals by name, recorded as `record survey` does."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from engine.store.tables import audit_entries, participants, relationships, survey_responses
from tests.integration.support import final_answers
from workflows.web.forms import form_token

from .conftest import KEYS, Site, dump

VALID = {"satisfaction": "4", "recommend": "9", "met_regularly": "yes", "goals.0": "reached",
         "goals.1": "partly", "comments": "More time for the second goal."}  # fmt: skip


def _responses(site: Site) -> list[dict[str, object]]:
    with site.store.connect() as conn:
        return [
            dict(r) for r in conn.execute(select(survey_responses).order_by(survey_responses.c.id)).mappings()
        ]


def _last_entry(site: Site, rel: int) -> dict[str, object]:
    query = select(audit_entries).where(audit_entries.c.relationship_id == rel).order_by(audit_entries.c.seq)
    with site.store.connect() as conn:
        return dict(conn.execute(query).mappings().all()[-1])


def _entry(site: Site, rel: int, seq: object) -> dict[str, Any]:
    query = select(audit_entries).where(audit_entries.c.relationship_id == rel, audit_entries.c.seq == seq)
    with site.store.connect() as conn:
        return dict(conn.execute(query).mappings().one())


def test_the_form_asks_every_question_of_the_survey_with_labels_and_the_goals_by_name(site: Site) -> None:
    page = site.client.get(site.link("survey", "mentee", "survey"))
    assert page.status_code == 200
    html = page.text
    assert '<html lang="en">' in html and "<h1>How did it go?</h1>" in html
    for value in range(1, 6):  # scale
        assert f'name="satisfaction" value="{value}"' in html
    for value in range(11):  # recommend
        assert f'name="recommend" value="{value}"' in html
    assert 'name="met_regularly" value="yes"' in html and 'name="met_regularly" value="no"' in html
    assert "<legend>become a staff engineer</legend>" in html  # goals, one per goal of the mentee, by name
    assert "<legend>lead the recommendations team</legend>" in html
    assert html.count('name="goals.0"') == 4 and html.count('name="goals.1"') == 4  # one per level
    assert re.search(r'<label for="q-comments">What should the program keep.*\(optional\)', html)
    assert '<textarea id="q-comments" name="comments"' in html  # text
    assert all(tag.startswith("<label><input") for tag in re.findall(r"<label><input[^>]*>", html))
    assert "<script" not in html and "style=" not in html


def test_answers_are_recorded_with_the_participant_as_actor(site: Site) -> None:
    rel = site.rels["survey"]
    done = site.post(site.link("survey", "mentee", "survey"), VALID)
    assert done.status_code == 200 and "Your answers are recorded" in done.text
    (row,) = _responses(site)
    assert (row["relationship_id"], row["survey"], row["respondent"]) == (rel, "final", "mentee")
    assert row["answers"] == {"satisfaction": 4, "recommend": 9, "met_regularly": True,
                              "goals": ["reached", "partly"]}  # fmt: skip
    assert row["free_text"] == {"comments": "More time for the second goal."}
    entry = _entry(site, rel, row["entry_seq"])
    assert (entry["trigger"], entry["actor"]) == ("record_survey", "participant:E1110 via link")
    moved = _entry(site, rel, row["entry_seq"] + 1)  # the answer moved the mentee's first goal
    assert (moved["trigger"], moved["actor"], moved["data"]["goal"]["level"]) == (
        "goal_progress", "participant:E1110 via link", "reached"
    )  # fmt: skip
    assert "More time" not in str(entry["data"])  # free text stays out of the audit chain


def test_the_mentor_answers_for_the_same_pair_with_their_own_link(site: Site) -> None:
    done = site.post(site.link("survey", "mentor", "survey"), {**VALID, "comments": ""})
    assert done.status_code == 200
    (row,) = _responses(site)
    assert row["respondent"] == "mentor" and row["free_text"] is None
    assert _last_entry(site, site.rels["survey"])["actor"] == "participant:E1004 via link"


def test_an_answer_out_of_range_shows_the_form_again_naming_the_field_and_writes_nothing(site: Site) -> None:
    path = site.link("survey", "mentee", "survey")
    before = dump(site.store)
    wrong = site.post(
        path, {**VALID, "satisfaction": "7", "recommend": "11", "goals.1": "", "met_regularly": ""}
    )
    assert wrong.status_code == 422
    html = wrong.text
    assert 'role="alert"' in html
    for field in ("satisfaction", "recommend", "met_regularly", "goals"):
        assert f'<a href="#q-{field}">' in html, field
        assert f'id="q-{field}-error"' in html and f'aria-describedby="q-{field}-error"' in html
    assert "Choose a number from 1 to 5." in html and "Choose a number from 0 to 10." in html
    assert "Please answer this question." in html and "Choose a level for each goal." in html
    assert 'name="goals.0" value="reached" checked' in html  # what was entered is kept
    assert "More time for the second goal.</textarea>" in html
    assert dump(site.store) == before


def test_a_repeated_submit_says_already_recorded_and_writes_nothing(site: Site) -> None:
    path = site.link("survey", "mentee", "survey")
    form = {**site.hidden(path), **VALID}
    assert site.client.post(path, data=form).status_code == 200
    before = dump(site.store)
    again = site.client.post(path, data=form)
    assert again.status_code == 200 and "Already recorded" in again.text
    assert "already recorded" in site.client.get(path).text
    assert dump(site.store) == before


def test_a_link_that_names_its_survey_opens_that_one(site: Site) -> None:
    path = site.link("survey", "mentee", "survey", survey="final", outbox_id=1)
    assert 'name="survey" value="final"' in site.client.get(path).text
    other = site.link("survey", "mentee", "survey", survey="pulse")
    before = dump(site.store)
    closed = site.client.get(other)
    assert closed.status_code == 409 and "not open for you" in closed.text
    forged = site.client.post(path, data={**site.hidden(path), **VALID, "survey": "pulse"})
    assert forged.status_code == 200  # the link's own survey, whatever the form says
    assert [r["survey"] for r in _responses(site)] == ["final"]
    assert dump(site.store) != before


def test_a_survey_not_sent_in_the_current_phase_is_not_open(site: Site) -> None:
    before = dump(site.store)
    closed = site.client.get(site.link("kickoff", "mentee", "survey"))
    assert closed.status_code == 409 and "mentoring@example.com" in closed.text
    path = site.link("kickoff", "mentee", "survey")
    own = form_token(KEYS, path.rsplit("/", 1)[1])
    assert site.client.post(path, data={"form_token": own, **VALID}).status_code == 409
    another = site.hidden(site.link("survey", "mentee", "survey"))["form_token"]
    assert site.client.post(path, data={"form_token": another, **VALID}).status_code == 403
    assert dump(site.store) == before


def test_the_page_is_in_the_participants_language(site: Site) -> None:
    page = site.client.get(site.link("dutch", "mentee", "survey"))
    assert page.status_code == 200
    assert '<html lang="nl">' in page.text and "<h1>Hoe ging het?</h1>" in page.text
    assert "Hoe tevreden ben je over de mentorrelatie" in page.text and ">Gedeeltelijk<" not in page.text
    assert " Gedeeltelijk</label>" in page.text and "Verstuur mijn antwoorden" in page.text
    wrong = site.post(site.link("dutch", "mentee", "survey"), {"satisfaction": "9"})
    assert wrong.status_code == 422 and "Kies een getal van 1 tot en met 5." in wrong.text


def test_what_the_page_records_matches_what_the_command_records(site: Site) -> None:
    """The same answers through the page and through the service give the same stored answers."""
    expected = final_answers(site.store, site.rels["dutch"], satisfaction=3)
    form = {
        "satisfaction": "3",
        "recommend": "6",
        "met_regularly": "yes",
        "goals.0": "partly",
        "goals.1": "partly",
    }
    assert site.post(site.link("dutch", "mentor", "survey"), form).status_code == 200
    (row,) = _responses(site)
    assert row["answers"] == expected
    with site.store.connect() as conn:
        phase = conn.execute(
            select(relationships.c.phase).where(relationships.c.id == site.rels["dutch"])
        ).scalar()
        trained = conn.execute(
            select(participants.c.trained).where(participants.c.external_id == "E1004")
        ).scalar()
    assert (phase, trained) == ("review", True)
