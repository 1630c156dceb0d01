"""A Finances refund event becomes the domain's ``AmazonRefund``: each ChargeType on its
component, the seller's signs turned into the buyer's, the restocking fee as the amount kept
back, an unknown ChargeType handed back rather than lost, and a bad event refused by name."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.refunds import AmazonRefundItem, Component
from domain.shared import Money
from infra.amazon.schemas import ShipmentEvent
from infra.amazon.translate import (
    CHARGE_COMPONENTS,
    TranslationError,
    UnmappedCharge,
    refund_to_domain,
)

ORDER = "113-0000001-0000001"


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def charge(kind: str, amount: str, currency: str = "USD") -> dict[str, Any]:
    return {
        "ChargeType": kind,
        "ChargeAmount": {"CurrencyCode": currency, "CurrencyAmount": Decimal(amount)},
    }


def event(*charges: dict[str, Any], **changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "AmazonOrderId": ORDER,
        "MarketplaceName": "Amazon.com",
        "PostedDate": "2026-11-02T10:15:00+01:00",
        "ShipmentItemAdjustmentList": [
            {
                "SellerSKU": "MUG-RED",
                "OrderItemId": "00000000000001",
                "OrderAdjustmentItemId": "amzn1.adj.1",
                "ItemChargeAdjustmentList": list(charges),
                "ItemFeeAdjustmentList": [
                    {
                        "FeeType": "Commission",
                        "FeeAmount": {"CurrencyCode": "USD", "CurrencyAmount": 3},
                    }
                ],
            }
        ],
    }
    raw.update(changes)
    return raw


def test_every_charge_type_lands_on_its_component_from_the_buyers_side() -> None:
    translated = refund_to_domain(
        event(
            charge("Principal", "-20.00"),
            charge("Tax", "-1.60"),
            charge("ShippingCharge", "-4.99"),
            charge("ShippingTax", "-0.40"),
            charge("GiftWrap", "-2.00"),
            charge("GiftWrapTax", "-0.16"),
            charge("Goodwill", "-5.00"),
            charge("RestockingFee", "3.00"),  # the seller keeps it: posted positive
            charge("ReturnShipping", "-6.50"),
        )
    )

    refund = translated.refund
    assert refund.amazon_order_id == ORDER
    assert refund.posted_at == datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    assert refund.posted_at.tzinfo is UTC
    assert refund.marketplace_name == "Amazon.com"
    assert refund.items == (
        AmazonRefundItem(
            order_item_id="00000000000001",
            sku="MUG-RED",
            adjustment_item_id="amzn1.adj.1",
            amounts=(
                (Component.ITEM_PRICE, usd("20.00")),
                (Component.SHIPPING, usd("4.99")),
                (Component.TAX, usd("1.60")),
                (Component.SHIPPING_TAX, usd("0.40")),
                (Component.GIFT_WRAP, usd("2.00")),
                (Component.GIFT_WRAP_TAX, usd("0.16")),
                (Component.GOODWILL, usd("5.00")),
                (Component.RESTOCKING_FEE, usd("3.00")),  # kept back: the positive amount kept
                (Component.RETURN_SHIPPING, usd("6.50")),
            ),
        ),
    )
    assert translated.unmapped == ()
    assert set(CHARGE_COMPONENTS.values()) == set(Component)


def test_an_unknown_charge_type_is_handed_back_not_lost_and_zeros_say_nothing() -> None:
    translated = refund_to_domain(
        event(
            charge("Principal", "-10.00"),
            charge("ExportCharge", "-1.25"),
            charge("GiftWrap", "0.00"),
            charge("CODCharge", "0"),
        )
    )

    assert translated.refund.items[0].amounts == ((Component.ITEM_PRICE, usd("10.00")),)
    assert translated.unmapped == (
        UnmappedCharge(ORDER, "00000000000001", "ExportCharge", usd("-1.25")),
    )


def test_a_component_posted_twice_is_added_up() -> None:
    translated = refund_to_domain(event(charge("Principal", "-10.00"), charge("Principal", "-2.5")))

    assert translated.refund.items[0].amounts == ((Component.ITEM_PRICE, usd("12.50")),)


def test_a_validated_event_and_the_raw_json_translate_alike() -> None:
    raw = event(charge("Principal", "-1.00"))
    assert refund_to_domain(ShipmentEvent.model_validate(raw)) == refund_to_domain(raw)


def test_items_listed_as_shipment_items_are_read_when_there_is_no_adjustment_list() -> None:
    raw = event()
    items = raw.pop("ShipmentItemAdjustmentList")
    items[0]["ItemChargeList"] = [charge("Principal", "-7.00")]
    del items[0]["ItemChargeAdjustmentList"]
    raw["ShipmentItemList"] = items

    translated = refund_to_domain(raw)

    assert translated.refund.items[0].amounts == ((Component.ITEM_PRICE, usd("7.00")),)


def test_the_key_is_stable_across_reads() -> None:
    first = refund_to_domain(event(charge("Principal", "-1.00"))).refund
    again = refund_to_domain(event(charge("Principal", "-1.00"))).refund
    assert first.key == again.key == f"{ORDER}|2026-11-02T09:15:00+00:00|amzn1.adj.1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            event(charge("Principal", "-1"), AmazonOrderId=None),
            r"RefundEventList\[4\]\.AmazonOrderId is missing",
        ),
        (event(charge("Principal", "-1"), PostedDate=None), "PostedDate is missing"),
        (event(charge("Principal", "-1"), PostedDate="2026-11-02T10:15:00"), "PostedDate"),
        (event(charge("Principal", "-1"), ShipmentItemAdjustmentList=[]), "no item refunded"),
        (
            event({"ChargeAmount": {"CurrencyCode": "USD", "CurrencyAmount": 1}}),
            r"ItemChargeAdjustmentList\[0\]\.ChargeType is missing",
        ),
        (event({"ChargeType": "Principal"}), "ChargeAmount is missing"),
        (
            event({"ChargeType": "Tax", "ChargeAmount": {"CurrencyCode": "USD"}}),
            "CurrencyAmount is missing",
        ),
        (
            event({"ChargeType": "Tax", "ChargeAmount": {"CurrencyAmount": 1}}),
            "CurrencyCode is missing",
        ),
        (event(charge("Principal", "-1", currency="dollars")), "not an ISO 4217 code"),
        (
            event(charge("Principal", "-1"), charge("Principal", "-1", currency="EUR")),
            "in EUR and in USD",
        ),
    ],
)
def test_an_event_the_domain_cannot_use_is_refused_naming_the_field(
    raw: dict[str, Any], reason: str
) -> None:
    with pytest.raises(TranslationError, match=reason):
        refund_to_domain(raw, "RefundEventList[4]")
