"""Feeds and their documents over a scripted Amazon: reserve, upload, submit, follow, download."""

from __future__ import annotations

import gzip

import httpx

from infra.amazon.client import SpApiClient
from tests.unit.infra.amazon.fake_spapi import (
    FakeAmazon,
    RecordingLimiter,
)


def test_the_feed_flow(client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter) -> None:
    upload_url = "https://tortuga-prod-na.s3.amazonaws.com/doc-in?X-Amz-Signature=abc"
    result_url = "https://tortuga-prod-na.s3.amazonaws.com/doc-out?X-Amz-Signature=def"
    report = b"<AmazonEnvelope>...</AmazonEnvelope>"
    amazon.queue(
        "/feeds/2021-06-30/documents",
        httpx.Response(201, json={"feedDocumentId": "D1", "url": upload_url}),
    )
    amazon.queue("/doc-in", httpx.Response(200))
    amazon.queue("/feeds/2021-06-30/feeds", httpx.Response(202, json={"feedId": "F1"}))
    amazon.queue(
        "/feeds/2021-06-30/feeds/F1",
        httpx.Response(
            200,
            json={"feedId": "F1", "processingStatus": "DONE", "resultFeedDocumentId": "R1"},
        ),
    )
    amazon.queue(
        "/feeds/2021-06-30/documents/R1",
        httpx.Response(
            200, json={"feedDocumentId": "R1", "url": result_url, "compressionAlgorithm": "GZIP"}
        ),
    )
    amazon.queue("/doc-out", httpx.Response(200, content=gzip.compress(report)))

    content_type = "text/xml; charset=UTF-8"
    document_id, url = client.create_feed_document(content_type)
    client.upload_feed_document(url, b"<xml/>", content_type)
    feed_id = client.create_feed("POST_ORDER_FULFILLMENT_DATA", ["ATVPDKIKX0DER"], document_id)
    feed = client.get_feed(feed_id)
    location, compression = client.get_feed_document(feed["resultFeedDocumentId"])
    assert client.download_document(location, compression) == report

    upload = amazon.calls("/doc-in")[0]
    assert upload.method == "PUT" and upload.read() == b"<xml/>"
    assert upload.headers["content-type"] == content_type
    assert "x-amz-access-token" not in upload.headers
    assert "x-amz-access-token" not in amazon.calls("/doc-out")[0].headers
    assert limiter.acquired == [
        "feeds.createFeedDocument",
        "feeds.createFeed",
        "feeds.getFeed",
        "feeds.getFeedDocument",
    ]


def test_a_document_the_transport_already_decoded_is_returned_as_is(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue("/plain", httpx.Response(200, content=b"settlement-id\tamount\n"))
    url = "https://tortuga-prod-na.s3.amazonaws.com/plain"
    assert client.download_document(url, "GZIP") == b"settlement-id\tamount\n"
