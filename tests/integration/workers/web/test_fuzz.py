"""The API fuzzed from its own OpenAPI document (schemathesis, bounded: a few seconds): every
operation, each request with a valid bearer token, a wrong one and none; never a 5xx, and every
refusal in the error shape. ``tests/faults/test_fuzz_deep.py`` runs many more examples."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from domain.orders import AmazonOrder
from tests.integration.workers.web.fuzzing import AUTHS, api_schema, check_answer
from workers import bootstrap

pytestmark = pytest.mark.integration

schema = api_schema(max_examples=20)


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_gets_a_server_error_and_every_refusal_has_the_error_shape(
    case: Any, container: bootstrap.Container, order: AmazonOrder
) -> None:
    for headers in AUTHS.values():
        check_answer(case, headers)
