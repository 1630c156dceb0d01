"""The operation registry: Amazon's official SP-API models (byte copies in ``spapi_models/``)
and what we read from them, each operation keyed ``"<model>.<operationId>"``.

The transport takes each operation's method and path from here, and the sandbox and the rate
limiter their rates, so none has a number typed by hand: each operation's description carries
Amazon's "Usage Plan" table (rate, burst).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

# Our short names for the model files, used as the first half of an operation key.
MODEL_FILES: dict[str, str] = {
    "orders2026": "orders_2026-01-01.json",
    "ordersV0": "ordersV0.json",
    "feeds": "feeds_2021-06-30.json",
    "reports": "reports_2021-06-30.json",
    "financesV0": "financesV0.json",
    "finances2024": "finances_2024-06-19.json",
    "transfers": "transfers_2024-06-01.json",
    "tokens": "tokens_2021-03-01.json",
    "notifications": "notifications.json",
}

_USAGE_PLAN = re.compile(r"\|\s*([0-9.]+)\s*\|\s*([0-9]+)\s*\|")


@dataclass(frozen=True, slots=True)
class UsagePlan:
    """Amazon's default bucket for one operation: ``rate`` tokens/second, ``burst`` capacity."""

    rate: float
    burst: int


@dataclass(frozen=True, slots=True)
class Operation:
    key: str  # "<model>.<operationId>", e.g. "orders2026.searchOrders"
    model: str
    operation_id: str
    method: str
    path: str
    usage_plan: UsagePlan | None
    spec: dict[str, Any]


@cache
def load_model(model: str) -> dict[str, Any]:
    """The parsed JSON of one of Amazon's model files, by our short name."""
    text = resources.files("infra.amazon").joinpath("spapi_models", MODEL_FILES[model]).read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _usage_plan(description: str) -> UsagePlan | None:
    marker = description.find("Usage Plan")
    if marker < 0:
        return None
    match = _USAGE_PLAN.search(description, marker)
    if match is None:
        return None
    return UsagePlan(rate=float(match.group(1)), burst=int(match.group(2)))


@cache
def operations() -> dict[str, Operation]:
    """Every operation of every model we carry, keyed ``"<model>.<operationId>"``."""
    found: dict[str, Operation] = {}
    for model in MODEL_FILES:
        for path, methods in load_model(model).get("paths", {}).items():
            for method, spec in methods.items():
                if not isinstance(spec, dict) or "operationId" not in spec:
                    continue
                key = f"{model}.{spec['operationId']}"
                found[key] = Operation(
                    key=key,
                    model=model,
                    operation_id=spec["operationId"],
                    method=method.upper(),
                    path=path,
                    usage_plan=_usage_plan(spec.get("description", "")),
                    spec=spec,
                )
    return found


def usage_plan(operation_key: str) -> UsagePlan:
    """Amazon's default rate and burst for an operation; a KeyError names an unknown operation."""
    plan = operations()[operation_key].usage_plan
    if plan is None:
        raise KeyError(f"{operation_key} has no usage plan in Amazon's model")
    return plan
