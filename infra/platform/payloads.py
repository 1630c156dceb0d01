"""Events as the platform receives them: each event's topic and its webhook JSON. The one place
that knows the platform's contract; stores append event values and this module shapes them.

Every payload says ``channel: "amazon"`` and ``buyer_notified_by: "amazon"``: Amazon notifies
the buyer of a shipment and of a refund, so the platform must not (rule 4). No buyer data: we
never store any.

A refund's and a cancellation's events are the same classes (``domain.refunds.events``): a
``RefundConfirmed`` or ``RefundFailed`` of a cancellation goes out as ``cancellations/...``.
Amounts are decimal strings with the currency's decimal places, every component on every line
(``"0.00"`` for one it does not give back), so the platform reads one shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.fulfilments import Fulfilment, ReadBack
from domain.fulfilments.events import (
    FulfilmentConfirmed,
    FulfilmentFailed,
    FulfilmentRefused,
    ShipByApproaching,
    ShipByEvent,
    ShipByMissed,
)
from domain.orders import order_total
from domain.orders.events import OrderCancelled, OrderCreated, OrderEvent, OrderUpdated
from domain.payouts import PayoutAvailable, PayoutEvent, PayoutUnreconciled
from domain.refunds import FIELD_NAMES, FIELD_OF, Component, Refund, RefundKind
from domain.refunds.amounts import tidy
from domain.refunds.events import (
    CancellationConfirmed,
    CancellationFailed,
    RefundConfirmed,
    RefundEvent,
    RefundFailed,
    RefundRecordedFromAmazon,
)
from domain.refunds.intake import NO_CURRENCY
from domain.shared import Money
from domain.shared.events import Event

CHANNEL = "amazon"
_ZERO = Decimal(0)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _platform(account_id: int | None) -> dict[str, Any]:
    """The fields every payload opens with."""
    return {"account_id": account_id, "channel": CHANNEL, "buyer_notified_by": CHANNEL}


def _order(event: OrderEvent) -> dict[str, Any]:
    order = event.order
    total = order_total(order)
    return {
        **_platform(event.account_id),
        "amazon_order_id": order.amazon_order_id,
        "marketplace_id": order.marketplace_id,
        "status": order.status.value,
        "fulfilled_by": order.fulfilled_by.value,
        "read_only": order.read_only,
        "currency": order.currency,
        "total": str(total.amount) if total is not None else None,
        "purchased_at": _iso(order.purchased_at),
        "amazon_updated_at": _iso(order.last_updated_at),
        "ship_by": {"earliest": _iso(order.ship_by_earliest), "latest": _iso(order.ship_by_latest)},
        "deliver_by": {
            "earliest": _iso(order.deliver_by_earliest),
            "latest": _iso(order.deliver_by_latest),
        },
        "is_business": order.is_business,
        "is_prime": order.is_prime,
        "is_replacement": order.is_replacement,
        "replaced_order_id": order.replaced_order_id,
        "buyer_cancel_requested": order.buyer_cancel_requested,
        "buyer_cancel_reason": order.buyer_cancel_reason,
        "version": event.version,
        "lines": [
            {
                "order_item_id": line.order_item_id,
                "sku": line.sku,
                "asin": line.asin,
                "quantity_ordered": line.quantity_ordered,
                "quantity_shipped": line.quantity_shipped,
                "unit_price": str(line.unit_price.amount) if line.unit_price else None,
                "cancel_requested": line.cancel_requested,
            }
            for line in order.lines
        ],
    }


def _fulfilment(fulfilment: Fulfilment) -> dict[str, Any]:
    return {
        **_platform(fulfilment.account_id),
        "fulfilment_id": fulfilment.id,
        "platform_fulfilment_id": fulfilment.platform_fulfilment_id,
        "amazon_order_id": fulfilment.amazon_order_id,
        "package_reference_id": fulfilment.package_reference_id,
        "state": fulfilment.state.value,
        "shipped_at": _iso(fulfilment.shipped_at),
        "carrier_code": fulfilment.carrier_code,
        "carrier_name": fulfilment.carrier_name,
        "shipping_method": fulfilment.shipping_method,
        "tracking_number": fulfilment.tracking_number,
        "lines": [
            {"order_item_id": line.order_item_id, "sku": line.sku, "quantity": line.quantity}
            for line in fulfilment.lines
        ],
    }


def _read_back(read_back: ReadBack) -> dict[str, Any]:
    order = read_back.order
    return {
        "order_status": order.status.value if order is not None else None,
        "package_status": read_back.package_status,
        "package_listed": read_back.package_listed,
        "read_error": read_back.error,
        # Not read yet (the seller's getOrder budget was spent): read shortly, the order then
        # comes as ``orders/updated``.
        "read_deferred": read_back.deferred,
        "items": [
            {
                "order_item_id": line.order_item_id,
                "quantity_ordered": line.quantity_ordered,
                "quantity_shipped": line.quantity_shipped,
            }
            for line in (order.lines if order is not None else ())
        ],
    }


def _confirmed(event: FulfilmentConfirmed) -> dict[str, Any]:
    return {**_fulfilment(event.fulfilment), "amazon": _read_back(event.read_back)}


def _failed(event: FulfilmentFailed) -> dict[str, Any]:
    error = {"source": "amazon", "code": event.code, "message": event.message}
    return {**_fulfilment(event.fulfilment), "error": error}


def _refused(event: FulfilmentRefused) -> dict[str, Any]:
    rejected = event.rejected
    return {
        "account": event.account_ref,
        **_platform(event.account_id),
        "fulfilment_id": None,
        "platform_fulfilment_id": event.platform_fulfilment_id,
        "amazon_order_id": event.amazon_order_id,
        "state": "rejected",
        "error": {
            "source": "validation",
            "code": "Conflict" if rejected.conflict else "InvalidRequest",
            "message": rejected.message,
            "errors": [{"field": e.field, "reason": e.reason} for e in rejected.errors],
        },
    }


def _ship_by(event: ShipByEvent) -> dict[str, Any]:
    order = event.order
    return {
        **_platform(order.account_id),
        "amazon_order_id": order.amazon_order_id,
        "status": order.status,
        "ship_by_latest": _iso(order.ship_by_latest),
        "minutes_left": event.minutes_left,
        "quantity_unshipped": order.quantity_remaining,
        "items": [
            {
                "order_item_id": item.order_item_id,
                "sku": item.sku,
                "quantity_unshipped": item.quantity_remaining,
            }
            for item in order.items
            if item.quantity_remaining > 0
        ],
    }


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount with its currency's decimal places ("19.90", "1500"), never rounded away."""
    return f"{tidy(amount, currency):f}"


