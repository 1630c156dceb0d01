"""Intake on a fake store: one fulfilment per platform id, replays, conflicts, and an
operator's retry."""

from __future__ import annotations

from domain.fulfilments import (
    Accepted,
    FulfilmentState,
    Rejected,
    ShipmentRejected,
    retry_fulfilment,
)
from tests.fakes import FakeAmazon, FakeFulfilmentStore, FixedClock
from tests.unit.domain.fulfilments.helpers import accept, accepted, confirm, reasons


def test_accepting_stores_one_fulfilment_with_items_by_amazons_order_item_id(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock, lines=[{"sku": "MUG-RED", "quantity": 2}])
    assert fulfilment.state is FulfilmentState.ACCEPTED
    assert [(ln.order_item_id, ln.quantity) for ln in fulfilment.lines] == [("ITEM-A", 2)]
    assert fulfilment.package_reference_id == str(fulfilment.id)


def test_accepting_the_same_fulfilment_twice_keeps_one_and_answers_the_same(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    first = accept(store, clock)
    second = accept(store, clock, carrier_code="UPS")  # the same, spelled otherwise
    assert isinstance(first, Accepted) and first.created
    assert isinstance(second, Accepted) and not second.created
    assert second.fulfilment == first.fulfilment
    assert len(store.rows) == 1


def test_a_platform_fulfilment_id_used_for_another_body_is_a_conflict(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    accepted(store, clock)
    result = accept(store, clock, tracking_number="ANOTHER")
    assert isinstance(result, Rejected) and result.conflict
    assert "different body" in reasons(result)["platform_fulfilment_id"]
    assert len(store.rows) == 1


def test_an_unknown_account_or_order_is_refused(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    assert "no seller account" in reasons(accept(store, clock, account="nobody"))["account"]
    unknown = reasons(accept(store, clock, amazon_order_id="113-9999999-9999999"))
    assert unknown["amazon_order_id"].startswith("unknown order")


def test_a_retry_is_refused_when_the_quantity_was_shipped_meanwhile(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    fulfilment = accepted(store, clock, lines=[{"order_item_id": "ITEM-B", "quantity": 1}])
    amazon = FakeAmazon(failures=[(ShipmentRejected("InvalidInput", "bad"), False)])
    confirm(store, amazon, fulfilment.id)
    accepted(
        store,
        clock,
        platform_fulfilment_id="F-2",
        lines=[{"order_item_id": "ITEM-B", "quantity": 1}],
    )
    refused = retry_fulfilment(fulfilment.id, store, clock)
    assert "more than remains unshipped" in reasons(refused)["lines[0].quantity"]
