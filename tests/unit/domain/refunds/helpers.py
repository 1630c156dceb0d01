"""Commands the refund tests send, spelled short: amounts by the request's field names."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.refunds import (
    FIELD_NAMES,
    FIELD_OF,
    Accepted,
    CancelLineRequest,
    CancelOrder,
    IssueRefund,
    Refund,
    RefundLineRequest,
    accept_cancellation,
    accept_refund,
)
from domain.shared import Rejected
from tests.fakes import FixedClock
from tests.fakes.refund_store import ORDER_ID, FakeRefundStore


def line(
    item: str | None = "ITEM-A",
    *,
    sku: str | None = None,
    quantity: int | None = None,
    **amounts: str,
) -> RefundLineRequest:
    return RefundLineRequest(
        order_item_id=item,
        sku=sku,
        quantity=quantity,
        amounts=tuple((FIELD_NAMES[name], Decimal(value)) for name, value in amounts.items()),
    )


def refund(*lines: RefundLineRequest, **changes: Any) -> IssueRefund:
    fields: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_refund_id": "R-1",
        "reason": "customer_return",
        "lines": lines or (line(item_price="10.00"),),
    }
    fields.update(changes)
    return IssueRefund(**fields)


def cancel(*lines: CancelLineRequest, **changes: Any) -> CancelOrder:
    fields: dict[str, Any] = {
        "account": "acme",
        "amazon_order_id": ORDER_ID,
        "platform_cancellation_id": "C-1",
        "reason": "no_inventory",
        "lines": lines,
    }
    fields.update(changes)
    return CancelOrder(**fields)


def accepted(result: Accepted | Rejected) -> Refund:
    assert isinstance(result, Accepted), result
    return result.refund


def refused(result: Accepted | Rejected) -> dict[str, str]:
    """The refusal's reasons by field (a field refused twice keeps both, joined)."""
    assert isinstance(result, Rejected), result
    found: dict[str, str] = {}
    for error in result.errors:
        found[error.field] = (
            f"{found[error.field]} | {error.reason}" if error.field in found else error.reason
        )
    return found


def give(store: FakeRefundStore, clock: FixedClock, command: IssueRefund) -> Refund:
    return accepted(accept_refund(command, store, clock))


def stop(store: FakeRefundStore, clock: FixedClock, command: CancelOrder) -> Refund:
    return accepted(accept_cancellation(command, store, clock))


def amounts(found: Refund, index: int = 0) -> dict[str, str]:
    return {FIELD_OF[c]: str(m.amount) for c, m in found.lines[index].amounts}
