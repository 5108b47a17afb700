"""Development goals through the REST API: set, moved on, read, each as the commands do it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.store.tables import audit_entries, goals
from tests.web.conftest import dump

from .conftest import Api
from .test_api import _problem


def test_a_system_sets_goals_records_their_levels_and_reads_them(api: Api) -> None:
    rel = api.rels[0]
    goal = {"relationship_id": rel, "title": "Chair the team meeting", "program_goal": "leadership"}
    body = {"goals": [{**goal, "target": "2026-09-01"}]}
    done = api.post("/goals", body, token="lms")
    assert done.status_code == 200, done.text
    (gid,) = done.json()["ids"]
    level = {"relationship_id": rel, "goal_id": gid, "level": "partly"}
    moved = api.post("/goal-levels", {"levels": [level]}, token="lms")
    assert moved.json() == {"changed": 1}, moved.text
    read = api.get(f"/relationships/{rel}/goals", token="reader")
    assert read.status_code == 200, read.text
    mine: dict[str, Any] = read.json()[-1]
    assert mine == {"id": gid, "relationship_id": rel, "title": "Chair the team meeting",
                    "program_goal": "leadership", "target": "2026-09-01", "level": "partly",
                    "set_by": "api:lms"}  # fmt: skip
    with api.store.connect() as conn:
        entries = conn.execute(
            select(audit_entries.c.trigger, audit_entries.c.actor).where(
                audit_entries.c.relationship_id == rel
            )
        ).all()
    assert [tuple(e) for e in entries][-2:] == [("set_goal", "api:lms"), ("goal_progress", "api:lms")]


def test_a_bad_goal_is_a_problem_pointing_at_it_and_nothing_is_written(api: Api) -> None:
    rel = api.rels[0]
    before = dump(api.store)
    unknown = {"relationship_id": rel, "title": "Also fine", "program_goal": "juggling"}
    wrong = {"goals": [{"relationship_id": rel, "title": "Fine"}, unknown]}
    body = _problem(api.post("/goals", wrong, token="lms"), 422)
    assert body["errors"][0]["pointer"] == "/goals/1/program_goal", body
    assert "unknown program goal 'juggling'" in body["errors"][0]["detail"]
    level = {"levels": [{"relationship_id": rel, "goal_id": 1, "level": "done"}]}
    assert (
        _problem(api.post("/goal-levels", level, token="lms"), 422)["errors"][0]["pointer"]
        == "/levels/0/level"
    )
    _problem(api.get("/relationships/9999/goals", token="reader"), 404)
    _problem(api.post("/goals", {"goals": [{"relationship_id": rel, "title": "x"}]}, token="reader"), 403)
    assert dump(api.store) == before
    with api.store.connect() as conn:
        assert conn.execute(select(goals.c.id).where(goals.c.text == "Fine")).first() is None