def _refund(refund: Refund) -> dict[str, Any]:
    """A refund or a cancellation as the platform knows it: ``refund_id`` and
    ``platform_refund_id``, or ``cancellation_id`` and ``platform_cancellation_id``."""
    name = "cancellation" if refund.kind is RefundKind.CANCELLATION else "refund"
    currency = refund.currency
    body: dict[str, Any] = {
        **_platform(refund.account_id),
        f"{name}_id": refund.id,
        f"platform_{name}_id": refund.platform_id,
        "kind": refund.kind.value,
        "source": refund.source.value,
        "state": refund.state.value,
        "amazon_order_id": refund.amazon_order_id,
        "marketplace_id": refund.marketplace_id,
        "reason": refund.reason,
        "currency": currency,
        "total": amount_text(refund.total.amount, currency),
        "lines": [
            {
                "line_id": line.id,
                "order_item_id": line.order_item_id,
                "sku": line.sku,
                "quantity": line.quantity,
                "amounts": _amounts(line.amounts, currency),
                "total": amount_text(line.total.amount, currency),
            }
            for line in refund.lines
        ],
        "created_at": _iso(refund.created_at),
        "confirmed_at": _iso(refund.confirmed_at),
        "posted_at": _iso(refund.posted_at),
    }
    if refund.kind is RefundKind.CANCELLATION:
        body["whole_order"] = refund.whole_order
    return body


def _amounts(amounts: tuple[tuple[Component, Money], ...], currency: str) -> dict[str, str]:
    """Every component by its field name, as text (zero where nothing goes back)."""
    given = {FIELD_OF[component]: money.amount for component, money in amounts}
    return {name: amount_text(given.get(name, _ZERO), currency) for name in FIELD_NAMES}


def _refund_settled(event: RefundEvent) -> dict[str, Any]:
    return _refund(event.refund)


def _refund_failed(event: RefundFailed | CancellationFailed) -> dict[str, Any]:
    if event.refund.id == 0:
        return _request_refused(event)
    error = {"source": "amazon", "code": event.code, "message": event.message}
    return {**_refund(event.refund), "error": error}


