"""The validator itself: Amazon's own static examples pass it, and what the model forbids fails."""

from __future__ import annotations

from typing import Any

import pytest

from infra.amazon.models import operations
from infra.amazon.sandbox.operations import SERVED_OPERATIONS
from tests.integration.infra.amazon.sandbox.conformance.schemas import (
    SANDBOX_MODELS,
    assert_conforms,
)

pytestmark = pytest.mark.integration


def _static_examples() -> list[tuple[str, int, int, Any]]:
    found = []
    for key, op in operations().items():
        if op.model not in SANDBOX_MODELS:
            continue
        for status, response in op.spec["responses"].items():
            for index, example in enumerate(
                response.get("x-amzn-api-sandbox", {}).get("static", [])
            ):
                # cancelFeed's 200 example has no response at all: Amazon answers no body.
                found.append((key, int(status), index, example.get("response", {})))
    return found


STATIC_EXAMPLES = _static_examples()


def test_the_models_carry_static_examples_for_the_served_operations() -> None:
    with_examples = {key for key, _, _, _ in STATIC_EXAMPLES}
    assert set(SERVED_OPERATIONS) <= with_examples


@pytest.mark.parametrize(
    ("operation_key", "status", "index", "body"),
    STATIC_EXAMPLES,
    ids=[f"{k}-{s}-{i}" for k, s, i, _ in STATIC_EXAMPLES],
)
def test_amazons_static_examples_validate(
    operation_key: str, status: int, index: int, body: Any
) -> None:
    declared = operations()[operation_key].spec["responses"][str(status)]
    if "schema" not in declared:
        assert body == {}  # a 204: no body
        return
    assert_conforms(operation_key, status, body)


def test_the_validator_rejects_what_the_model_forbids() -> None:
    good = {"orders": [], "lastUpdatedBefore": "2026-01-01T00:00:00Z"}
    assert_conforms("orders2026.searchOrders", 200, good)
    bad: dict[str, Any]
    for bad in (
        {"order": []},
        {"orders": [{"orderId": "1"}]},
        {"orders": [], "lastUpdatedBefore": "yesterday"},
        {"orders": [], "nextToken": "misplaced"},
    ):
        with pytest.raises(AssertionError):
            assert_conforms("orders2026.searchOrders", 200, bad)
