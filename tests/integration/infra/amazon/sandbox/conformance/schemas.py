"""Amazon's model definitions as a strict validator for the sandbox's answers.

Schemas are never typed here: each response is checked against the schema the model declares
for that operation and status, with ``#/definitions/...`` resolved inside the loaded model.
Validation is strict: every object schema of the model is given ``additionalProperties:
false`` (a programmatic copy), so a misspelt or invented field fails, not only a missing one.
Amazon's own sandbox examples pass the same strict check, which shows the validator accepts
what Amazon sends. A served operation without a case (``cases``) fails the registry test.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from infra.amazon.models import load_model, operations

SANDBOX_MODELS = ("orders2026", "ordersV0", "feeds", "financesV0", "reports")
_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.tzinfo is not None
    return True


def _closed(node: Any) -> Any:
    """A copy of a model where every object schema with properties forbids other properties."""
    if isinstance(node, dict):
        closed = {k: _closed(v) for k, v in node.items()}
        if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
            closed["additionalProperties"] = False
        return closed
    if isinstance(node, list):
        return [_closed(v) for v in node]
    return node


def _registry() -> Registry:
    registry: Registry = Registry()
    for name in SANDBOX_MODELS:
        contents = _closed(copy.deepcopy(load_model(name)))
        resource = Resource.from_contents(contents, default_specification=DRAFT4)
        registry = registry.with_resource(f"urn:spapi:{name}", resource)
    return registry


STRICT = _registry()


def declares_body(operation_key: str, status: int) -> bool:
    """False for answers the model gives no schema (confirmShipment's 204, cancelFeed's 200)."""
    return "schema" in operations()[operation_key].spec["responses"][str(status)]


def response_schema(operation_key: str, status: int) -> dict[str, Any]:
    """The model's schema for this operation's response, as a ref into the loaded model."""
    op = operations()[operation_key]
    declared = op.spec["responses"][str(status)]["schema"]
    ref = declared["$ref"]
    assert ref.startswith("#/definitions/"), ref
    return {"$ref": f"urn:spapi:{op.model}{ref}"}


def assert_conforms(operation_key: str, status: int, body: Any) -> None:
    validator = Draft4Validator(
        response_schema(operation_key, status), registry=STRICT, format_checker=_formats
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]
    )
