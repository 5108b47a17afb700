"""A participant's pages in a real browser: the link from their message, opened in headless Chromium,
the form filled in as a person fills it (clicks on the labels, one answer with the keyboard alone),
sent, and what the history says afterwards (``mentorflow history``, actor ``participant:… via
link``). A second form of the same link sent afterwards records nothing again. Each page is kept
as a screenshot in the test's folder.

The survey link is the one ``outbox deliver`` wrote to the log channel (the end-of-program survey
of relationship 1, in review); the "we met" link of relationship 2 (active) is the one ``mentorflow
link`` prints for the coordinator to send, since a check-in reminder is weeks away; so is the goals
link of its mentee, who adds a goal and changes a level.
"""

from __future__ import annotations

import re
import struct
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .conftest import MEETING_PAIR, SURVEY_PAIR, Program

PNG = b"\x89PNG\r\n\x1a\n"


def screenshot(page: Any, path: Path) -> None:
    """The whole page as a PNG at ``path``: a real picture, as large as the window at least."""
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == PNG and data[12:16] == b"IHDR", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) >= (1024, 768) and height >= 768, (path.name, width, height)
    assert len(data) > 10_000, f"{path.name} has {len(data)} bytes: an empty page?"


def shows(page: Any, title: str) -> str:
    """The text of the page, which must be titled ``title`` (else the failure says what it shows)."""
    text = str(page.locator("main").inner_text())
    assert page.get_by_role("heading", level=1).inner_text() == title, text
    return text


def choose(page: Any, question: str, answer: str) -> None:
    """Click the label ``answer`` in the group of the question (its legend) that starts with ``question``."""
    group = page.get_by_role("group", name=re.compile(rf"^{re.escape(question)}"))
    group.get_by_text(answer, exact=True).click()
    assert group.get_by_role("radio", name=answer, exact=True).is_checked()


def fill_survey(page: Any, comment: str) -> None:
    """Every question of the final survey: clicks, one answer by keyboard, a typed comment."""
    shows(page, "How did it go?")
    choose(page, "How satisfied", "5")
    choose(page, "How likely are you to recommend", "10")
    page.keyboard.press("Tab")  # from the chosen 10 on to the next question, "Did you meet …"
    yes = page.get_by_role("group", name=re.compile("^Did you meet")).get_by_role("radio", name="Yes")
    assert yes.evaluate("element => element === document.activeElement"), "Tab did not reach the question"
    page.keyboard.press("Space")
    assert yes.is_checked()
    choose(page, "lead a team", "Reached")
    choose(page, "speak at a conference", "Partly")
    page.get_by_text("What should the program keep").click()  # the label takes the focus to its box
    page.keyboard.type(comment)
    assert page.get_by_label(re.compile("^What should the program keep")).input_value() == comment


