"""The meeting, kickoff, training and help pages: recorded as `record meeting` and `record training` do,
once, whichever side of the pair confirms."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.store.tables import audit_entries, meetings, outbox, participant_entries, participants

from .conftest import Site, dump


def _meetings(site: Site) -> list[dict[str, object]]:
    """The meetings of the pair waiting for its kickoff (the pairs in review had theirs)."""
    query = select(meetings).where(meetings.c.relationship_id == site.rels["kickoff"]).order_by(meetings.c.id)
    with site.store.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def _today(site: Site) -> str:
    return site.clock.now().astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()


def test_the_meeting_page_offers_today_and_the_kinds_of_meeting(site: Site) -> None:
    page = site.client.get(site.link("kickoff", "mentee", "meeting"))
    assert page.status_code == 200
    html = page.text
    assert f'type="date" id="held_on" name="held_on" value="{_today(site)}"' in html
    assert f'max="{_today(site)}"' in html and '<label for="held_on">Date of the meeting</label>' in html
    assert 'name="kind" value="check-in" checked' in html and 'name="kind" value="group"' in html
    assert 'value="kickoff"' not in html and "you met your mentor" in html


def test_we_met_is_recorded_once_whichever_side_confirms_it(site: Site) -> None:
    rel = site.rels["kickoff"]
    done = site.post(site.link("kickoff", "mentee", "meeting"), {"held_on": _today(site), "kind": "check-in"})
    assert done.status_code == 200 and "is recorded" in done.text
    (row,) = _meetings(site)
    assert (row["relationship_id"], row["kind"], row["recorded_by"]) == (
        rel,
        "check-in",
        "participant:E1113 via link",
    )
    assert row["held_on"] == site.clock.now()  # today: recorded as now, as the command does without --on
    with site.store.connect() as conn:
        query = select(audit_entries).where(
            audit_entries.c.seq == row["entry_seq"], audit_entries.c.relationship_id == rel
        )
        entry = conn.execute(query).one()
    assert (entry.trigger, entry.actor) == ("record_meeting", "participant:E1113 via link")
    before = dump(site.store)
    again = site.post(
        site.link("kickoff", "mentor", "meeting"), {"held_on": _today(site), "kind": "check-in"}
    )
    assert again.status_code == 200 and "Al vastgelegd" in again.text  # the mentor reads Dutch
    assert dump(site.store) == before
    group = site.post(site.link("kickoff", "mentor", "meeting"), {"held_on": _today(site), "kind": "group"})
    assert group.status_code == 200 and len(_meetings(site)) == 2  # another kind that day is another meeting


def test_an_earlier_day_is_recorded_as_that_day(site: Site) -> None:
    earlier = (site.clock.now() - timedelta(days=3)).date().isoformat()
    assert (
        site.post(
            site.link("kickoff", "mentee", "meeting"), {"held_on": earlier, "kind": "group"}
        ).status_code
        == 200
    )
    (row,) = _meetings(site)
    start_of_day = datetime.combine(date.fromisoformat(earlier), time(0), ZoneInfo("Europe/Amsterdam"))
    assert row["held_on"] == start_of_day  # as `record meeting --on DAY` records it


def test_a_wrong_date_or_kind_shows_the_form_again_and_writes_nothing(site: Site) -> None:
    path = site.link("kickoff", "mentee", "meeting")
    before = dump(site.store)
    tomorrow = (site.clock.now() + timedelta(days=2)).date().isoformat()
    cases = {
        "2026-02-30": "Enter the date as YYYY-MM-DD", "soon": "Enter the date as YYYY-MM-DD",
        tomorrow: "cannot be in the future", "2020-01-01": "cannot be before the mentoring began",
    }  # fmt: skip
    for held_on, said in cases.items():
        wrong = site.post(path, {"held_on": held_on, "kind": "check-in"})
        assert wrong.status_code == 422 and said in wrong.text, held_on
        assert '<a href="#held_on">' in wrong.text and 'aria-invalid="true"' in wrong.text
    wrong = site.post(path, {"held_on": _today(site), "kind": "kickoff"})
    assert wrong.status_code == 422 and '<a href="#kind">Choose the kind of meeting.</a>' in wrong.text
    assert dump(site.store) == before


def test_a_pair_without_a_mentor_has_no_meeting_to_record(site: Site) -> None:
    before = dump(site.store)
    path = site.link("intake", "mentee", "meeting")
    assert site.client.get(path).status_code == 409
    assert site.client.get(site.link("intake", "mentee", "kickoff")).status_code == 409
    assert dump(site.store) == before


def test_the_kickoff_took_place_is_recorded_once(site: Site) -> None:
    path = site.link("kickoff", "mentor", "kickoff")
    page = site.client.get(path)
    assert (
        page.status_code == 200
        and "De kick-off heeft plaatsgevonden" in page.text
        and 'name="kind"' not in page.text
    )
    done = site.post(path, {"held_on": _today(site)})
    assert done.status_code == 200
    (row,) = _meetings(site)
    assert (row["kind"], row["recorded_by"]) == ("kickoff", "participant:E1004 via link")
    before = dump(site.store)
    mentee = site.link("kickoff", "mentee", "kickoff")
    assert "already recorded" in site.client.get(mentee).text
    form = {"form_token": _form_token(mentee), "held_on": _today(site)}
    again = site.client.post(mentee, data=form)
    assert again.status_code == 200 and "already recorded" in again.text
    assert dump(site.store) == before


def _form_token(path: str) -> str:
    from workflows.web.forms import form_token

    from .conftest import KEYS

    return form_token(KEYS, path.rsplit("/", 1)[1])


def test_a_kickoff_the_policy_does_not_expect_now_is_not_open(site: Site) -> None:
    before = dump(site.store)
    path = site.link("training", "mentee", "kickoff")  # matched, the mentor not trained yet
    page = site.client.get(path)
    assert page.status_code == 409 and "kan in deze fase niet worden doorgegeven" in page.text
    posted = site.client.post(path, data={"form_token": _form_token(path), "held_on": _today(site)})
    assert posted.status_code == 409
    assert dump(site.store) == before


def _trained(site: Site, external_id: str) -> bool:
    with site.store.connect() as conn:
        return bool(
            conn.execute(
                select(participants.c.trained).where(participants.c.external_id == external_id)
            ).scalar()
        )


def test_i_completed_the_training_is_recorded_for_the_mentor(site: Site) -> None:
    path = site.link("training", "mentor", "training")
    page = site.client.get(path)
    assert page.status_code == 200 and "<button" in page.text
    assert not _trained(site, "E1003")
    done = site.post(path, {})
    assert done.status_code == 200 and _trained(site, "E1003")
    with site.store.connect() as conn:
        entry = conn.execute(select(participant_entries).order_by(participant_entries.c.id.desc())).first()
    assert entry is not None and (entry.actor, entry.cause) == ("participant:E1003 via link", "training")
    before = dump(site.store)
    again = site.client.post(path, data={"form_token": _form_token(path)})
    assert again.status_code == 200 and "already recorded" in again.text
    assert dump(site.store) == before


def test_the_training_page_is_for_the_mentor_only(site: Site) -> None:
    before = dump(site.store)
    path = site.link("training", "mentee", "training")
    assert site.client.get(path).status_code == 403
    assert site.client.post(path, data={"form_token": _form_token(path)}).status_code == 403
    assert dump(site.store) == before and not _trained(site, "E1003")


def test_the_help_page_tells_the_coordinator_once_and_gives_their_contact(site: Site) -> None:
    path = site.link("survey", "mentee", "help")
    page = site.client.get(path)
    assert page.status_code == 200 and "I need help / we want to pause" in page.text
    assert "Sam de Wit" in page.text and 'href="mailto:mentoring@example.com"' in page.text
    assert '<label for="note">' in page.text and 'name="wish" value="help" checked' in page.text
    before = dump(site.store)
    wrong = site.post(path, {"wish": "quit", "note": "x" * 2001})
    assert wrong.status_code == 422 and 'href="#wish"' in wrong.text and 'href="#note"' in wrong.text
    assert dump(site.store) == before

    done = site.post(path, {"wish": "help", "note": "We have not managed to meet since May."})
    assert done.status_code == 200 and "has your request" in done.text
    with site.store.connect() as conn:
        rows = conn.execute(select(outbox).where(outbox.c.action == "help_requested")).mappings().all()
        entry = conn.execute(select(audit_entries).order_by(audit_entries.c.id.desc()).limit(1)).one()
    assert [r["params"]["help"]["note"] for r in rows] == ["We have not managed to meet since May."]
    assert (entry.trigger, entry.relationship_id) == ("help_requested", site.rels["survey"])
    assert entry.actor.startswith("participant:") and entry.actor.endswith(" via link")
    after = dump(site.store)
    again = site.post(path, {"wish": "help", "note": "again"})
    assert again.status_code == 200 and "already with the coordinator" in again.text
    assert dump(site.store) == after
