"""Amazon's XML order feeds at the edge: the ``AmazonEnvelope`` documents we send, built with
``xml.etree.ElementTree`` from ``domain.feeds`` message values (never by joining strings), and the
``ProcessingReport`` Amazon answers with, parsed with ``defusedxml`` into
``domain.feeds.ProcessingReport``.

``render`` builds the document of a feed type (``adjustment``: POST_PAYMENT_ADJUSTMENT_DATA,
``acknowledgement``: POST_ORDER_ACKNOWLEDGEMENT_DATA), in the element order of Amazon's XSDs. A
message Amazon's schema would refuse raises ``FeedDocumentError`` naming the message and the
field before anything is sent: one invalid message must not cost the others their feed.
"""

from infra.amazon.feeds_xml.acknowledgement import acknowledgement_document
from infra.amazon.feeds_xml.adjustment import adjustment_document, amount_text
from infra.amazon.feeds_xml.documents import render
from infra.amazon.feeds_xml.envelope import CONTENT_TYPE, DOCUMENT_VERSION, FeedDocumentError
from infra.amazon.feeds_xml.report import NotAProcessingReport, parse_processing_report

__all__ = [
    "CONTENT_TYPE",
    "DOCUMENT_VERSION",
    "FeedDocumentError",
    "NotAProcessingReport",
    "acknowledgement_document",
    "adjustment_document",
    "amount_text",
    "parse_processing_report",
    "render",
]
