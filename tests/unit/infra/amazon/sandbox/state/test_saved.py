"""What survives a restart (``state.saved``): a state saved and restored is the same state, and a
file that is not one this sandbox wrote is refused with the reason, never read half-way."""

from __future__ import annotations

import os
import pickle
from dataclasses import replace
from decimal import Decimal

import pytest

from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, create_order
from infra.amazon.sandbox.state import (
    DEMO_SELLER,
    SandboxAdjustment,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxState,
)
from infra.amazon.sandbox.state.saved import (
    FORMAT_VERSION,
    MAGIC,
    SCHEMA,
    SavedStateError,
    dumps,
    header,
    loads,
)


def _busy_state() -> SandboxState:
    """Sellers, a token, orders shipped and refunded, a feed and its document, a moved clock."""
    state = SandboxState(seed=4)
    other = replace(DEMO_SELLER, seller_id="A2OTHER", refresh_token="Atzr|other")
    state.add_seller(other)
    state.issue_access_token(
        DEMO_SELLER.refresh_token, DEMO_SELLER.client_id, DEMO_SELLER.client_secret
    )
    order = create_order(
        state, OrderSpec(items=[ItemSpec(sku="A", quantity=2, unit_price=Decimal("10.00"))])
    )
    state.set_status(order.order_id, "SHIPPED")
    item = order.items[0]
    adjustment = SandboxAdjustment(
        source="seller_central",
        feed_id=None,
        message_id=None,
        reason="CustomerReturn",
        currency=order.currency,
        components=(("Principal", Decimal("10.00")),),
        quantity_cancelled=0,
        merchant_adjustment_item_id=None,
        posted_at=state.now(),
        order_adjustment_item_id=state.new_adjustment_item_id(),
    )
    item.adjustments.append(adjustment)
    state.post_refund(order, [(item, adjustment)])
    document = SandboxFeedDocument(
        state.new_document_id(), DEMO_SELLER.seller_id, "text/xml", state.now(), b"<x/>"
    )
    state.add_feed_document(document)
    state.add_feed(
        SandboxFeed(
            feed_id=state.new_feed_id(),
            seller_id=DEMO_SELLER.seller_id,
            feed_type="POST_ORDER_FULFILLMENT_DATA",
            marketplace_ids=("ATVPDKIKX0DER",),
            input_document_id=document.document_id,
            feed_options={},
            created_at=state.now(),
            content=b"<x/>",
            content_type="text/xml",
        )
    )
    state.feed_processing_seconds = 30.0
    state.advance_clock(7200)
    return state


def test_a_state_saved_and_restored_is_the_same_state() -> None:
    saved = _busy_state()
    restored = SandboxState()
    restored.restore(loads(dumps(saved.snapshot())))

    assert restored.summary() == saved.summary()
    assert restored.orders == saved.orders
    assert restored.feeds == saved.feeds
    assert restored.feed_documents == saved.feed_documents
    assert restored.finances.events == saved.finances.events
    assert restored.sellers == saved.sellers
    assert restored.access_tokens == saved.access_tokens
    assert restored.clock_offset == saved.clock_offset
    assert restored.feed_processing_seconds == 30.0
    # The counters carry on: the next ids are the ones the saved sandbox would have drawn.
    assert restored.new_adjustment_item_id() == saved.new_adjustment_item_id()
    assert restored.new_feed_id() == saved.new_feed_id()
    assert restored.new_document_id() == saved.new_document_id()
    token = saved.make_pagination_token({"page": 2})
    assert restored.read_pagination_token(token)["page"] == 2


def test_rate_buckets_faults_and_the_call_log_start_afresh() -> None:
    saved = _busy_state()
    saved.take_token(DEMO_SELLER.seller_id, "orders2026.searchOrders")
    saved.record_call("r1", "orders2026.searchOrders", DEMO_SELLER.seller_id, 200, None)
    restored = SandboxState()
    restored.restore(loads(dumps(saved.snapshot())))

    assert restored.buckets == {}
    assert restored.faults == []
    assert list(restored.calls) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "it is not a saved sandbox state"),
        (b"{}\n", "it is not a saved sandbox state"),
        (b"%s 99 %s\n" % (MAGIC, SCHEMA.encode()), "it is in format 99, this sandbox reads "),
        (b"%s %d 0123\n" % (MAGIC, FORMAT_VERSION), "with other records"),
        (header() + b"\x80\x05garbage", "it is damaged"),
        (header() + pickle.dumps(os.system), "which the sandbox never saves"),
        (header() + pickle.dumps({"orders": {}}), "something other than a sandbox state"),
    ],
)
def test_what_the_sandbox_did_not_write_is_refused_with_the_reason(
    data: bytes, reason: str
) -> None:
    with pytest.raises(SavedStateError, match=reason):
        loads(data)


def test_a_file_cut_short_is_refused() -> None:
    data = dumps(_busy_state().snapshot())
    with pytest.raises(SavedStateError, match="it is damaged"):
        loads(data[: len(data) // 2])
