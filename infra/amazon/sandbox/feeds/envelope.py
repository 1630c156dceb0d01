"""The AmazonEnvelope of an order feed: parsed with ``defusedxml``, read by local names.

Parse rules: UTF-8 XML, no DOCTYPE (refused: Amazon feeds carry none, and with it go entity
expansion and external entities), no namespaces expected (any are ignored by matching local
names). The envelope needs ``Header/MerchantIdentifier``, a ``MessageType`` matching the feed
type (``OrderFulfillment``, ``OrderAcknowledgement``, ``OrderAdjustment``) and at least one
``Message``. A document that is not well-formed XML, or whose envelope is wrong, is reported as
one ``Result`` for ``MessageID`` 0: ResultMessageCode 5000 (not XML) or 5001 (not the
envelope). Only Amazon's ids are supported (``AmazonOrderID``, ``AmazonOrderItemCode``);
``MerchantOrderID`` / ``MerchantOrderItemID`` are a message error.

ResultMessageCodes: 5000 and 5001 as Amazon uses them for XML and schema errors; the others are
the sandbox's own (Amazon's numbers are not documented): 18000 order not found, 18001 the
order's state refuses the message, 18002 a value is invalid for the order, 18003 nothing left to
do (a warning), 90000 unsupported feed (FATAL).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException, DTDForbidden

from infra.amazon.sandbox.state import SandboxFeed, SandboxItem, SandboxOrder, SandboxState

CODE_XML = 5000
CODE_SCHEMA = 5001
CODE_ORDER_NOT_FOUND = 18000
CODE_ORDER_STATE = 18001
CODE_INVALID = 18002
CODE_NOTHING_TO_DO = 18003
CODE_UNSUPPORTED = 90000


class MessageError(Exception):
    """One message (or, with ``message_id`` 0, the whole document) that failed or warned."""

    def __init__(
        self, code: int, description: str, *, warning: bool = False, order_id: str | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.warning = warning
        self.order_id = order_id


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def children_named(element: Element, name: str) -> list[Element]:
    return [child for child in element if local_name(child.tag) == name]


def first_child(element: Element, name: str) -> Element | None:
    found = children_named(element, name)
    return found[0] if found else None


def child_text(element: Element | None, name: str) -> str | None:
    """The stripped text of the first child ``name``, None when absent or blank."""
    if element is None:
        return None
    child = first_child(element, name)
    if child is None or child.text is None or not child.text.strip():
        return None
    return child.text.strip()


def required_text(element: Element, name: str, path: str) -> str:
    value = child_text(element, name)
    if value is None:
        raise MessageError(CODE_SCHEMA, f"{path}/{name} is required")
    return value


def positive_int(raw: str, path: str) -> int:
    if not raw.isdigit() or int(raw) <= 0:
        raise MessageError(CODE_SCHEMA, f"{path} must be a positive integer, not {raw!r}")
    return int(raw)


def parse_envelope(content: bytes, message_type: str) -> tuple[str, list[Element]]:
    """(MerchantIdentifier, Message elements) of a feed document; ``MessageError`` with
    ``message_id`` 0 semantics (code 5000/5001) when the document as a whole is unusable."""
    try:
        root = SafeET.fromstring(content, forbid_dtd=True)
    except ParseError as exc:
        line, column = exc.position
        raise MessageError(
            CODE_XML, f"XML Parsing Error at Line {line}, Column {column}: {exc}"
        ) from None
    except DTDForbidden:
        raise MessageError(
            CODE_XML, "XML Parsing Error: DOCTYPE declarations are not allowed"
        ) from None
    except DefusedXmlException as exc:
        # Entities and external references need a DOCTYPE, refused above; this is whatever
        # else defusedxml may come to refuse.
        raise MessageError(
            CODE_XML, f"XML Parsing Error: {type(exc).__name__} is not allowed"
        ) from None
    if local_name(root.tag) != "AmazonEnvelope":
        raise MessageError(
            CODE_SCHEMA, f"The root element must be AmazonEnvelope, not {local_name(root.tag)}"
        )
    merchant = child_text(first_child(root, "Header"), "MerchantIdentifier")
    if merchant is None:
        raise MessageError(CODE_SCHEMA, "AmazonEnvelope/Header/MerchantIdentifier is required")
    sent_type = child_text(root, "MessageType")
    if sent_type != message_type:
        raise MessageError(
            CODE_SCHEMA,
            f"AmazonEnvelope/MessageType is {sent_type!r}; this feed type expects {message_type}",
        )
    messages = children_named(root, "Message")
    if not messages:
        raise MessageError(CODE_SCHEMA, "AmazonEnvelope has no Message")
    return merchant, messages


def order_of(state: SandboxState, feed: SandboxFeed, body: Element, path: str) -> SandboxOrder:
    order_id = child_text(body, "AmazonOrderID")
    if order_id is None:
        if child_text(body, "MerchantOrderID") is not None:
            raise MessageError(
                CODE_SCHEMA, f"{path}/MerchantOrderID is not supported; send AmazonOrderID"
            )
        raise MessageError(CODE_SCHEMA, f"{path}/AmazonOrderID is required")
    order = state.orders.get(order_id)
    if order is None or order.seller_id != feed.seller_id:
        raise MessageError(
            CODE_ORDER_NOT_FOUND,
            f"Order {order_id} was not found for this seller",
            order_id=order_id,
        )
    if order.marketplace_id not in feed.marketplace_ids:
        raise MessageError(
            CODE_ORDER_STATE,
            f"Order {order_id} belongs to marketplace {order.marketplace_id}, which this feed "
            "was not submitted for",
            order_id=order_id,
        )
    return order


def item_id_of(element: Element, path: str) -> str:
    item_id = child_text(element, "AmazonOrderItemCode")
    if item_id is None:
        if child_text(element, "MerchantOrderItemID") is not None:
            raise MessageError(
                CODE_SCHEMA,
                f"{path}/MerchantOrderItemID is not supported; send AmazonOrderItemCode",
            )
        raise MessageError(CODE_SCHEMA, f"{path}/AmazonOrderItemCode is required")
    return item_id


def item_of(order: SandboxOrder, item_id: str, path: str) -> SandboxItem:
    for item in order.items:
        if item.order_item_id == item_id:
            return item
    raise MessageError(
        CODE_INVALID,
        f"{path}/AmazonOrderItemCode {item_id} is not an item of order {order.order_id}",
        order_id=order.order_id,
    )
