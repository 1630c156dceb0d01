"""The referral fee by category and the groups closed early: a close keeps the events posted so
far in a closed group (by sequence, not by time) and starts a new open one; each part has an id
of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from infra.amazon.sandbox.state import SandboxItem, SandboxOrder
from infra.amazon.sandbox.state.charges import referral_rate, refund_amounts, shipment_amounts
from infra.amazon.sandbox.state.finances import GROUP_PERIOD, Ledger, period_start

NOW = datetime(2026, 11, 3, 12, 0, 0, 500_000, tzinfo=UTC)


def _order(order_id: str, sku: str = "MUG-1", currency: str = "USD") -> SandboxOrder:
    item = SandboxItem("11", "B0", sku, "Thing", 1, Decimal("10.00"), Decimal(0), Decimal(0))
    item.quantity_shipped = 1
    return SandboxOrder(
        order_id, "A1", "ATVPDKIKX0DER", currency, "MERCHANT", "SHIPPED", NOW, NOW, [item]
    )


@pytest.mark.parametrize(
    ("sku", "rate"),
    [("ELEC-TV", "0.08"), ("cam-1", "0.08"), ("JEWEL-RING", "0.20"), ("MUG-1", "0.15")],
)
def test_the_commission_is_a_percentage_by_the_skus_category(sku: str, rate: str) -> None:
    item = _order("x", sku).items[0]
    _, fees, _ = shipment_amounts(item, "USD", 0, 1, "MERCHANT")
    _, refund_fees, _ = refund_amounts((("Principal", Decimal("10.00")),), "USD", True, sku)

    assert referral_rate(sku) == Decimal(rate)
    assert dict(fees)["Commission"] == -Decimal("10.00") * Decimal(rate)
    assert dict(refund_fees)["Commission"] == Decimal("10.00") * Decimal(rate)


def test_a_close_keeps_what_was_posted_and_opens_a_new_group() -> None:
    ledger = Ledger()
    first = ledger.post_shipments(_order("111-0000001-0000001"), NOW)
    assert first is not None

    closed = ledger.close("A1", "USD", NOW)
    later = ledger.post_shipments(_order("111-0000001-0000002"), NOW)  # the same second
    assert later is not None
    groups = ledger.groups("A1", NOW + timedelta(seconds=1))

    assert closed is not None and not closed.open
    assert closed.events == (first,)
    assert closed.start == period_start(NOW) and closed.end == NOW.replace(microsecond=0)
    assert [(g.open, g.events) for g in groups] == [(False, (first,)), (True, (later,))]
    assert groups[1].start == closed.end and groups[1].end == period_start(NOW) + GROUP_PERIOD
    assert len({g.group_id for g in groups}) == 2
    assert ledger.close("A1", "EUR", NOW) is None  # no events in EUR


def test_two_closes_in_one_second_make_groups_with_ids_of_their_own() -> None:
    ledger = Ledger()
    for n in range(3):
        ledger.post_shipments(_order(f"111-0000001-000000{n}"), NOW)
        assert ledger.close("A1", "USD", NOW) is not None

    groups = ledger.groups("A1", NOW)

    assert [g.open for g in groups] == [False, False, False, True]
    assert len({g.group_id for g in groups}) == 4
    assert sum(len(g.events) for g in groups) == 3
