"""Documents that are not what they should be: not XML, not the envelope, entity tricks, an
unknown feed type, an upload that never came.
"""

from __future__ import annotations

import pytest

from tests.integration.infra.amazon.sandbox.feeds.support import (
    Sandbox,
    acknowledgement,
    envelope,
    fulfilment,
)

pytestmark = pytest.mark.integration

# Entity tricks: the parser (defusedxml) refuses the DOCTYPE that declares them.
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b"<AmazonEnvelope><MessageType>&lol3;</MessageType></AmazonEnvelope>"
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE AmazonEnvelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b"<AmazonEnvelope><Header><MerchantIdentifier>&x;</MerchantIdentifier></Header>"
    b"</AmazonEnvelope>"
)


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"<AmazonEnvelope><Message>", "5000", "XML Parsing Error"),
        (b"\xff\xfe not xml at all", "5000", "XML Parsing Error"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "a">]><AmazonEnvelope/>',
            "5000",
            "DOCTYPE",
        ),
        (BILLION_LAUGHS, "5000", "DOCTYPE declarations are not allowed"),
        (EXTERNAL_ENTITY, "5000", "DOCTYPE declarations are not allowed"),
        (b"<Envelope/>", "5001", "AmazonEnvelope"),
        (envelope("OrderAdjustment", acknowledgement(1, "1")), "5001", "MessageType"),
        (envelope("OrderFulfillment"), "5001", "no Message"),
        (
            b"<AmazonEnvelope><MessageType>OrderFulfillment</MessageType></AmazonEnvelope>",
            "5001",
            "MerchantIdentifier",
        ),
    ],
    ids=[
        "unclosed",
        "binary",
        "doctype",
        "entity expansion",
        "external entity",
        "root",
        "message type",
        "no messages",
        "no header",
    ],
)
def test_an_unusable_document_is_done_with_one_error_for_message_zero(
    sandbox: Sandbox, content: bytes, code: str, words: str
) -> None:
    feed, report = sandbox.run("POST_ORDER_FULFILLMENT_DATA", content)

    assert feed["processingStatus"] == "DONE"
    assert (report.processed, report.successful, report.with_error) == (0, 0, 0)
    (result,) = report.results.values()
    assert report.results[0]["message_code"] == code
    assert result["code"] == "Error"
    assert words in result["description"]


def test_an_unknown_feed_type_or_a_missing_upload_is_fatal(sandbox: Sandbox) -> None:
    order_id, _ = sandbox.order()
    unknown, unknown_report = sandbox.run(
        "POST_PRODUCT_DATA", envelope("OrderFulfillment", fulfilment(1, order_id))
    )
    never_uploaded, _ = sandbox.run("POST_ORDER_FULFILLMENT_DATA", None)

    assert unknown["processingStatus"] == "FATAL"
    assert unknown_report.results[0]["message_code"] == "90000"
    assert never_uploaded["processingStatus"] == "FATAL"
    assert sandbox.view(order_id)["status"] == "UNSHIPPED"


def test_an_entity_trick_leaves_the_sandbox_answering_and_the_orders_untouched(
    sandbox: Sandbox,
) -> None:
    order_id, _ = sandbox.order()
    trick = BILLION_LAUGHS.replace(
        b"<MessageType>&lol3;</MessageType>",
        b"<MessageType>OrderFulfillment</MessageType>" + fulfilment(1, order_id).encode(),
    )

    feed, report = sandbox.run("POST_ORDER_FULFILLMENT_DATA", trick)
    then, _ = sandbox.run(
        "POST_ORDER_FULFILLMENT_DATA", envelope("OrderFulfillment", fulfilment(1, order_id))
    )

    assert feed["processingStatus"] == "DONE"
    assert report.results[0]["description"] == (
        "XML Parsing Error: DOCTYPE declarations are not allowed"
    )
    assert then["processingStatus"] == "DONE"
    assert sandbox.view(order_id)["status"] == "SHIPPED"  # by the second feed only
