"""The API fuzzed deeper than ``make test`` does (``make faults``): the same checks as
``tests/integration/workers/web/test_fuzz.py`` with many more examples per operation."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from domain.orders import AmazonOrder
from tests.integration.workers.web.fuzzing import AUTHS, api_schema, check_answer
from workers import compose

pytestmark = [pytest.mark.integration, pytest.mark.faults]

schema = api_schema(max_examples=500)


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_input_gets_a_server_error_and_every_refusal_has_the_error_shape(
    case: Any, container: compose.Container, order: AmazonOrder
) -> None:
    for headers in AUTHS.values():
        check_answer(case, headers)
