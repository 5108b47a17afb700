"""The API keeps to its own OpenAPI document: schemathesis sends every operation requests drawn from it
(a few per operation, with a token of every scope) and checks each answer: never a server error, a
status and a content type the document names for the operation, a body that matches its schema. The
audit chains still verify afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.services.queries import verify

from .conftest import PREFIX, Api

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 30
"""Requests per operation: a bounded run, for CI."""


@pytest.fixture
def checked_api(api: Api) -> Iterator[Api]:
    """The API, and afterwards the engine's own check of every chain: nothing it wrote broke one."""
    yield api
    assert verify(api.store).problems == [], "a request left an audit chain that does not verify"


def _operations(api: Api) -> list[Any]:
    schema = schemathesis.openapi.from_asgi(f"{PREFIX}/openapi.json", api.client.app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_of_the_document_is_tried(checked_api: Api) -> None:
    labels = {operation.label for operation in _operations(checked_api)}
    assert len(labels) == 17 and "POST /participants" in labels and "POST /goals" in labels, labels


@pytest.mark.parametrize("number", range(17))
def test_every_answer_keeps_to_the_document(number: int, checked_api: Api) -> None:
    operation = _operations(checked_api)[number]
    headers = checked_api.as_("all")

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy())
    def answers(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers()
