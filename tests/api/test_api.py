"""The REST API: tokens and scopes, problems that name the field, all-or-nothing batches, idempotency
keys, leavers, pages by cursor, the records and decisions, each as the commands make them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine.services.matching import propose
from engine.services.tokens import create_token
from engine.store.tables import audit_entries, participants, relationships
from tests.integration.support import TRAINED_MENTOR, UNTRAINED_MENTOR, fire, to_review
from tests.web.conftest import dump

from .conftest import PREFIX, Api

PROBLEM = "application/problem+json"


def _person(i: int, **extra: Any) -> dict[str, Any]:
    return {"external_id": f"A{i:05d}", "role": "mentee", "name": f"Api Person {i}",
            "email": f"api.person{i}@example.com", **extra}  # fmt: skip


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_without_a_live_token_every_endpoint_is_401_and_reads_nothing(api: Api) -> None:
    before = dump(api.store)
    for headers in (
        {},
        {"Authorization": "Bearer mf_" + "x" * 43},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        api.as_("revoked"),
    ):
        for method, path in (
            ("get", "/participants"),
            ("get", "/relationships/1"),
            ("post", "/participants"),
        ):
            response = api.client.request(method, PREFIX + path, headers=headers, json={"participants": []})
            body = _problem(response, 401)
            assert response.headers["www-authenticate"].startswith("Bearer"), body
    assert dump(api.store) == before


def test_a_token_without_the_scope_is_403_naming_it(api: Api) -> None:
    before = dump(api.store)
    body = _problem(api.post("/participants", {"participants": [_person(1)]}, token="reader"), 403)
    assert "'participants:write'" in body["detail"] and "'reader'" in body["detail"]
    _problem(api.get("/participants", token="lms"), 403)
    _problem(api.post(f"/proposals/{api.rels[0]}/approve", {}, token="hr"), 403)
    assert dump(api.store) == before


def test_one_bad_participant_among_a_thousand_is_named_and_nothing_is_written(api: Api) -> None:
    people = [_person(i) for i in range(1000)]
    people[417]["email"] = "not an address"
    before = dump(api.store)
    body = _problem(api.post("/participants", {"participants": people}, token="hr"), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/participants/417/email"], body
    people[417]["email"] = people[3]["email"]  # valid, but another's in the same request
    body = _problem(api.post("/participants", {"participants": people}, token="hr"), 422)
    assert body["errors"] == [
        {
            "pointer": "/participants/417/email",
            "detail": "'api.person3@example.com' is already used by /participants/3",
        }
    ]
    people[417] = _person(417, department="x" * 5000)
    body = _problem(api.post("/participants", {"participants": people}, token="hr"), 422)
    assert [e["pointer"] for e in body["errors"]] == ["/participants/417", "/participants/417/department"]
    assert body["errors"][0]["detail"].startswith("also gives department (every participant of one request")
    assert dump(api.store) == before


def test_an_upsert_adds_and_updates_as_the_import_does(api: Api) -> None:
    done = api.post("/participants", {"participants": [_person(1), _person(2, role="mentor")]}, token="hr")
    assert done.status_code == 200, done.text
    result = done.json()
    assert (result["created"], result["updated"], len(result["relationships_opened"])) == (2, 0, 1)
    again = api.post(
        "/participants",
        {"participants": [_person(1, department="Sales"), _person(2, role="mentor", department=None)]},
        token="hr",
    ).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 1)
    assert again["people"][0]["changes"] == [{"field": "department", "old": None, "new": "Sales"}]
    read = api.get("/participants/A00001", token="reader").json()
    assert (read["department"], read["role"], read["status"]) == ("Sales", "mentee", "active")
    dry = api.post("/participants", {"participants": [_person(3)], "dry_run": True}, token="hr").json()
    assert dry["dry_run"] and dry["created"] == 1
    _problem(api.get("/participants/A00003", token="reader"), 404)
    with api.store.connect() as conn:
        entries = conn.execute(select(audit_entries.c.actor).where(audit_entries.c.trigger == "create")).all()
    assert ("api:hr",) in entries


def test_the_same_post_with_one_key_is_carried_out_once(api: Api) -> None:
    key = str(uuid.uuid4())
    body = {"participants": [_person(7)]}
    first = api.post("/participants", body, token="hr", **{"Idempotency-Key": key})
    assert first.status_code == 200 and first.json()["created"] == 1
    after_first = dump(api.store)
    again = api.post("/participants", body, token="hr", **{"Idempotency-Key": key})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert {t: r for t, r in dump(api.store).items() if t != "api_tokens"} == {
        t: r for t, r in after_first.items() if t != "api_tokens"
    }
    other = api.post("/participants", {"participants": [_person(8)]}, token="hr", **{"Idempotency-Key": key})
    assert "another request" in _problem(other, 422)["detail"]
    refused = {"participants": [_person(9, email="bad")]}
    key2 = str(uuid.uuid4())
    first_refusal = api.post("/participants", refused, token="hr", **{"Idempotency-Key": key2})
    assert first_refusal.status_code == 422
    replay = api.post("/participants", refused, token="hr", **{"Idempotency-Key": key2})
    assert (
        replay.status_code == 422 and replay.headers.get("idempotent-replayed") is None
    )  # FastAPI refused it


def test_a_leaver_posted_through_the_api_has_their_pairs_closed(api: Api) -> None:
    with api.store.connect() as conn:
        mentee = (
            conn.execute(select(participants).where(participants.c.external_id == "E1101")).mappings().one()
        )
        (rel_id,) = conn.execute(
            select(relationships.c.id).where(relationships.c.mentee_id == mentee["id"])
        ).one()
    leaver = {"external_id": "E1101", "role": "mentee", "name": mentee["name"], "email": mentee["email"],
              "status": "left"}  # fmt: skip
    done = api.post("/participants", {"participants": [leaver]}, token="hr")
    assert done.status_code == 200, done.text
    assert any("closed" in move for move in done.json()["people"][0]["relationships"]), done.json()
    read = api.get(f"/relationships/{rel_id}", token="reader").json()
    assert read["phase"] == "closed" and read["history"][-1]["actor"] == "api:hr" and read["verified"]


def test_pages_of_participants_walk_them_all_once_by_id(api: Api) -> None:
    seen, cursor = [], None
    while True:
        page = api.get(
            "/participants", token="reader", limit=3, **({"cursor": cursor} if cursor else {})
        ).json()
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    with api.store.connect() as conn:
        assert seen == list(conn.execute(select(participants.c.id).order_by(participants.c.id)).scalars())
    found = api.get("/participants", token="reader", q="MARIEKE").json()["items"]
    assert [p["external_id"] for p in found] == [TRAINED_MENTOR]
    mentors = api.get("/participants", token="reader", role="mentor", limit=500).json()["items"]
    assert mentors and {p["role"] for p in mentors} == {"mentor"}
    body = _problem(api.get("/participants", token="reader", cursor="not-a-cursor"), 422)
    assert body["errors"][0]["parameter"] == "cursor"
    body = _problem(api.get("/participants", token="reader", limit=0), 422)
    assert body["errors"][0]["parameter"] == "limit"


def test_relationships_by_phase_and_overdue_and_one_with_its_history(api: Api) -> None:
    fire(api.store, api.lifecycle, api.clock, api.rels[0], "match", mentor=TRAINED_MENTOR)  # Zoë and Marieke
    intake = api.get("/relationships", token="reader", phase="intake", limit=500).json()["items"]
    assert api.rels[0] not in [r["id"] for r in intake] and {r["phase"] for r in intake} == {"intake"}
    assert _problem(api.get("/relationships", token="reader", phase="nowhere"), 422)["detail"].startswith(
        "`phase`"
    )
    assert api.get("/relationships", token="reader", overdue=True).json()["items"] == []
    api.clock.advance(timedelta(days=400))
    overdue = api.get("/relationships", token="reader", overdue=True, limit=500).json()["items"]
    assert {r["id"] for r in overdue} == set(api.rels)
    one = api.get(f"/relationships/{api.rels[0]}", token="reader").json()
    assert [e["trigger"] for e in one["history"]] == ["create", "match"] and one["verified"]
    assert one["mentor"] == "Marieke de Vries"
    _problem(api.get("/relationships/999999", token="reader"), 404)
    status = api.get("/status", token="reader").json()
    assert status["phases"]["intake"] == len(api.rels) - 1 and status["overdue"]


def test_trainings_meetings_and_answers_are_recorded_as_the_commands_record_them(api: Api) -> None:
    trained = api.post("/trainings", {"mentor": UNTRAINED_MENTOR}, token="lms")
    assert trained.status_code == 200 and trained.json()["mentor"] == UNTRAINED_MENTOR, trained.text
    _problem(api.post("/trainings", {"mentor": "nobody"}, token="lms"), 404)
    rel = api.rels[12]  # Tomasz, whom Marieke may mentor
    fire(api.store, api.lifecycle, api.clock, rel, "match", mentor=TRAINED_MENTOR)
    fire(api.store, api.lifecycle, api.clock, rel, "schedule_kickoff")
    held = api.post("/meetings", {"meetings": [{"relationship_id": rel, "kind": "kickoff"}]}, token="lms")
    assert held.json() == {"recorded": 1}, held.text
    before = dump(api.store)
    tomorrow = (api.clock.now() + timedelta(days=2)).date().isoformat()
    future = {"meetings": [{"relationship_id": rel, "kind": "check-in", "held_on": tomorrow}]}
    assert "future" in _problem(api.post("/meetings", future, token="lms"), 422)["errors"][0]["detail"]
    assert _problem(api.post("/meetings", {"meetings": [{"relationship_id": rel, "kind": "kickoff"}]},
                             token="lms"), 409)  # fmt: skip
    to_review(api.store, api.policy, api.lifecycle, api.clock, api.rels[9])
    assert dump(api.store)["survey_responses"] == before["survey_responses"]
    wrong = {"answers": [{"relationship_id": api.rels[9], "survey": "final", "respondent": "mentee",
                          "answers": {"satisfaction": 11}}]}  # fmt: skip
    body = _problem(api.post("/survey-answers", wrong, token="lms"), 422)
    assert body["errors"][0]["pointer"].startswith("/answers/0"), body
    with api.store.connect() as conn:
        actors = set(conn.execute(select(audit_entries.c.actor)).scalars())
    assert "api:lms" in actors


def test_proposals_are_listed_approved_and_rejected(api: Api) -> None:
    propose(api.store, api.lifecycle, api.clock, actor="matching")
    pending = api.get("/proposals", token="matcher").json()["items"]
    first_page = api.get("/proposals", token="matcher", limit=1).json()
    assert [p["relationship_id"] for p in first_page["items"]] == [pending[0]["relationship_id"]]
    assert first_page["next_cursor"] and len(pending) > 1
    assert pending and {"breakdown", "explanation", "score"} <= set(pending[0])
    first, second = pending[0]["relationship_id"], pending[1]["relationship_id"]
    approved = api.post(f"/proposals/{first}/approve", {}, token="matcher")
    assert approved.json() == {"relationship_id": first, "decision": "approved"}, approved.text
    assert api.get(f"/relationships/{first}", token="reader").json()["phase"] == "matched"
    _problem(api.post(f"/proposals/{second}/reject", {}, token="matcher"), 422)  # no reason
    rejected = api.post(f"/proposals/{second}/reject", {"reason": "same team"}, token="matcher")
    assert rejected.json()["decision"] == "rejected"
    assert (
        "no pending proposal"
        in _problem(api.post(f"/proposals/{second}/approve", {}, token="matcher"), 409)["detail"]
    )


def test_a_token_beyond_its_rate_gets_429_with_retry_after(api: Api) -> None:
    _, secret = create_token(api.store, "slow", ("read",), api.clock.now(), actor="tests", rate_limit=2)
    headers = {"Authorization": f"Bearer {secret}"}
    codes = [api.client.get(f"{PREFIX}/status", headers=headers).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = api.client.get(f"{PREFIX}/status", headers=headers)
    assert (
        "2 requests a minute" in _problem(limited, 429)["detail"] and int(limited.headers["retry-after"]) >= 1
    )
    assert api.get("/status", token="reader").status_code == 200  # another token is not held back


def test_an_unknown_route_or_method_is_a_problem_too(api: Api) -> None:
    assert "/api/v1/nothing" in _problem(api.get("/nothing"), 404)["detail"]
    _problem(api.client.delete(f"{PREFIX}/participants", headers=api.as_("all")), 405)
    _problem(api.client.post(f"{PREFIX}/participants", headers=api.as_("all"), content=b"{not json"), 422)


def test_the_openapi_document_describes_every_refusal_as_a_problem(api: Api) -> None:
    document = api.client.get(f"{PREFIX}/openapi.json").json()
    assert (
        document["servers"] == [{"url": "/api/v1"}] and "token" in document["components"]["securitySchemes"]
    )
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["security"] == [{"token": []}], (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == [PROBLEM], (method, path, status)


def test_a_token_s_use_is_recorded_when_a_request_succeeds_only(api: Api) -> None:
    from engine.services.tokens import list_tokens

    def used(name: str) -> Any:
        return {t.name: t.last_used_at for t in list_tokens(api.store)}[name]

    _problem(api.post("/participants", {"participants": [_person(1, email="bad")]}, token="hr"), 422)
    _problem(api.get("/participants", token="lms"), 403)
    assert used("hr") is None and used("lms") is None
    assert api.get("/status", token="hr").status_code == 200
    assert used("hr") == api.clock.now()


def test_the_event_feed_pages_every_change_in_order(api: Api) -> None:
    from engine.services.events import event_source, feed

    _problem(api.get("/events", token="reader"), 403)  # events:read is a scope of its own
    first = api.get("/events", token="all", limit=10).json()
    assert [int(e["sequence"]) for e in first["events"]] == list(range(1, 11)) and first["last"] == 10
    walked, after = [], 0
    while page := api.get("/events", token="all", after=after, limit=7).json()["events"]:
        walked += page
        after = int(page[-1]["sequence"])
    expected, _ = feed(api.store, event_source(api.store, api.clock.now()), 0, 1000)
    assert walked == expected and len(walked) > 20
    assert api.get("/events", token="all", after=after).json() == {"events": [], "last": after}
    _problem(api.get("/events", token="all", after=-1), 422)
