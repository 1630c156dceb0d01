"""Batching on fakes: the messages of each feed type, one submission per seller, marketplace and
type, the flush rule (full, waited, a createFeed token), disconnected sellers skipped, a refund
in one open submission only, a batcher killed mid-batch."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

import pytest

from domain.feeds import (
    AcknowledgementMessage,
    AdjustmentMessage,
    CancelledItem,
    FeedType,
    SubmissionState,
)
from domain.refunds import Component, Refund, RefundKind, RefundState
from domain.refunds.ports import BatchKey, PendingBatch
from domain.refunds.send import FlushPolicy, due, message_for
from tests.fakes.clock import T0
from tests.fakes.feed_gateway import Killed
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


@pytest.fixture
def p() -> Pipeline:
    return Pipeline.new()


# --- the messages --------------------------------------------------------------------------------


def test_a_refund_is_an_adjustment_message_keyed_by_its_id_and_its_lines_ids(p: Pipeline) -> None:
    refund = p.add(
        new_refund(
            "113-0000001-0000001",
            ("ITEM-A", ((C.ITEM_PRICE, "19.99"), (C.TAX, "1.60"), (C.RESTOCKING_FEE, "2.00"))),
            ("ITEM-B", ((C.SHIPPING, "4.99"), (C.GOODWILL, "0"))),
            reason="customer_return",
        )
    )
    message = message_for(refund)
    assert isinstance(message, AdjustmentMessage)
    assert (message.message_id, message.amazon_order_id) == (refund.id, "113-0000001-0000001")
    first, second = message.items
    assert first.merchant_adjustment_item_id == str(refund.lines[0].id)
    assert first.components == (
        ("Principal", usd("19.99")),
        ("Tax", usd("1.60")),
        ("RestockingFee", usd("-2.00")),  # kept back: negative in the feed
    )
    assert second.components == (("Shipping", usd("4.99")),)  # nothing for a zero amount
    assert first.reason == "Other"  # not Amazon's spelling, and no mapping: Other
    assert first.quantity_cancelled == 0


def test_a_partial_cancellation_is_an_adjustment_with_the_units_cancelled(p: Pipeline) -> None:
    refund = p.add(
        new_refund(
            "113-0000001-0000001",
            ("ITEM-A", ((C.ITEM_PRICE, "19.99"),)),
            kind=RefundKind.CANCELLATION,
            quantity=1,
            reason="BuyerCanceled",
        )
    )
    message = message_for(refund)
    assert isinstance(message, AdjustmentMessage)
    (item,) = message.items
    assert (item.quantity_cancelled, item.reason) == (1, "CustomerCancel")


def test_a_whole_order_cancellation_is_an_acknowledgement_in_its_own_feed(p: Pipeline) -> None:
    p.add(new_refund("113-0000001-0000001"))
    cancel = p.add(
        new_refund(
            "113-0000002-0000001",
            kind=RefundKind.CANCELLATION,
            whole_order=True,
            reason="NoInventory",
        )
    )
    # Every line is listed with the reason (the feed has no order-level reason).
    items = tuple(CancelledItem(line.order_item_id, "NoInventory") for line in cancel.lines)
    assert items
    assert message_for(cancel) == AcknowledgementMessage(
        cancel.id, "113-0000002-0000001", "NoInventory", items
    )
    built = p.flush()
    assert len(built) == 2
    types = [p.world.submissions[s].feed_type for s in built]
    assert set(types) == {FeedType.ADJUSTMENT, FeedType.ACKNOWLEDGEMENT}
    assert [t for t, _ in p.feeds.rendered] == types


def test_one_submission_per_seller_marketplace_and_type(p: Pipeline) -> None:
    p.add(new_refund("113-0000001-0000001"))
    p.add(new_refund("113-0000002-0000001"))
    p.add(new_refund("113-0000003-0000001", marketplace_id="A2EUQ1WTGCTBG2"))
    p.add(new_refund("113-0000004-0000001", account_id=8))
    built = p.flush()
    keys = sorted(
        (row.account_id, row.marketplace_id, len(p.store.message_ids(row.id)))
        for row in (p.world.submissions[s] for s in built)
    )
    assert keys == [(ACCOUNT, "A2EUQ1WTGCTBG2", 1), (ACCOUNT, MARKETPLACE, 2), (8, MARKETPLACE, 1)]
    for refund in p.world.refunds.values():
        assert refund.state is RefundState.IN_FEED and refund.submission_id in built
    assert all(p.world.submissions[s].state is SubmissionState.BUILT for s in built)


# --- the flush rule ------------------------------------------------------------------------------


def pending(count: int, waited: float) -> PendingBatch:
    key = BatchKey(ACCOUNT, MARKETPLACE, FeedType.ADJUSTMENT)
    return PendingBatch(key, count, timedelta(seconds=waited))


@pytest.mark.parametrize(
    ("count", "waited", "token", "expected"),
    [
        (3, 0, False, False),
        (3, 9.9, False, False),
        (3, 10, False, True),
        (1, 0, True, True),
        (5, 0, False, True),
        (0, 60, True, False),
    ],
)
def test_a_batch_is_taken_when_full_when_it_waited_or_when_a_token_is_free(
    count: int, waited: float, token: bool, expected: bool
) -> None:
    policy = FlushPolicy(max_messages=5, max_wait=timedelta(seconds=10))
    assert due(pending(count, waited), policy, token) is expected


def test_fresh_refunds_wait_for_more_until_the_oldest_waited_long_enough(p: Pipeline) -> None:
    p.add(new_refund("113-0000001-0000001"))
    assert p.flush(token=False) == []
    p.tick(timedelta(seconds=5))
    p.add(new_refund("113-0000002-0000001", created_at=p.clock.at))
    assert p.flush(token=False) == []
    p.tick(timedelta(seconds=5))
    (built,) = p.flush(token=False)
    assert p.store.message_ids(built) == (1, 2)


def test_full_batches_go_at_once_and_the_rest_waits_for_its_turn(p: Pipeline) -> None:
    for n in range(7):
        p.add(new_refund(f"113-000000{n}-0000001"))
    policy = FlushPolicy(max_messages=3, max_wait=timedelta(seconds=10))
    built = p.flush(policy, token=False)
    assert [p.store.message_ids(s) for s in built] == [(1, 2, 3), (4, 5, 6)]
    assert p.world.refunds[7].state is RefundState.ACCEPTED
    p.tick(timedelta(seconds=10))
    assert p.flush(policy, token=False) == []  # the two feeds are not created yet
    for submission_id in built:
        p.advance(submission_id)
    (last,) = p.flush(policy, token=False)
    assert p.store.message_ids(last) == (7,)


def test_a_disconnected_seller_is_skipped_and_a_refund_not_due_yet_waits(p: Pipeline) -> None:
    p.add(new_refund("113-0000001-0000001", account_id=8))
    later = p.add(new_refund("113-0000002-0000001"))
    p.world.connected[8] = False
    p.world.ready_at[later.id] = T0 + timedelta(minutes=1)
    assert p.flush() == []
    p.world.connected[8] = True
    p.tick(timedelta(minutes=1))
    assert len(p.flush()) == 2


def test_flushing_twice_puts_each_refund_in_one_submission(p: Pipeline) -> None:
    p.add(new_refund("113-0000001-0000001"))
    p.add(new_refund("113-0000002-0000001"))
    assert len(p.flush()) == 1
    assert p.flush() == []
    assert len(p.world.submissions) == 1 and len(p.feeds.rendered) == 1


def test_a_batcher_killed_while_building_leaves_every_refund_accepted(p: Pipeline) -> None:
    p.add(new_refund("113-0000001-0000001"))
    p.add(new_refund("113-0000002-0000001"))
    p.feeds.fail("render", Killed())
    with pytest.raises(Killed):
        p.flush()
    assert set(p.world.states().values()) == {RefundState.ACCEPTED}
    assert p.world.submissions == {}
    (built,) = p.flush()
    assert p.store.message_ids(built) == (1, 2)


def test_orders_bought_within_the_sweeps_coverage_are_not_read_one_by_one(p: Pipeline) -> None:
    for n in range(1, 6):
        order_id = f"113-000000{n}-0000001"
        p.add(new_refund(order_id), charged_order(order_id))
    p.add(new_refund("113-0000009-0000001"))  # an order the store does not have: read
    p.tick(timedelta(minutes=3))  # the sweep's watermark (two minutes back) passes them
    (built,) = p.flush()
    assert len(p.store.message_ids(built)) == 6
    assert [call[0] for call in p.finances.calls] == ["posted", "order"]


def test_a_whole_cancellation_accepted_after_the_watermark_is_read_and_fails_on_seller_central(
    p: Pipeline,
) -> None:
    # Seller Central refunded a minute ago: after the sweep's watermark, which is two minutes
    # back, so only the order's own read sees it. Amazon checks no amounts of a whole-order
    # cancellation (the acknowledgement feed has none), so it is read before it goes.
    order_id = "113-0000001-0000001"
    p.finances.post(
        amazon_refund(order_id, T0 - timedelta(minutes=1), ("ITEM-A", ((C.ITEM_PRICE, "39.98"),)))
    )
    refund = p.add(
        new_refund(
            order_id,
            ("ITEM-A", ((C.ITEM_PRICE, "39.98"),)),
            kind=RefundKind.CANCELLATION,
            whole_order=True,
        ),
        charged_order(order_id),
    )
    assert p.flush() == []
    assert [call[0] for call in p.finances.calls] == ["posted", "order"]
    failed = p.world.refunds[refund.id]
    assert failed.state is RefundState.FAILED
    assert (failed.failure_reason or "").startswith("already refunded on Amazon on 2026-")


def test_past_the_fresh_reads_cancellations_wait_until_the_watermark_passes_them(
    p: Pipeline,
) -> None:
    for n in range(1, 6):
        order_id = f"113-000000{n}-0000001"
        cancel = new_refund(order_id, kind=RefundKind.CANCELLATION, whole_order=True)
        p.add(cancel, charged_order(order_id))
    (built,) = p.flush(FlushPolicy(fresh_reads=2))
    assert p.store.message_ids(built) == (1, 2)
    assert [call[0] for call in p.finances.calls] == ["posted", "order", "order"]
    p.advance(built)  # created: the next feed of the key may go
    p.tick(timedelta(minutes=3))
    (second,) = p.flush(FlushPolicy(fresh_reads=2))
    assert p.store.message_ids(second) == (3, 4, 5)  # checked by the coverage: not read
    assert [call[0] for call in p.finances.calls[3:]] == ["posted"]


def test_refunds_whose_order_finances_cannot_read_now_wait_for_a_later_batch(
    p: Pipeline,
) -> None:
    p.add(new_refund("113-0000001-0000001"))
    p.add(new_refund("113-0000002-0000001"))
    p.finances.busy = 2  # the sweep first, then the first order's read
    assert p.flush() == []  # the first order was unreadable: the rest is left too
    assert set(p.world.states().values()) == {RefundState.ACCEPTED}
    (built,) = p.flush()
    assert p.store.message_ids(built) == (1, 2)


def test_a_batch_is_rendered_from_exactly_the_refunds_it_took(p: Pipeline) -> None:
    first = p.add(new_refund("113-0000001-0000001"))
    p.add(new_refund("113-0000002-0000001"))
    # Another batcher took the first meanwhile (between the candidates and the take).
    original = p.world.candidates

    def stale(key: BatchKey, limit: int, skip: Collection[int] = ()) -> list[Refund]:
        found = original(key, limit, skip)
        p.world.move(first.id, RefundState.IN_FEED, submission_id=99)
        return found

    p.world.candidates = stale  # type: ignore[method-assign]
    (built,) = p.flush()
    assert p.store.message_ids(built) == (2,)
    ((_, messages),) = p.feeds.rendered
    assert [m.message_id for m in messages] == [2]


def test_refunds_wait_for_the_next_feed_while_the_last_one_is_not_created(p: Pipeline) -> None:
    p.add(new_refund("113-0000001-0000001"))
    (first,) = p.flush()
    p.add(new_refund("113-0000002-0000001"))
    p.add(new_refund("113-0000003-0000001"))
    assert p.flush() == []  # the first feed waits for createFeed: these join the next one
    p.advance(first)  # created
    (second,) = p.flush()
    assert p.store.message_ids(second) == (2, 3)


def test_a_refund_accepted_after_the_watermark_goes_on_the_coverage_amazon_checks_its_money(
    p: Pipeline,
) -> None:
    for n in range(1, 4):
        order_id = f"113-000000{n}-0000001"
        p.add(new_refund(order_id), charged_order(order_id))
    (built,) = p.flush(FlushPolicy(fresh_reads=1))
    assert p.store.message_ids(built) == (1, 2, 3)
    assert [call[0] for call in p.finances.calls] == ["posted"]  # no order read one by one
