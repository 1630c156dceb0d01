"""A feed type's document from the domain's messages: the one entry point the feeds gateway
uses, so a message of the wrong kind for the feed type is refused before it is rendered."""

from __future__ import annotations

from collections.abc import Sequence

from domain.feeds import AcknowledgementMessage, AdjustmentMessage, FeedMessage, FeedType
from infra.amazon.feeds_xml.acknowledgement import acknowledgement_document
from infra.amazon.feeds_xml.adjustment import adjustment_document
from infra.amazon.feeds_xml.envelope import FeedDocumentError


def render(merchant_identifier: str, feed_type: FeedType, messages: Sequence[FeedMessage]) -> bytes:
    """The ``AmazonEnvelope`` of ``feed_type`` carrying ``messages`` for the seller
    ``merchant_identifier``; ``FeedDocumentError`` names what Amazon's schema would refuse."""
    if feed_type is FeedType.ADJUSTMENT:
        adjustments = [m for m in messages if isinstance(m, AdjustmentMessage)]
        if len(adjustments) != len(messages):
            raise FeedDocumentError(f"{feed_type.value} carries only adjustment messages")
        return adjustment_document(merchant_identifier, adjustments)
    if feed_type is FeedType.ACKNOWLEDGEMENT:
        cancellations = [m for m in messages if isinstance(m, AcknowledgementMessage)]
        if len(cancellations) != len(messages):
            raise FeedDocumentError(f"{feed_type.value} carries only acknowledgement messages")
        return acknowledgement_document(merchant_identifier, cancellations)
    raise FeedDocumentError(f"no document is built for feed type {feed_type!r}")
