"""POST_ORDER_ACKNOWLEDGEMENT_DATA with ``StatusCode`` Failure: the cancellation of an order, in
``OrderAcknowledgement.xsd``'s order::

    OrderAcknowledgement
      AmazonOrderID
      StatusCode        Failure
      Item (one per listed line; none: the whole order)
        AmazonOrderItemCode
        CancelReason

Amazon's schema has no place for a reason of the order as a whole: a message without items
cancels the order and its ``cancel_reason`` is not sent (Amazon records none of the seller's;
the sandbox records GeneralAdjustment). A reason that must be recorded goes with each listed
item instead.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from domain.feeds import AcknowledgementMessage
from domain.refunds import CANCEL_REASONS
from infra.amazon.feeds_xml.envelope import (
    FeedDocumentError,
    check_messages,
    envelope,
    message,
    required,
    text,
    to_bytes,
)

MESSAGE_TYPE = "OrderAcknowledgement"


def acknowledgement_document(
    merchant_identifier: str, messages: Sequence[AcknowledgementMessage]
) -> bytes:
    """The feed document of these cancellations for one seller (``merchant_identifier``)."""
    check_messages((m.message_id for m in messages), "POST_ORDER_ACKNOWLEDGEMENT_DATA")
    root = envelope(merchant_identifier, MESSAGE_TYPE)
    for cancellation in messages:
        where = f"Message {cancellation.message_id}: {MESSAGE_TYPE}"
        body = message(root, cancellation.message_id, MESSAGE_TYPE)
        text(
            body, "AmazonOrderID", required(cancellation.amazon_order_id, f"{where}/AmazonOrderID")
        )
        text(body, "StatusCode", "Failure")
        listed: set[str] = set()
        for index, item in enumerate(cancellation.items):
            at = f"{where}/Item[{index}]"
            item_id = required(item.order_item_id, f"{at}/AmazonOrderItemCode")
            if item_id in listed:
                raise FeedDocumentError(f"{at}/AmazonOrderItemCode {item_id} is listed twice")
            listed.add(item_id)
            if item.cancel_reason not in CANCEL_REASONS:
                raise FeedDocumentError(
                    f"{at}/CancelReason {item.cancel_reason!r} is not one of Amazon's reasons"
                )
            element = ET.SubElement(body, "Item")
            text(element, "AmazonOrderItemCode", item_id)
            text(element, "CancelReason", item.cancel_reason)
    return to_bytes(root)
