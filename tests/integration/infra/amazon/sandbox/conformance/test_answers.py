"""Every kind of sandbox answer validates against Amazon's own model definitions, strictly,
and every served operation has a success and an error case.
"""

from __future__ import annotations

import pytest

from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from tests.integration.infra.amazon.sandbox.conformance.cases import CASES
from tests.integration.infra.amazon.sandbox.conformance.schemas import (
    assert_conforms,
    declares_body,
)
from tests.integration.infra.amazon.sandbox.conformance.world import (
    ALL_DATA,
    EPOCH,
    Case,
    World,
    search,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("operation_key", sorted(SERVED_OPERATIONS))
def test_every_served_operation_has_success_and_error_cases(operation_key: str) -> None:
    statuses = {case.status for case in CASES.get(operation_key, [])}
    assert any(200 <= s < 300 for s in statuses), f"{operation_key} has no success case"
    assert any(s >= 400 for s in statuses), f"{operation_key} has no conformance case for an error"


@pytest.mark.parametrize(
    ("operation_key", "case"),
    [(key, case) for key, cases in CASES.items() for case in cases],
    ids=lambda v: v if isinstance(v, str) else v.name,
)
def test_sandbox_answers_conform_to_the_model(world: World, operation_key: str, case: Case) -> None:
    response = case.send(world)

    assert response.status_code == case.status, response.text
    if declares_body(operation_key, response.status_code):
        assert_conforms(operation_key, response.status_code, response.json())
    else:
        assert response.content == b""
    assert response.headers.get("x-amzn-RequestId")
    if response.status_code == 429:
        assert "x-amzn-RateLimit-Limit" not in response.headers
    else:
        assert float(response.headers["x-amzn-RateLimit-Limit"]) > 0
    if response.status_code >= 400:
        errors = response.json()["errors"]
        assert errors and all(e["code"] and e["message"] for e in errors)


def test_search_answers_carry_orders_of_every_kind(world: World) -> None:
    """The 200 cases above are only as good as the orders they return: make sure all showed."""
    body = search(lastUpdatedAfter=EPOCH, includedData=ALL_DATA)(world).json()
    ids = {o["orderId"] for o in body["orders"]}
    assert set(world.orders.values()) <= ids
