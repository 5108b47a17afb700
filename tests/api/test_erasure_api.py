"""``POST /participants/{ref}/erasure``: its own scope, 409 while a pair is open (nothing written), the
erasure with ``close``, and a repeat of the same key answered from what was kept."""

from __future__ import annotations

from typing import Any

from engine.services.queries import verify
from tests.web.conftest import dump

from .conftest import Api

PROBLEM = "application/problem+json"


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    return body


def test_erasing_needs_its_own_scope_and_a_closed_or_closing_pair(api: Api) -> None:
    before = dump(api.store)
    body = {"reason": "request 17"}
    assert (
        "participants:erase"
        in _problem(api.post("/participants/E1101/erasure", body, token="hr"), 403)["detail"]
    )
    refused = _problem(api.post("/participants/E1101/erasure", body), 409)
    assert "open relationship(s)" in refused["detail"] and "`close`" in refused["detail"]
    assert _problem(api.post("/participants/nobody/erasure", body), 404)["detail"].startswith(
        "no participant"
    )
    invalid = _problem(api.post("/participants/E1101/erasure", {"reason": ""}), 422)
    assert [e["pointer"] for e in invalid["errors"]] == ["/reason"]
    assert dump(api.store) == before

    key = {"Idempotency-Key": "erase-e1101"}
    done = api.post("/participants/E1101/erasure", {**body, "close": True}, **key)
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["closed"] and result["relationships"] == len(result["closed"])
    again = api.post("/participants/E1101/erasure", {**body, "close": True}, **key)
    assert again.json() == result and again.headers["Idempotent-Replayed"] == "true"
    person = api.get(f"/participants/{result['participant_id']}", token="reader").json()
    assert (
        person["name"] == f"Erased participant {result['participant_id']}" and person["external_id"] is None
    )
    assert (
        "erased already"
        in _problem(api.post(f"/participants/{result['participant_id']}/erasure", body), 409)["detail"]
    )
    assert verify(api.store).problems == []
