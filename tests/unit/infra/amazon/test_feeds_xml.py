"""The feed documents we build are what the sandbox's parser (Amazon's rules) accepts and
applies; the processing report the sandbox writes reads back into the domain's report; what is
not a report, or not a document Amazon's schema would take, is refused with a reason."""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from domain.feeds import (
    AcknowledgementMessage,
    AdjustedItem,
    AdjustmentMessage,
    CancelledItem,
    FeedType,
    MessageResult,
)
from domain.shared import Money
from infra.amazon.feeds_xml import (
    CONTENT_TYPE,
    FeedDocumentError,
    NotAProcessingReport,
    parse_processing_report,
    render,
)
from infra.amazon.sandbox.feeds import parse_envelope, process, processing_report
from infra.amazon.sandbox.generate import ItemSpec, OrderSpec, create_order
from infra.amazon.sandbox.state import DEMO_SELLER, FeedResult, SandboxFeed, SandboxState

SELLER = DEMO_SELLER.seller_id


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


def _feed(state: SandboxState, feed_type: FeedType, content: bytes) -> SandboxFeed:
    feed = SandboxFeed(
        feed_id=state.new_feed_id(),
        seller_id=SELLER,
        feed_type=feed_type.value,
        marketplace_ids=DEMO_SELLER.marketplace_ids,
        input_document_id="doc-1",
        feed_options={},
        created_at=state.now(),
        content=content,
        content_type=CONTENT_TYPE,
    )
    state.add_feed(feed)
    return feed


def _order(state: SandboxState, status: str, quantity: int = 3) -> tuple[str, str]:
    spec = OrderSpec(status=status, items=[ItemSpec("A-1", quantity, Decimal("10.00"))])
    order = create_order(state, spec)
    return order.order_id, order.items[0].order_item_id


def test_an_adjustment_document_is_what_the_sandbox_parses_and_applies() -> None:
    state = SandboxState(0)
    order_id, item_id = _order(state, "UNSHIPPED")
    messages = [
        AdjustmentMessage(
            message_id=7,
            amazon_order_id=order_id,
            items=(
                AdjustedItem(
                    order_item_id=item_id,
                    merchant_adjustment_item_id="501",
                    reason="NoInventory",
                    components=(("Principal", usd("20")), ("RestockingFee", usd("1.5"))),
                    quantity_cancelled=2,
                ),
            ),
        )
    ]

    content = render(SELLER, FeedType.ADJUSTMENT, messages)
    merchant, parsed = parse_envelope(content, "OrderAdjustment")
    feed = _feed(state, FeedType.ADJUSTMENT, content)
    process(state, feed)

    assert merchant == SELLER and len(parsed) == 1
    assert feed.results == [] and feed.messages_successful == 1
    (adjustment,) = state.order(order_id).items[0].adjustments
    assert adjustment.message_id == 7
    assert adjustment.merchant_adjustment_item_id == "501"
    assert adjustment.reason == "NoInventory"
    assert adjustment.components == (
        ("Principal", Decimal("20.00")),
        ("RestockingFee", Decimal("-1.50")),  # kept back: sent negative
    )
    assert adjustment.quantity_cancelled == 2
    root = ET.fromstring(content)
    assert [child.tag for child in root] == ["Header", "MessageType", "Message"]
    assert [child.tag for child in root.find("Header") or []] == [
        "DocumentVersion",
        "MerchantIdentifier",
    ]
    assert root.findtext("Header/DocumentVersion") == "1.01"
    item = root.find("Message/OrderAdjustment/AdjustedItem")
    assert item is not None
    assert [child.tag for child in item] == [
        "AmazonOrderItemCode",
        "MerchantAdjustmentItemID",
        "AdjustmentReason",
        "ItemPriceAdjustments",
        "QuantityCancelled",
    ]


def test_a_refund_without_cancelled_units_sends_no_quantity_and_a_negative_fee_stays_so() -> None:
    state = SandboxState(0)
    order_id, item_id = _order(state, "SHIPPED", quantity=1)
    item = AdjustedItem(
        item_id, "9", "CustomerReturn", (("Principal", usd("10.00")), ("RestockingFee", usd("-2")))
    )
    content = render(SELLER, FeedType.ADJUSTMENT, [AdjustmentMessage(1, order_id, (item,))])

    feed = _feed(state, FeedType.ADJUSTMENT, content)
    process(state, feed)

    assert b"QuantityCancelled" not in content
    assert feed.results == []
    (adjustment,) = state.order(order_id).items[0].adjustments
    assert adjustment.components == (
        ("Principal", Decimal("10.00")),
        ("RestockingFee", Decimal("-2.00")),
    )


