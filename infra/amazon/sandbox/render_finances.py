"""Draw financial events and groups as Finances v0's JSON (``financesV0.json``).

- Amounts are the model's ``Currency``: ``{"CurrencyCode", "CurrencyAmount"}`` with the amount a
  JSON number (the model's ``BigDecimal`` is ``type: number``), on the seller's side: a charge
  to the buyer positive, a fee or a refund negative.
- ``FinancialEvents`` carries every list the model defines (``FINANCIAL_EVENT_LISTS``), empty
  when the sandbox has nothing of the kind, as Amazon answers; shipments are in
  ``ShipmentEventList``, refunds in ``RefundEventList`` (the same ``ShipmentEvent`` shape, with
  ``ShipmentItemAdjustmentList`` items carrying ``OrderAdjustmentItemId``).
- A shipment item lists Principal, Tax, GiftWrap, GiftWrapTax, ShippingCharge and ShippingTax
  (zero when not charged), as Amazon does; a refund item lists the components refunded.
- An open group has no transfer yet: no ``FundTransferStatus``, ``FundTransferDate``,
  ``ConvertedTotal``, ``TraceId``, ``AccountTail`` or ``FinancialEventGroupEnd``.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from infra.amazon.sandbox.state import (
    MARKETPLACES,
    EventGroup,
    EventItem,
    FinancialEvent,
    iso,
    money,
)

# Every list of the model's FinancialEvents, in the model's order.
FINANCIAL_EVENT_LISTS = (
    "ShipmentEventList",
    "ShipmentSettleEventList",
    "RefundEventList",
    "GuaranteeClaimEventList",
    "EBTRefundReimbursementOnlyEventList",
    "ChargebackEventList",
    "PayWithAmazonEventList",
    "ServiceProviderCreditEventList",
    "RetrochargeEventList",
    "RentalTransactionEventList",
    "ProductAdsPaymentEventList",
    "ServiceFeeEventList",
    "SellerDealPaymentEventList",
    "DebtRecoveryEventList",
    "LoanServicingEventList",
    "AdjustmentEventList",
    "SAFETReimbursementEventList",
    "SellerReviewEnrollmentPaymentEventList",
    "FBALiquidationEventList",
    "CouponPaymentEventList",
    "ImagingServicesFeeEventList",
    "NetworkComminglingTransactionEventList",
    "AffordabilityExpenseEventList",
    "AffordabilityExpenseReversalEventList",
    "RemovalShipmentEventList",
    "RemovalShipmentAdjustmentEventList",
    "TrialShipmentEventList",
    "TDSReimbursementEventList",
    "AdhocDisbursementEventList",
    "TaxWithholdingEventList",
    "ChargeRefundEventList",
    "FailedAdhocDisbursementEventList",
    "ValueAddedServiceChargeEventList",
    "CapacityReservationBillingEventList",
)
LIST_OF_KIND = {"shipment": "ShipmentEventList", "refund": "RefundEventList"}
ACCOUNT_TAIL = "482"  # the last digits of the sandbox seller's (invented) bank account


def currency_json(amount: Decimal, currency: str) -> dict[str, Any]:
    return {"CurrencyCode": currency, "CurrencyAmount": float(money(amount, currency))}


def _charges(amounts: tuple[tuple[str, Decimal], ...], currency: str) -> list[dict[str, Any]]:
    return [{"ChargeType": t, "ChargeAmount": currency_json(a, currency)} for t, a in amounts]


def _fees(amounts: tuple[tuple[str, Decimal], ...], currency: str) -> list[dict[str, Any]]:
    return [{"FeeType": t, "FeeAmount": currency_json(a, currency)} for t, a in amounts]


def _item(item: EventItem, currency: str, refund: bool) -> dict[str, Any]:
    drawn: dict[str, Any] = {"SellerSKU": item.sku, "OrderItemId": item.order_item_id}
    if refund:
        drawn["OrderAdjustmentItemId"] = item.adjustment_item_id or ""
    drawn["QuantityShipped"] = item.quantity
    if refund:
        drawn["ItemChargeAdjustmentList"] = _charges(item.charges, currency)
        drawn["ItemFeeAdjustmentList"] = _fees(item.fees, currency)
    else:
        drawn["ItemChargeList"] = _charges(item.charges, currency)
        drawn["ItemFeeList"] = _fees(item.fees, currency)
    if item.withheld:
        drawn["ItemTaxWithheldList"] = [
            {
                "TaxCollectionModel": "MarketplaceFacilitator",
                "TaxesWithheld": _charges(item.withheld, currency),
            }
        ]
    if refund:
        drawn["PromotionAdjustmentList"] = []
    else:
        drawn["PromotionList"] = []
    return drawn


def event_json(event: FinancialEvent) -> dict[str, Any]:
    """A ``ShipmentEvent`` (for ``ShipmentEventList`` or ``RefundEventList``)."""
    refund = event.kind == "refund"
    items = [_item(item, event.currency, refund) for item in event.items]
    return {
        "AmazonOrderId": event.order_id,
        "MarketplaceName": MARKETPLACES[event.marketplace_id].name,
        "PostedDate": iso(event.posted_at),
        "ShipmentItemAdjustmentList" if refund else "ShipmentItemList": items,
    }


def financial_events_json(events: list[FinancialEvent]) -> dict[str, Any]:
    """The model's ``FinancialEvents`` for these events (every list present, in posted order)."""
    drawn: dict[str, Any] = {name: [] for name in FINANCIAL_EVENT_LISTS}
    for event in sorted(events, key=lambda e: e.sequence):
        drawn[LIST_OF_KIND[event.kind]].append(event_json(event))
    return drawn


def group_json(group: EventGroup) -> dict[str, Any]:
    """The model's ``FinancialEventGroup`` (module docstring for what an open one lacks)."""
    total = currency_json(group.total, group.currency)
    drawn: dict[str, Any] = {
        "FinancialEventGroupId": group.group_id,
        "ProcessingStatus": "Open" if group.open else "Closed",
    }
    if not group.open:
        drawn["FundTransferStatus"] = "Succeeded"
    drawn["OriginalTotal"] = total
    if not group.open:
        trace = int(hashlib.sha256(group.group_id.encode()).hexdigest()[:12], 16)
        drawn["ConvertedTotal"] = dict(total)
        drawn["FundTransferDate"] = iso(group.end)
        drawn["TraceId"] = f"{trace:015d}"
        drawn["AccountTail"] = ACCOUNT_TAIL
    drawn["BeginningBalance"] = currency_json(Decimal(0), group.currency)
    drawn["FinancialEventGroupStart"] = iso(group.start)
    if not group.open:
        drawn["FinancialEventGroupEnd"] = iso(group.end)
    return drawn
