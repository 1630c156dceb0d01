"""What the API answers (the requests are the doors' ``FulfilmentRequest``, ``RefundRequest`` and
``CancellationRequest``), and the OpenAPI entry of a body a route reads itself."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from domain.fulfilments import Fulfilment
from domain.refunds import FIELD_NAMES, FIELD_OF, Refund, RefundKind, RefundLine
from domain.refunds.reconnect import Approval, ReconnectPlan
from infra.db.accounts import AccountView
from infra.platform.payloads import amount_text


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


AMOUNT_TEXT = "A decimal string with the currency's decimal places."
RefundStateName = Literal["held", "awaiting_approval", "accepted", "in_feed", "confirmed", "failed"]


class AmountsOut(BaseModel):
    """Every component of a line ("0.00" for one it does not give back)."""

    item_price: str
    shipping: str
    tax: str
    shipping_tax: str
    gift_wrap: str
    gift_wrap_tax: str
    goodwill: str
    restocking_fee: str = Field(description="Kept back: the line's total is less by it.")
    return_shipping: str


assert set(AmountsOut.model_fields) == set(FIELD_NAMES)


class RefundLineOut(BaseModel):
    line_id: int = Field(description="Sent to Amazon as MerchantAdjustmentItemID.")
    order_item_id: str
    sku: str | None
    quantity: int | None = Field(description="The units refunded or cancelled, when known.")
    amounts: AmountsOut
    total: str = Field(description="What goes back for the line: the credits less the fee.")


class _RefundOutBase(BaseModel):
    source: Literal["store", "amazon"] = Field(
        description="store: asked by the platform; amazon: made on Amazon, found in Finances."
    )
    state: RefundStateName
    account_id: int
    amazon_order_id: str
    marketplace_id: str
    reason: str = Field(description="Amazon's reason code (AdjustmentReason, CancelReason).")
    currency: str
    total: str = Field(description=f"What goes back to the buyer. {AMOUNT_TEXT}")
    lines: list[RefundLineOut]
    buyer_notified_by: Literal["amazon"] = Field(
        "amazon", description="Amazon notifies the buyer; the platform must not."
    )
    failure: FailureOut | None = Field(
        None, description="Amazon's code and text (or why it was not sent), when it failed."
    )
    attempts: int
    created_at: datetime
    confirmed_at: datetime | None
    posted_at: datetime | None = Field(description="For one found on Amazon: when it posted.")


class RefundOut(_RefundOutBase):
    refund_id: int
    kind: Literal["refund"] = "refund"
    platform_refund_id: str | None = Field(description="None for one found on Amazon.")


class CancellationOut(_RefundOutBase):
    cancellation_id: int
    kind: Literal["cancellation"] = "cancellation"
    platform_cancellation_id: str | None
    whole_order: bool = Field(description="The whole order was cancelled.")


class FulfilmentListOut(BaseModel):
    fulfilments: list[FulfilmentOut] = Field(description="Oldest first.")
    next_after: int | None = Field(
        description="Pass it as ``after`` for the next page; null: this is the last page."
    )


class RefundListOut(BaseModel):
    refunds: list[RefundOut] = Field(description="Oldest first.")
    next_after: int | None = Field(
        description="Pass it as ``after`` for the next page; null: this is the last page."
    )


class CancellationListOut(BaseModel):
    cancellations: list[CancellationOut] = Field(description="Oldest first.")
    next_after: int | None = Field(
        description="Pass it as ``after`` for the next page; null: this is the last page."
    )


def _line_out(line: RefundLine, currency: str) -> RefundLineOut:
    given = {FIELD_OF[component]: money.amount for component, money in line.amounts}
    amounts = {name: amount_text(given.get(name, Decimal(0)), currency) for name in FIELD_NAMES}
    return RefundLineOut(
        line_id=line.id,
        order_item_id=line.order_item_id,
        sku=line.sku,
        quantity=line.quantity,
        amounts=AmountsOut(**amounts),
        total=amount_text(line.total.amount, currency),
    )


def refund_out(refund: Refund) -> dict[str, Any]:
    """A refund (``RefundOut``) or a cancellation (``CancellationOut``), by its kind."""
    failure = None
    if refund.failure_code is not None or refund.failure_reason is not None:
        failure = FailureOut(code=refund.failure_code, reason=refund.failure_reason)
    common: dict[str, Any] = {
        "source": refund.source.value,
        "state": refund.state.value,
        "account_id": refund.account_id,
        "amazon_order_id": refund.amazon_order_id,
        "marketplace_id": refund.marketplace_id,
        "reason": refund.reason,
        "currency": refund.currency,
        "total": amount_text(refund.total.amount, refund.currency),
        "lines": [_line_out(line, refund.currency) for line in refund.lines],
        "failure": failure,
        "attempts": refund.attempts,
        "created_at": refund.created_at,
        "confirmed_at": refund.confirmed_at,
        "posted_at": refund.posted_at,
    }
    out: BaseModel
    if refund.kind is RefundKind.CANCELLATION:
        out = CancellationOut(
            cancellation_id=refund.id,
            platform_cancellation_id=refund.platform_id,
            whole_order=refund.whole_order,
            **common,
        )
    else:
        out = RefundOut(refund_id=refund.id, platform_refund_id=refund.platform_id, **common)
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


# --- seller accounts: disconnecting, the reconnect plan, approvals ---------------------------


class AccountOut(BaseModel):
    """A seller account as the API shows it (its credentials never)."""

    account_id: int
    name: str
    selling_partner_id: str
    region: str
    marketplace_ids: list[str]
    connected: bool = Field(description="False: nothing goes to Amazon for it (no sync, no send).")
    disconnected_at: datetime | None = Field(description="When it was last disconnected.")


def _account(account: AccountView) -> AccountOut:
    return AccountOut(
        account_id=account.id,
        name=account.name,
        selling_partner_id=account.selling_partner_id,
        region=account.region,
        marketplace_ids=list(account.marketplace_ids),
        connected=account.connected,
        disconnected_at=account.disconnected_at,
    )


def account_out(account: AccountView) -> dict[str, Any]:
    return _account(account).model_dump(mode="json")


class PlanItemOut(BaseModel):
    refund_id: int = Field(description="The refund's or cancellation's id (approve it by it).")
    kind: Literal["refund", "cancellation"]
    platform_id: str | None = Field(description="The platform's refund or cancellation id.")
    amazon_order_id: str
    total: str = Field(description=f"What would go back to the buyer. {AMOUNT_TEXT}")
    currency: str
    state: RefundStateName = Field(
        description="held: the account is disconnected; awaiting_approval: reconnected, "
        "waiting for a person."
    )
    verdict: Literal["safe", "needs_approval", "cannot"] = Field(
        description="safe: nothing of the order shipped (approved with all_safe); "
        "needs_approval: the order shipped, approve it by its id on purpose; cannot: it can "
        "no longer be done (reject it)."
    )
    reason: str = Field(description="Why this verdict.")


class PlanOut(BaseModel):
    """What reconnecting sends, and what waits for a person: no held refund or cancellation
    is sent until it is approved."""

    account: AccountOut
    fulfilments_waiting: int = Field(description="Accepted fulfilments sent once connected.")
    sync_from: datetime | None = Field(
        description="The order sync catches up from here (null: from its start)."
    )
    items: list[PlanItemOut] = Field(description="Held or awaiting approval, oldest first.")


class RefusedOut(BaseModel):
    refund_id: int
    reason: str


class ApprovalOut(BaseModel):
    approved: list[int] = Field(description="Accepted now: they are sent with the next feed.")
    rejected: list[int] = Field(description="Failed now: rejected by an operator.")
    refused: list[RefusedOut] = Field(description="Ids not approved or rejected, each with why.")


class ReconnectOut(PlanOut):
    approval: ApprovalOut | None = Field(
        description="What approve_safe approved (null when it was not asked); the items are "
        "what still waits after it."
    )


def _approval(approval: Approval) -> ApprovalOut:
    return ApprovalOut(
        approved=list(approval.approved),
        rejected=list(approval.rejected),
        refused=[RefusedOut(refund_id=i, reason=why) for i, why in approval.refused],
    )


def approval_out(approval: Approval) -> dict[str, Any]:
    return _approval(approval).model_dump(mode="json")


def _plan(account: AccountView, plan: ReconnectPlan) -> dict[str, Any]:
    return {
        "account": _account(account),
        "fulfilments_waiting": plan.fulfilments_waiting,
        "sync_from": plan.sync_from,
        "items": [
            PlanItemOut(
                refund_id=item.refund.id,
                kind=item.refund.kind.value,
                platform_id=item.refund.platform_id,
                amazon_order_id=item.refund.amazon_order_id,
                total=amount_text(item.refund.total.amount, item.refund.currency),
                currency=item.refund.currency,
                state=item.refund.state.value,
                verdict=item.verdict.value,
                reason=item.reason,
            )
            for item in plan.items
        ],
    }


def plan_out(account: AccountView, plan: ReconnectPlan) -> dict[str, Any]:
    return PlanOut(**_plan(account, plan)).model_dump(mode="json")


def reconnect_out(
    account: AccountView, plan: ReconnectPlan, approval: Approval | None
) -> dict[str, Any]:
    found = _approval(approval) if approval is not None else None
    return ReconnectOut(**_plan(account, plan), approval=found).model_dump(mode="json")
