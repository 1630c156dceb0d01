"""The ``AmazonEnvelope`` every order feed document is: ``Header`` (``DocumentVersion`` 1.01,
``MerchantIdentifier`` = the seller id), ``MessageType``, then one ``Message`` per message
(``MessageID`` first), as ``amzn-envelope.xsd`` orders them; and the checks every message
shares."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

CONTENT_TYPE = "text/xml; charset=UTF-8"  # createFeedDocument's contentType and the upload's
DOCUMENT_VERSION = "1.01"


class FeedDocumentError(ValueError):
    """A message Amazon's schema would refuse; the text names the message and the field."""


def envelope(merchant_identifier: str, message_type: str) -> ET.Element:
    if not merchant_identifier or not merchant_identifier.strip():
        raise FeedDocumentError("Header/MerchantIdentifier (the seller id) is required")
    root = ET.Element(
        "AmazonEnvelope",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd",
        },
    )
    header = ET.SubElement(root, "Header")
    ET.SubElement(header, "DocumentVersion").text = DOCUMENT_VERSION
    ET.SubElement(header, "MerchantIdentifier").text = merchant_identifier.strip()
    ET.SubElement(root, "MessageType").text = message_type
    return root


def message(root: ET.Element, message_id: int, message_type: str) -> ET.Element:
    """A ``Message`` with its ``MessageID``; returns its body element (named ``message_type``)."""
    element = ET.SubElement(root, "Message")
    ET.SubElement(element, "MessageID").text = str(message_id)
    return ET.SubElement(element, message_type)


def text(parent: ET.Element, name: str, value: str) -> ET.Element:
    child = ET.SubElement(parent, name)
    child.text = value
    return child


def check_messages(ids: Iterable[int], where: str) -> None:
    """At least one message; each ``MessageID`` a positive whole number, used once."""
    seen: set[int] = set()
    for message_id in ids:
        if isinstance(message_id, bool) or not isinstance(message_id, int) or message_id <= 0:
            raise FeedDocumentError(f"{where}: MessageID {message_id!r} is not a positive integer")
        if message_id in seen:
            raise FeedDocumentError(f"{where}: MessageID {message_id} is used twice")
        seen.add(message_id)
    if not seen:
        raise FeedDocumentError(f"{where}: a feed document needs at least one message")


def required(value: str, where: str) -> str:
    if not value or not value.strip():
        raise FeedDocumentError(f"{where} is required")
    return value.strip()


def to_bytes(root: ET.Element) -> bytes:
    """UTF-8 with the XML declaration, as Amazon's examples are."""
    document: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return document
