"""A coordinator in a real browser: signs in to the console, approves the matching proposal on the
matching page, and the pair moves on at the next tick (``mentorflow tick``, in its own process); the
history names the coordinator's account. Each page is kept as a screenshot in the test's folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import WAITING_PAIR, Program
from .test_participant_browser import screenshot

PASSWORD = "correct horse battery staple"


def _phase(program: Program, rel_id: int) -> str:
    found = json.loads(program.run("relationships", "list", "--format", "json"))
    return str(next(row["phase"] for row in found if row["id"] == rel_id))


def test_a_coordinator_approves_a_proposal_and_the_next_tick_moves_the_pair_on(
    program: Program, page: Any, tmp_path: Path
) -> None:
    program.run("users", "add", "sam", "--role", "coordinator", "--password-stdin", stdin=PASSWORD + "\n")
    program.run("match", "propose")
    assert _phase(program, WAITING_PAIR) == "intake"

    page.goto(f"{program.base}/")  # no session: the login page
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    screenshot(page, tmp_path / "login.png")
    page.get_by_label("Account name").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{program.base}/")
    screenshot(page, tmp_path / "today.png")

    page.goto(f"{program.base}/matching")
    proposal = page.locator("section.proposal", has_text=f"Relationship {WAITING_PAIR}")
    assert "Ayla Demir" in proposal.inner_text() and "Noor Bakker" in proposal.inner_text()
    screenshot(page, tmp_path / "matching.png")
    proposal.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    screenshot(page, tmp_path / "approved.png")
    assert _phase(program, WAITING_PAIR) == "matched"

    program.run("tick")
    assert _phase(program, WAITING_PAIR) == "kickoff"  # Noor is trained: the kickoff is scheduled
    entries = json.loads(program.run("history", str(WAITING_PAIR), "--format", "json"))
    moves = [(e["trigger"], e["actor"]) for e in entries if e["trigger"] in ("match", "schedule_kickoff")]
    assert moves[0] == ("match", "coordinator:sam") and moves[1][0] == "schedule_kickoff"
