"""The refund feature's events on the platform's contract: which topic each event class and
refund kind goes to, and a payload's amounts (every component, the currency's decimal places,
the restocking fee kept back). The exact bytes are held by the golden test."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.refunds import (
    FIELD_NAMES,
    CancellationConfirmed,
    CancellationFailed,
    Component,
    Refund,
    RefundConfirmed,
    RefundEvent,
    RefundFailed,
    RefundKind,
    RefundLine,
    RefundRecordedFromAmazon,
    RefundSource,
    RefundState,
)
from domain.shared import Money
from infra.platform import payloads

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


REFUND = Refund(
    id=5,
    kind=RefundKind.REFUND,
    source=RefundSource.STORE,
    account_id=7,
    amazon_order_id="113-0000001-0000001",
    marketplace_id="ATVPDKIKX0DER",
    platform_id="R-5",
    reason="CustomerReturn",
    currency="USD",
    state=RefundState.CONFIRMED,
    lines=(
        RefundLine(
            1,
            "ITEM-A",
            "MUG-RED",
            (
                (Component.ITEM_PRICE, usd("19.9900")),
                (Component.RESTOCKING_FEE, usd("2.0000")),
            ),
        ),
    ),
    fingerprint="f",
    created_at=T0,
)
CANCELLATION = replace(
    REFUND, kind=RefundKind.CANCELLATION, platform_id="C-5", reason="BuyerCanceled"
)


@pytest.mark.parametrize(
    ("event", "topic"),
    [
        (RefundConfirmed(refund=REFUND), "refunds/confirmed"),
        (RefundFailed(refund=REFUND, code="25", message="x"), "refunds/failed"),
        (RefundRecordedFromAmazon(refund=REFUND), "refunds/recorded_from_amazon"),
        (RefundConfirmed(refund=CANCELLATION), "cancellations/confirmed"),
        (RefundFailed(refund=CANCELLATION, code="25", message="x"), "cancellations/failed"),
        (CancellationConfirmed(refund=CANCELLATION), "cancellations/confirmed"),
        (CancellationFailed(refund=CANCELLATION, code="18", message="x"), "cancellations/failed"),
    ],
)
def test_each_event_goes_to_its_topic_by_class_and_kind(event: RefundEvent, topic: str) -> None:
    assert payloads.topic(event) == topic
    name, text = payloads.encode(event)
    data = json.loads(text)
    assert (name, data) == (topic, payloads.payload(event))
    assert (data["channel"], data["buyer_notified_by"]) == ("amazon", "amazon")
    assert data["amazon_order_id"] == "113-0000001-0000001"


def test_a_refund_payload_names_it_and_carries_every_component_as_text() -> None:
    data = payloads.payload(RefundConfirmed(refund=REFUND))
    assert (data["refund_id"], data["platform_refund_id"], data["kind"]) == (5, "R-5", "refund")
    assert "cancellation_id" not in data and "whole_order" not in data
    (line,) = data["lines"]
    assert set(line["amounts"]) == set(FIELD_NAMES)
    assert line["amounts"]["item_price"] == "19.99"
    assert line["amounts"]["restocking_fee"] == "2.00"
    assert line["amounts"]["tax"] == "0.00"
    assert (line["total"], data["total"], data["currency"]) == ("17.99", "17.99", "USD")


def test_a_cancellation_payload_names_it_and_says_whether_it_is_the_whole_order() -> None:
    data = payloads.payload(CancellationConfirmed(refund=replace(CANCELLATION, whole_order=True)))
    assert (data["cancellation_id"], data["platform_cancellation_id"]) == (5, "C-5")
    assert data["whole_order"] is True and "refund_id" not in data


def test_a_failure_carries_amazons_code_and_text() -> None:
    data = payloads.payload(RefundFailed(refund=REFUND, code="25", message="Exceeds the order"))
    assert data["error"] == {"source": "amazon", "code": "25", "message": "Exceeds the order"}


def test_amounts_have_the_currencys_decimal_places() -> None:
    yen = replace(
        REFUND,
        currency="JPY",
        lines=(
            RefundLine(1, "A", None, ((Component.ITEM_PRICE, Money(Decimal("1500.0000"), "JPY")),)),
        ),
    )
    data = payloads.payload(RefundConfirmed(refund=yen))
    assert data["total"] == "1500"
    assert data["lines"][0]["amounts"]["shipping"] == "0"
