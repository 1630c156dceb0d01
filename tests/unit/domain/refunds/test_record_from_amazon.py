"""Refunds made on Amazon, on fakes: recorded once when the store did not make them, paired with
the store's own when it did (exactly, or by item price when Amazon added a tax), a store refund
they make too much failed with the date and amount and not sent, and the periodic sweep's
watermark (30 days back first, an overlap, two minutes short of now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.feeds import AmazonBusy
from domain.refunds import Component, Refund, RefundSource, RefundState
from domain.refunds.before_sending import Checked, check_before_sending
from domain.refunds.record_from_amazon import (
    ALREADY_REFUNDED,
    SweepPolicy,
    SweepResult,
    show,
    sweep_amazon_refunds,
)
from domain.refunds.send import FlushPolicy
from domain.shared import Money
from tests.fakes.clock import T0
from tests.fakes.refund_sending import (
    ACCOUNT,
    MARKETPLACE,
    amazon_refund,
    charged_order,
    new_refund,
    usd,
)
from tests.fakes.submission_store import Pipeline

C = Component
# The check without the sweep first: each order is read with listFinancialEventsByOrderId.
READ_EACH_ORDER = FlushPolicy(sweep_first=False)
ORDER = "113-0000001-0000001"
OCT_30 = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def p() -> Pipeline:
    p = Pipeline.new()
    p.world.orders[(ACCOUNT, ORDER)] = charged_order(ORDER)
    return p


def check(p: Pipeline) -> Checked:
    accepted = [r for r in p.world.refunds.values() if r.state is RefundState.ACCEPTED]
    return check_before_sending(accepted, finances=p.finances, store=p.world, clock=p.clock)


def amazon_made(p: Pipeline) -> list[Refund]:
    return [r for r in p.world.refunds.values() if r.source is RefundSource.AMAZON]


def sweep(p: Pipeline, policy: SweepPolicy | None = None) -> SweepResult:
    return sweep_amazon_refunds(
        ACCOUNT, finances=p.finances, store=p.world, clock=p.clock, policy=policy
    )


# --- before sending --------------------------------------------------------------------------


def test_a_refund_made_on_amazon_is_recorded_once_and_a_store_refund_it_makes_too_much_fails(
    p: Pipeline,
) -> None:
    # Seller Central gave back one unit's price; the store now asks for both units'.
    p.finances.post(amazon_refund(ORDER, OCT_30, ("ITEM-A", ((C.ITEM_PRICE, "19.99"),))))
    refund = p.add(new_refund(ORDER, ("ITEM-A", ((C.ITEM_PRICE, "39.98"),))))
    assert p.flush() == []
    failed = p.world.refunds[refund.id]
    assert failed.state is RefundState.FAILED
    assert failed.failure_code == ALREADY_REFUNDED
    assert failed.failure_reason == "already refunded on Amazon on 2026-10-30: 19.99 USD item price"
    (recorded,) = amazon_made(p)
    assert recorded.state is RefundState.CONFIRMED and recorded.posted_at == OCT_30
    assert recorded.marketplace_id == MARKETPLACE and recorded.platform_id is None
    assert [(ln.order_item_id, ln.amounts) for ln in recorded.lines] == [
        ("ITEM-A", ((C.ITEM_PRICE, usd("19.99")),))
    ]
    assert p.world.topics() == ["RefundRecordedFromAmazon", "RefundFailed"]
    assert p.feeds.rendered == []  # not sent
    # Read again: recorded once.
    p.add(new_refund(ORDER, ("ITEM-B", ((C.ITEM_PRICE, "19.99"),))))
    assert len(p.flush()) == 1
    assert len(amazon_made(p)) == 1 and p.world.topics().count("RefundRecordedFromAmazon") == 1


def test_a_store_refund_that_still_fits_after_amazons_goes(p: Pipeline) -> None:
    p.finances.post(amazon_refund(ORDER, OCT_30, ("ITEM-A", ((C.ITEM_PRICE, "19.99"),))))
    p.add(new_refund(ORDER, ("ITEM-A", ((C.ITEM_PRICE, "19.99"), (C.SHIPPING, "4.99")))))
    (built,) = p.flush()
    assert p.store.message_ids(built) == (1,)
    assert len(amazon_made(p)) == 1


def test_the_reason_names_every_amazon_refund_of_the_component_that_runs_over(p: Pipeline) -> None:
    p.finances.post(amazon_refund(ORDER, OCT_30, ("ITEM-A", ((C.TAX, "1.00"),))))
    later = OCT_30 + timedelta(days=1)
    p.finances.post(
        amazon_refund(ORDER, later, ("ITEM-A", ((C.TAX, "2.00"), (C.SHIPPING, "1.00"))))
    )
    refund = p.add(new_refund(ORDER, ("ITEM-A", ((C.TAX, "0.50"),))))
    p.flush()
    assert p.world.refunds[refund.id].failure_reason == (
        "already refunded on Amazon on 2026-10-30: 1.00 USD tax; on 2026-10-31: 2.00 USD tax"
    )


def test_amazons_record_of_a_refund_the_store_made_is_paired_not_recorded(p: Pipeline) -> None:
    p.policy = READ_EACH_ORDER  # pairing is what the order's own read does
    p.add(new_refund(ORDER, ("ITEM-A", ((C.ITEM_PRICE, "19.99"),))))
    p.run()  # sent; the feed's fake posts it in Finances as Amazon would
    assert p.world.refunds[1].state is RefundState.CONFIRMED and len(p.finances.posted) == 1
    p.add(new_refund(ORDER, ("ITEM-A", ((C.ITEM_PRICE, "19.99"),))))
    p.run()
    assert amazon_made(p) == []
    # The second is paired the next time the order is read.
    assert p.world.amazon_keys == {1: p.finances.posted[0].key}
    assert [r.state for r in p.world.refunds.values()] == [RefundState.CONFIRMED] * 2


def test_a_refund_in_a_feed_accounts_for_amazons_record_without_being_paired(p: Pipeline) -> None:
    p.add(new_refund(ORDER, ("ITEM-A", ((C.ITEM_PRICE, "19.99"),))))
    assert len(p.flush()) == 1
    p.finances.post(amazon_refund(ORDER, T0, ("ITEM-A", ((C.ITEM_PRICE, "19.99"),))))
    p.add(new_refund(ORDER, ("ITEM-B", ((C.ITEM_PRICE, "5.00"),))))
    p.flush()
    assert amazon_made(p) == [] and p.world.amazon_keys == {}


def test_amazons_own_tax_on_a_refund_still_pairs_it_by_item_price(p: Pipeline) -> None:
    p.policy = READ_EACH_ORDER  # pairing is what the order's own read does
    p.add(new_refund(ORDER, ("ITEM-A", ((C.ITEM_PRICE, "19.99"),))))
    p.run()
    p.finances.posted.clear()
    refund = amazon_refund(ORDER, T0, ("ITEM-A", ((C.ITEM_PRICE, "19.99"), (C.TAX, "1.60"))))
    p.finances.post(refund)
    p.add(new_refund(ORDER, ("ITEM-B", ((C.ITEM_PRICE, "5.00"),))))
    p.run()
    assert amazon_made(p) == [] and p.world.amazon_keys[1] == refund.key


def test_a_refund_an_earlier_fatal_feed_applied_after_all_is_not_sent_again(p: Pipeline) -> None:
    refund = p.add(new_refund(ORDER, ("ITEM-A", ((C.ITEM_PRICE, "5.00"),))))
    (first,) = p.flush()
    p.advance(first)
    # Amazon said FATAL, yet applied it: Finances shows it a little later.
    p.feeds.final_status = "FATAL"
    p.tick()
    p.advance(first)
    assert p.world.refunds[refund.id].state is RefundState.ACCEPTED
    p.finances.post(amazon_refund(ORDER, p.clock.at, ("ITEM-A", ((C.ITEM_PRICE, "5.00"),))))
    assert p.flush() == []
    failed = p.world.refunds[refund.id]
    assert failed.state is RefundState.FAILED
    assert failed.failure_reason == "already refunded on Amazon on 2026-11-01: 5.00 USD item price"
    assert len(amazon_made(p)) == 1  # the money is counted once, as Amazon's


def test_an_order_the_store_never_synced_is_read_by_sku_and_marketplace_name(p: Pipeline) -> None:
    p.world.account_marketplaces[ACCOUNT] = ("A2EUQ1WTGCTBG2",)
    unknown = amazon_refund("113-0000009-0000001", OCT_30, ("ITEM-Z", ((C.ITEM_PRICE, "3.00"),)))
    p.finances.post(unknown)
    p.clock.at = OCT_30 + timedelta(days=1)
    sweep(p)
    (recorded,) = amazon_made(p)
    assert recorded.marketplace_id == MARKETPLACE  # "Amazon.com"
    assert recorded.amazon_order_id == "113-0000009-0000001"


def test_finances_busy_leaves_the_rest_of_the_batch_unchecked(p: Pipeline) -> None:
    p.add(new_refund(ORDER))
    p.add(new_refund("113-0000002-0000001"))
    p.finances.busy = 1
    result = check(p)
    assert result.unchecked and not result.sendable
    assert p.finances.calls == [("order", ORDER)]


def test_show_gives_two_decimals_at_least() -> None:
    assert show(usd("19.9900")) == "19.99 USD"
    assert show(usd("5")) == "5.00 USD"
    assert show(Money(usd("0.125").amount, "USD")) == "0.125 USD"


# --- the sweep -------------------------------------------------------------------------------


def test_the_first_sweep_reads_thirty_days_back_and_later_ones_from_the_watermark(
    p: Pipeline,
) -> None:
    first = sweep(p)
    assert p.finances.calls == [
        ("posted", (T0 - timedelta(days=30, minutes=5), T0 - timedelta(minutes=2)))
    ]
    assert p.world.cursors[ACCOUNT] == T0 - timedelta(minutes=2)
    assert first.found == 0
    p.tick(timedelta(hours=1))
    sweep(p)
    assert p.finances.calls[-1] == (
        "posted",
        (T0 - timedelta(minutes=7), T0 + timedelta(hours=1) - timedelta(minutes=2)),
    )


def test_a_sweep_records_amazons_refunds_once_however_often_it_reads_them(p: Pipeline) -> None:
    p.finances.post(amazon_refund(ORDER, T0 - timedelta(days=2), ("ITEM-B", ((C.GOODWILL, "3"),))))
    sweep(p)
    sweep(p)
    p.world.cursors.clear()  # a watermark lost: everything is read again
    sweep(p)
    assert len(amazon_made(p)) == 1
    assert p.world.topics() == ["RefundRecordedFromAmazon"]


def test_a_sweep_interrupted_by_amazon_keeps_its_watermark(p: Pipeline) -> None:
    sweep(p)
    mark = p.world.cursors[ACCOUNT]
    p.tick(timedelta(hours=1))
    p.finances.busy = 1
    with pytest.raises(AmazonBusy):
        sweep(p)
    assert p.world.cursors[ACCOUNT] == mark


def test_a_sweep_that_would_pair_reads_the_orders_whole_list_first(p: Pipeline) -> None:
    # The store's refund, applied and posted long ago (outside the window), never paired.
    p.add(new_refund(ORDER, ("ITEM-A", ((C.ITEM_PRICE, "19.99"),))))
    p.run()
    p.world.amazon_keys.clear()
    p.world.cursors[ACCOUNT] = T0 + timedelta(days=1)
    # Seller Central then refunded the very same amount again.
    when = T0 + timedelta(days=1, hours=1)
    again = amazon_refund(ORDER, when, ("ITEM-A", ((C.ITEM_PRICE, "19.99"),)))
    p.finances.post(again)
    p.clock.at = T0 + timedelta(days=2)
    sweep(p)
    assert ("order", ORDER) in p.finances.calls
    (recorded,) = amazon_made(p)
    assert recorded.posted_at == again.posted_at  # the older one is the store's own
    assert p.world.amazon_keys[1] == p.finances.posted[0].key


def test_no_sweep_window_when_the_watermark_is_recent(p: Pipeline) -> None:
    p.world.cursors[ACCOUNT] = T0
    result = sweep(p, SweepPolicy(overlap=timedelta(0)))
    assert result.found == 0 and p.finances.calls == []


def test_a_seller_central_refund_the_check_could_not_see_yet_explains_amazons_refusal(
    p: Pipeline,
) -> None:
    p.world.orders[(ACCOUNT, ORDER)] = charged_order(ORDER)
    refund = p.add(new_refund(ORDER, ("ITEM-A", ((C.ITEM_PRICE, "39.98"),))))
    (built,) = p.flush()
    # Refunded in Seller Central after the check, before Amazon processed the feed: Amazon
    # refuses the feed's message with its own words.
    p.finances.post(amazon_refund(ORDER, p.clock.at, ("ITEM-A", ((C.ITEM_PRICE, "39.98"),))))
    p.feeds.errors[refund.id] = ("18002", "exceeds the 0.00 USD left to refund")
    p.run()
    failed = p.world.refunds[refund.id]
    assert failed.state is RefundState.FAILED and failed.failure_code == ALREADY_REFUNDED
    assert failed.failure_reason == (
        "already refunded on Amazon on 2026-11-01: 39.98 USD item price"
    )
    assert len(amazon_made(p)) == 1  # and the refund made on Amazon is recorded, once
    assert built


def test_amazons_refusal_stands_when_no_refund_on_amazon_explains_it(p: Pipeline) -> None:
    p.world.orders[(ACCOUNT, ORDER)] = charged_order(ORDER)
    refund = p.add(new_refund(ORDER, ("ITEM-A", ((C.TAX, "1.00"),))))
    p.flush()
    p.feeds.errors[refund.id] = ("18002", "tax not refundable")
    p.run()
    failed = p.world.refunds[refund.id]
    assert (failed.failure_code, failed.failure_reason) == ("18002", "tax not refundable")
    assert amazon_made(p) == []