def test_acknowledgements_cancel_listed_items_or_the_whole_order() -> None:
    state = SandboxState(0)
    whole, _ = _order(state, "UNSHIPPED")
    partly, item_id = _order(state, "UNSHIPPED")
    messages = [
        AcknowledgementMessage(1, whole, "BuyerCanceled"),
        AcknowledgementMessage(
            2, partly, "NoInventory", (CancelledItem(item_id, "ShippingAddressUndeliverable"),)
        ),
    ]

    content = render(SELLER, FeedType.ACKNOWLEDGEMENT, messages)
    feed = _feed(state, FeedType.ACKNOWLEDGEMENT, content)
    process(state, feed)

    assert feed.results == [] and feed.messages_successful == 2
    assert state.order(whole).status == "CANCELLED"
    cancelled = state.order(partly).items[0]
    assert cancelled.quantity_cancelled == 3
    assert cancelled.seller_cancel_reason == "ShippingAddressUndeliverable"
    body = ET.fromstring(content).find("Message/OrderAcknowledgement")
    assert body is not None
    assert [child.tag for child in body] == ["AmazonOrderID", "StatusCode"]
    assert body.findtext("StatusCode") == "Failure"


def test_text_is_escaped_by_the_xml_library() -> None:
    item = AdjustedItem("1", "<&>", "Other", (("Principal", usd("1")),))
    content = render(SELLER, FeedType.ADJUSTMENT, [AdjustmentMessage(1, "113-1-1", (item,))])

    assert b"&lt;&amp;&gt;" in content
    assert ET.fromstring(content).findtext(".//MerchantAdjustmentItemID") == "<&>"


def _adjustment(**changes: object) -> AdjustmentMessage:
    item_fields: dict[str, object] = {
        "order_item_id": "1",
        "merchant_adjustment_item_id": "9",
        "reason": "CustomerReturn",
        "components": (("Principal", usd("1.00")),),
        "quantity_cancelled": 0,
    }
    item_fields.update(changes)
    return AdjustmentMessage(1, "113-1-1", (AdjustedItem(**item_fields),))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (_adjustment(reason="BecauseISaidSo"), "AdjustmentReason"),
        (_adjustment(components=()), "at least one Component"),
        (_adjustment(components=(("Bonus", usd("1")),)), "Type 'Bonus'"),
        (_adjustment(components=(("Principal", usd("1.005")),)), "more than two decimals"),
        (
            _adjustment(components=(("Principal", usd("1")), ("Tax", Money(Decimal(1), "EUR")))),
            "in EUR",
        ),
        (_adjustment(components=(("Tax", usd("1")), ("Tax", usd("1")))), "appears twice"),
        (_adjustment(quantity_cancelled=-1), "QuantityCancelled"),
        (_adjustment(order_item_id=" "), "AmazonOrderItemCode is required"),
        (AdjustmentMessage(1, "113-1-1", ()), "at least one item"),
        (AdjustmentMessage(0, "113-1-1", _adjustment().items), "MessageID 0"),
    ],
)
def test_what_amazons_schema_would_refuse_is_refused_naming_the_field(
    message: AdjustmentMessage, reason: str
) -> None:
    with pytest.raises(FeedDocumentError, match=reason):
        render(SELLER, FeedType.ADJUSTMENT, [message])


def test_documents_refuse_the_wrong_kind_no_messages_twice_an_id_and_no_seller() -> None:
    cancellation = AcknowledgementMessage(1, "113-1-1", "NoInventory")
    with pytest.raises(FeedDocumentError, match="only adjustment messages"):
        render(SELLER, FeedType.ADJUSTMENT, [cancellation])
    with pytest.raises(FeedDocumentError, match="at least one message"):
        render(SELLER, FeedType.ACKNOWLEDGEMENT, [])
    with pytest.raises(FeedDocumentError, match="used twice"):
        render(SELLER, FeedType.ACKNOWLEDGEMENT, [cancellation, cancellation])
    with pytest.raises(FeedDocumentError, match="MerchantIdentifier"):
        render("", FeedType.ACKNOWLEDGEMENT, [cancellation])
    bad_reason = AcknowledgementMessage(1, "113-1-1", "x", (CancelledItem("1", "Whim"),))
    with pytest.raises(FeedDocumentError, match="CancelReason 'Whim'"):
        render(SELLER, FeedType.ACKNOWLEDGEMENT, [bad_reason])


