"""The processing report of a feed: Amazon's XML ProcessingReport, stored as its result document.

The report (``text/xml; charset=UTF-8``) carries ``DocumentTransactionID`` = feedId,
``StatusCode`` Complete, ``ProcessingSummary`` counts (warnings count as successful too), and
one ``Result`` per failed or warned message with the MessageID echoed, ``ResultCode``
Error|Warning, ``ResultMessageCode``, ``ResultDescription`` and ``AdditionalInfo/AmazonOrderID``
when known. It is stored gzipped (``compressionAlgorithm: GZIP``) while
``state.gzip_feed_results`` is on.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET

from infra.amazon.sandbox.state import SandboxFeed, SandboxFeedDocument, SandboxState, whole_seconds

REPORT_CONTENT_TYPE = "text/xml; charset=UTF-8"


def processing_report(feed: SandboxFeed) -> bytes:
    """Amazon's XML ProcessingReport for a processed feed (module docstring)."""
    root = ET.Element(
        "AmazonEnvelope",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd",
        },
    )
    header = ET.SubElement(root, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.02"
    ET.SubElement(header, "MerchantIdentifier").text = feed.seller_id
    ET.SubElement(root, "MessageType").text = "ProcessingReport"
    message = ET.SubElement(root, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    report = ET.SubElement(message, "ProcessingReport")
    ET.SubElement(report, "DocumentTransactionID").text = feed.feed_id
    ET.SubElement(report, "StatusCode").text = "Complete"
    summary = ET.SubElement(report, "ProcessingSummary")
    for count_name, count in (
        ("MessagesProcessed", feed.messages_processed),
        ("MessagesSuccessful", feed.messages_successful),
        ("MessagesWithError", feed.messages_with_error),
        ("MessagesWithWarning", feed.messages_with_warning),
    ):
        ET.SubElement(summary, count_name).text = str(count)
    for result in feed.results:
        element = ET.SubElement(report, "Result")
        ET.SubElement(element, "MessageID").text = str(result.message_id)
        ET.SubElement(element, "ResultCode").text = result.result_code
        ET.SubElement(element, "ResultMessageCode").text = str(result.message_code)
        ET.SubElement(element, "ResultDescription").text = result.description
        if result.additional_info:
            info = ET.SubElement(element, "AdditionalInfo")
            for name, value in result.additional_info:
                ET.SubElement(info, name).text = value
    ET.indent(root)
    report_bytes: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return report_bytes


def write_report(state: SandboxState, feed: SandboxFeed) -> None:
    content = processing_report(feed)
    compression: str | None = None
    if state.gzip_feed_results:
        content = gzip.compress(content, mtime=0)
        compression = "GZIP"
    document = SandboxFeedDocument(
        document_id=state.new_document_id(),
        seller_id=feed.seller_id,
        content_type=REPORT_CONTENT_TYPE,
        created_at=whole_seconds(state.now()),
        content=content,
        compression=compression,
        uploaded_at=whole_seconds(state.now()),
        feed_id=feed.feed_id,
    )
    state.add_feed_document(document)
    feed.result_document_id = document.document_id