def new_entries(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert after[: len(before)] == before, "an earlier entry of the history changed"
    return after[len(before) :]


def test_the_mentee_answers_the_survey_from_the_link_in_their_message(
    program: Program, browser: Any, page: Any, tmp_path: Path
) -> None:
    message = program.sent(SURVEY_PAIR, "send_survey", "mentee")
    assert message["to"]["address"] == "priya.raman@example.com"
    link = program.link_in(message, "survey")
    before = program.history(SURVEY_PAIR)
    assert before[-1]["trigger"] == "review"

    stale = page.context.new_page()  # the same link opened twice, in two tabs
    stale.goto(link)
    response = page.goto(link)
    assert response is not None and response.status == 200
    fill_survey(page, "Keep the kickoff; more group sessions, please.")
    screenshot(page, tmp_path / "survey-filled.png")
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_load_state()
    assert "Your answers are recorded" in shows(page, "Thank you")
    screenshot(page, tmp_path / "survey-recorded.png")

    answered = new_entries(before, program.history(SURVEY_PAIR))
    actor = "participant:E2001 via link"
    assert (answered[0]["trigger"], answered[0]["actor"]) == ("record_survey", actor)
    moved = answered[1:]  # the mentee's answer moved their goals
    assert moved and {(e["trigger"], e["actor"]) for e in moved} == {("goal_progress", actor)}
    recorded = answered[0]["data"]["survey"]
    assert (recorded["name"], recorded["respondent"]) == ("final", "mentee"), recorded
    assert recorded["answers"] == {
        "satisfaction": 5,
        "recommend": 10,
        "met_regularly": True,
        "goals": ["reached", "partly"],
    }, recorded  # (the comment is kept apart)

    fill_survey(stale, "A second try, from the other tab.")  # the form opened before the answer
    stale.get_by_role("button", name="Send my answers").click()
    stale.wait_for_load_state()
    assert "already recorded; nothing was changed" in shows(stale, "Already recorded")
    screenshot(stale, tmp_path / "survey-again.png")
    response = page.goto(link)  # and the link opened once more: no form, the same answer
    assert response is not None and response.status == 200
    shows(page, "Already recorded")
    assert page.locator("form").count() == 0
    assert program.history(SURVEY_PAIR) == before + answered


def test_the_mentee_says_we_met_through_their_meeting_link(
    program: Program, browser: Any, page: Any, tmp_path: Path
) -> None:
    link = program.run("link", str(MEETING_PAIR), "--for", "mentee", "--purpose", "meeting").strip()
    assert link.startswith(f"{program.base}/l/meeting/"), link
    before = program.history(MEETING_PAIR)
    stale = page.context.new_page()
    stale.goto(link)
    page.goto(link)
    shows(page, "We met")
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    date = page.get_by_label("Date of the meeting")
    assert date.input_value() == today  # offered as today: nothing to type for a meeting held today
    choose(page, "Kind of meeting", "A group session")
    choose(page, "Kind of meeting", "The two of us (check-in)")
    screenshot(page, tmp_path / "meeting-filled.png")
    page.get_by_role("button", name="Record the meeting").click()
    page.wait_for_load_state()
    assert re.search(r"The meeting on .+ is recorded", shows(page, "Thank you"))
    screenshot(page, tmp_path / "meeting-recorded.png")

    met = new_entries(before, program.history(MEETING_PAIR))
    assert [(e["trigger"], e["actor"]) for e in met] == [("record_meeting", "participant:E2002 via link")]
    assert met[0]["data"]["meeting"]["kind"] == "check-in", met[0]["data"]

    stale.get_by_role("button", name="Record the meeting").click()  # the other tab, check-in as offered
    stale.wait_for_load_state()
    assert "already recorded; nothing was changed" in shows(stale, "Already recorded")
    screenshot(stale, tmp_path / "meeting-again.png")
    assert program.history(MEETING_PAIR) == before + met


def test_the_mentee_sets_a_goal_and_its_level_through_their_goals_link(
    program: Program, page: Any, tmp_path: Path
) -> None:
    link = program.run("link", str(MEETING_PAIR), "--for", "mentee", "--purpose", "goals").strip()
    assert link.startswith(f"{program.base}/l/goals/"), link
    before = program.history(MEETING_PAIR)
    page.goto(link)
    shows(page, "Your development goals")
    page.get_by_label("Your goal").fill("Lead the weekly sales meeting")
    choose(page, "The program goal it serves", "Leadership")
    page.get_by_role("button", name="Add the goal").click()
    page.wait_for_load_state()
    assert "Program goal: Leadership" in shows(page, "Your development goals")  # back on the page (303)
    choose(page, "negotiate better", "Partly")
    screenshot(page, tmp_path / "goals-filled.png")
    page.get_by_role("button", name="Save the levels").click()
    page.wait_for_load_state()
    shows(page, "Your development goals")
    group = page.get_by_role("group", name="negotiate better")
    assert group.get_by_role("radio", name="Partly", exact=True).is_checked()
    changed = new_entries(before, program.history(MEETING_PAIR))
    assert [(e["trigger"], e["actor"]) for e in changed] == [
        ("set_goal", "participant:E2002 via link"),
        ("goal_progress", "participant:E2002 via link"),
    ]
    assert changed[0]["data"]["goal"]["program_goal"] == "leadership", changed[0]["data"]
