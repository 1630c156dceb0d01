"""What the API answers (the request is the door's ``FulfilmentRequest``), and the OpenAPI
entry of a body a route reads itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.fulfilments import Fulfilment


class Line(BaseModel):
    order_item_id: str | None = Field(None, description="Amazon's order item id, or ...")
    sku: str | None = Field(None, description="... the seller's SKU (one item of the order).")
    quantity: int = Field(ge=1)


class FailureOut(BaseModel):
    code: str | None
    reason: str | None


class FulfilmentOut(BaseModel):
    fulfilment_id: int
    package_reference_id: str = Field(description="What Amazon knows this package by.")
    account_id: int
    amazon_order_id: str
    platform_fulfilment_id: str
    state: Literal["accepted", "sending", "confirmed", "failed"]
    shipped_at: datetime
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str
    lines: list[Line]
    buyer_notified_by: Literal["amazon"] = Field(
        "amazon", description="Amazon notifies the buyer; the platform must not."
    )
    failure: FailureOut | None = None


class ErrorOut(BaseModel):
    field: str
    reason: str


class ErrorsOut(BaseModel):
    errors: list[ErrorOut] = Field(
        description="Every refusal, at most the first 50; when there were more, a last entry "
        "with field 'errors' says how many ('N more not listed ...')."
    )


def fulfilment_out(fulfilment: Fulfilment) -> dict[str, Any]:
    failure = None
    if fulfilment.failure_code is not None or fulfilment.failure_reason is not None:
        failure = FailureOut(code=fulfilment.failure_code, reason=fulfilment.failure_reason)
    out = FulfilmentOut(
        fulfilment_id=fulfilment.id,
        package_reference_id=fulfilment.package_reference_id,
        account_id=fulfilment.account_id,
        amazon_order_id=fulfilment.amazon_order_id,
        platform_fulfilment_id=fulfilment.platform_fulfilment_id,
        state=fulfilment.state.value,
        shipped_at=fulfilment.shipped_at,
        carrier_code=fulfilment.carrier_code,
        carrier_name=fulfilment.carrier_name,
        shipping_method=fulfilment.shipping_method,
        tracking_number=fulfilment.tracking_number,
        lines=[
            Line(order_item_id=line.order_item_id, sku=line.sku, quantity=line.quantity)
            for line in fulfilment.lines
        ],
        failure=failure,
    )
    return out.model_dump(mode="json")


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads its JSON body itself (to refuse it in the
    channel's words): the model's schema, its definitions inlined, since an OpenAPI document
    resolves ``#/...`` references from its own root."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(definitions[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline(schema)}},
        }
    }