# --- the processing report ------------------------------------------------------------------


def test_the_sandboxs_report_reads_back_into_the_domains() -> None:
    feed = SandboxFeed(
        feed_id="5001",
        seller_id=SELLER,
        feed_type=FeedType.ADJUSTMENT.value,
        marketplace_ids=("ATVPDKIKX0DER",),
        input_document_id="doc-1",
        feed_options={},
        created_at=SandboxState(0).now(),
        content=b"",
        content_type=CONTENT_TYPE,
        messages_processed=3,
        messages_successful=2,
        messages_with_error=1,
        messages_with_warning=1,
        results=[
            FeedResult(2, "Error", 18002, "refund exceeds", (("AmazonOrderID", "113-1-1"),)),
            FeedResult(3, "Warning", 18003, "already cancelled"),
        ],
    )

    report = parse_processing_report(processing_report(feed))

    assert (report.processed, report.successful, report.with_error, report.with_warning) == (
        3,
        2,
        1,
        1,
    )
    assert report.results == (
        MessageResult(2, "Error", "18002", "refund exceeds", "113-1-1"),
        MessageResult(3, "Warning", "18003", "already cancelled", None),
    )


def test_a_report_in_a_namespace_reads_the_same() -> None:
    report = parse_processing_report(
        b'<AmazonEnvelope xmlns="urn:x"><MessageType>ProcessingReport</MessageType><Message>'
        b"<MessageID>1</MessageID><ProcessingReport><ProcessingSummary>"
        b"<MessagesProcessed>1</MessagesProcessed><MessagesSuccessful>0</MessagesSuccessful>"
        b"<MessagesWithError>1</MessagesWithError><MessagesWithWarning>0</MessagesWithWarning>"
        b"</ProcessingSummary><Result><MessageID>0</MessageID><ResultCode>Error</ResultCode>"
        b"<ResultMessageCode>5000</ResultMessageCode></Result></ProcessingReport></Message>"
        b"</AmazonEnvelope>"
    )

    assert report.results == (MessageResult(0, "Error", "5000", "", None),)


SUMMARY = (
    "<ProcessingSummary><MessagesProcessed>1</MessagesProcessed>"
    "<MessagesSuccessful>1</MessagesSuccessful><MessagesWithError>0</MessagesWithError>"
    "<MessagesWithWarning>0</MessagesWithWarning></ProcessingSummary>"
)


def _report(body: str, message_type: str = "ProcessingReport") -> bytes:
    return (
        f"<AmazonEnvelope><MessageType>{message_type}</MessageType><Message><MessageID>1"
        f"</MessageID><ProcessingReport>{body}</ProcessingReport></Message></AmazonEnvelope>"
    ).encode()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not well-formed XML"),
        (b"settlement-id\tamount\n", "not well-formed XML"),
        (gzip.compress(_report(SUMMARY)), "not well-formed XML"),
        (b"<Report/>", "root element is Report"),
        (_report(SUMMARY, "OrderAdjustment"), "MessageType is 'OrderAdjustment'"),
        (
            b"<AmazonEnvelope><MessageType>ProcessingReport</MessageType></AmazonEnvelope>",
            "is missing",
        ),
        (_report(""), "ProcessingSummary is missing"),
        (_report(SUMMARY.replace("<MessagesWithError>0", "<MessagesWithError>x")), "Error 'x' is"),
        (_report(SUMMARY + "<Result><ResultCode>Error</ResultCode></Result>"), "MessageID"),
        (_report(SUMMARY + "<Result><MessageID>1</MessageID></Result>"), "ResultCode"),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "a">]><AmazonEnvelope/>',
            "DTDForbidden",
        ),
    ],
)
def test_what_is_not_a_processing_report_is_refused_saying_why(content: bytes, reason: str) -> None:
    with pytest.raises(NotAProcessingReport, match=reason):
        parse_processing_report(content)