def _request_refused(event: RefundFailed | CancellationFailed) -> dict[str, Any]:
    """A request from the queue that was refused before anything was stored
    (``domain.refunds.refusal_event``): no id, the request's fields as far as they read, and
    the reasons (``code`` InvalidRequest or Conflict). When it was seen is the envelope's
    ``created_at``."""
    refund = event.refund
    name = "cancellation" if refund.kind is RefundKind.CANCELLATION else "refund"
    known_currency = refund.currency != NO_CURRENCY
    body: dict[str, Any] = {
        **_platform(refund.account_id or None),
        f"{name}_id": None,
        f"platform_{name}_id": refund.platform_id,
        "kind": refund.kind.value,
        "source": refund.source.value,
        "state": "rejected",
        "amazon_order_id": refund.amazon_order_id or None,
        "marketplace_id": None,
        "reason": refund.reason or None,
        "currency": refund.currency if known_currency else None,
        "total": None,
        "lines": [],
        "created_at": None,
        "confirmed_at": None,
        "posted_at": None,
        "error": {"source": "validation", "code": event.code, "message": event.message},
    }
    if refund.kind is RefundKind.CANCELLATION:
        body["whole_order"] = None
    return body


def _payout(event: PayoutEvent) -> dict[str, Any]:
    """A settlement's totals in its own currency (amounts as text, never converted)."""
    body: dict[str, Any] = {**_platform(event.account_id), "settlement_id": event.settlement_id}
    figures = event.figures
    if figures is None:
        return body
    currency = figures.deposit.currency

    def text(money: Money) -> str:
        return amount_text(money.amount, currency)

    return {
        **body,
        "currency": currency,
        "period": {"start": _iso(figures.period_start), "end": _iso(figures.period_end)},
        "deposit_date": _iso(figures.deposit_date),
        "deposit": text(figures.deposit),
        "totals": {
            "sales": text(figures.sales),
            "refunds": text(figures.refunds),
            "fees": text(figures.fees),
            "other": text(figures.other),
            "lines_total": text(figures.lines_total),
        },
        "difference": text(figures.difference),
        "lines": figures.lines,
        "lines_set_aside": figures.set_aside,
        "lines_unmatched": figures.unmatched,
    }


def _payout_available(event: PayoutAvailable) -> dict[str, Any]:
    return {**_payout(event), "reconciled": event.reconciled}


def _payout_unreconciled(event: PayoutUnreconciled) -> dict[str, Any]:
    return {**_payout(event), "reconciled": False, "problems": list(event.problems)}


# A refund event's topics: (of a refund, of a cancellation), and its payload.
_REFUND_CONTRACT: dict[type[Event], tuple[str, str, Callable[[Any], dict[str, Any]]]] = {
    RefundConfirmed: ("refunds/confirmed", "cancellations/confirmed", _refund_settled),
    RefundFailed: ("refunds/failed", "cancellations/failed", _refund_failed),
    RefundRecordedFromAmazon: (
        "refunds/recorded_from_amazon",
        "refunds/recorded_from_amazon",
        _refund_settled,
    ),
    CancellationConfirmed: ("cancellations/confirmed", "cancellations/confirmed", _refund_settled),
    CancellationFailed: ("cancellations/failed", "cancellations/failed", _refund_failed),
}


# Each event type: its topic and its payload.
_CONTRACT: dict[type[Event], tuple[str, Callable[[Any], dict[str, Any]]]] = {
    OrderCreated: ("orders/created", _order),
    OrderUpdated: ("orders/updated", _order),
    OrderCancelled: ("orders/cancelled", _order),
    FulfilmentConfirmed: ("fulfilments/confirmed", _confirmed),
    FulfilmentFailed: ("fulfilments/failed", _failed),
    FulfilmentRefused: ("fulfilments/failed", _refused),
    ShipByApproaching: ("orders/ship_by_approaching", _ship_by),
    ShipByMissed: ("orders/ship_by_missed", _ship_by),
    PayoutAvailable: ("payouts/available", _payout_available),
    PayoutUnreconciled: ("payouts/unreconciled", _payout_unreconciled),
}


def _entry(event: Event) -> tuple[str, Callable[[Any], dict[str, Any]]]:
    refund_contract = _REFUND_CONTRACT.get(type(event))
    if refund_contract is not None:
        assert isinstance(event, RefundEvent)
        of_refund, of_cancellation, build = refund_contract
        cancellation = event.refund.kind is RefundKind.CANCELLATION
        return (of_cancellation if cancellation else of_refund), build
    return _CONTRACT[type(event)]


def topic(event: Event) -> str:
    return _entry(event)[0]


def payload(event: Event) -> dict[str, Any]:
    return _entry(event)[1](event)


def encode(event: Event) -> tuple[str, str]:
    """The event's topic and its payload as JSON text (what the outbox stores)."""
    name, build = _entry(event)
    return name, json.dumps(build(event))
