"""The feed document URLs: uploads checked for content type and expiry, bad createFeed bodies,
gzipped reports.
"""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest

from tests.integration.infra.amazon.sandbox.feeds.support import (
    DOCUMENTS,
    FEEDS,
    MARKETPLACE,
    XML,
    Sandbox,
    envelope,
    fulfilment,
    parse_report,
)

pytestmark = pytest.mark.integration


def test_uploads_check_content_type_and_expiry_and_need_no_token(sandbox: Sandbox) -> None:
    document_id, url = sandbox.document(None)

    wrong_type = httpx.put(url, content=b"<a/>", headers={"content-type": "application/xml"})
    same_type = httpx.put(url, content=b"<a/>", headers={"content-type": "text/xml;charset=utf-8"})
    unknown = httpx.put(
        url.replace(document_id, "amzn1.tortuga.4.na.nothing"),
        content=b"<a/>",
        headers={"content-type": XML},
    )
    sandbox.handle.state.advance_clock(301)
    expired = httpx.put(url, content=b"<a/>", headers={"content-type": XML})

    assert wrong_type.status_code == 400 and "Content-Type" in wrong_type.json()["error"]
    assert same_type.status_code == 200  # case and blanks aside, the declared type
    assert unknown.status_code == 404
    assert expired.status_code == 403
    # The document was uploaded before the URL expired and can still be used (2 days).
    created = sandbox.client.post(
        FEEDS,
        json={
            "feedType": "POST_ORDER_FULFILLMENT_DATA",
            "marketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": document_id,
        },
        headers=sandbox.headers,
    )
    assert created.status_code == 202
    sandbox.handle.state.advance_clock(2 * 86400)
    sandbox.log_in()
    stale = sandbox.client.post(
        FEEDS,
        json={
            "feedType": "POST_ORDER_FULFILLMENT_DATA",
            "marketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": document_id,
        },
        headers=sandbox.headers,
    )
    assert stale.status_code == 400 and "expired" in stale.json()["errors"][0]["message"]


def test_create_feed_refuses_an_unknown_document_and_bad_bodies(sandbox: Sandbox) -> None:
    def create(body: Any) -> httpx.Response:
        return sandbox.client.post(FEEDS, json=body, headers=sandbox.headers)

    document_id, _ = sandbox.document(b"<a/>")
    good = {
        "feedType": "POST_ORDER_FULFILLMENT_DATA",
        "marketplaceIds": [MARKETPLACE],
        "inputFeedDocumentId": document_id,
    }
    cases = {
        "inputFeedDocumentId": dict(good, inputFeedDocumentId="nope"),
        "feedType": {k: v for k, v in good.items() if k != "feedType"},
        "marketplaceIds": dict(good, marketplaceIds=[]),
        "feedOptions": dict(good, feedOptions={"a": 1}),
    }
    for field, body in cases.items():
        response = create(body)
        assert response.status_code == 400, field
        assert field in response.json()["errors"][0]["message"]
    no_content_type = sandbox.client.post(DOCUMENTS, json={}, headers=sandbox.headers)
    assert no_content_type.status_code == 400
    assert "contentType" in no_content_type.json()["errors"][0]["message"]


def test_gzipped_reports_are_announced_and_can_be_served_with_content_encoding(
    sandbox: Sandbox,
) -> None:
    sandbox.client.post("/_sandbox/feed-settings", json={"gzip_results": True})
    order_id, _ = sandbox.order()
    feed_id = sandbox.submit(
        "POST_ORDER_FULFILLMENT_DATA", envelope("OrderFulfillment", fulfilment(1, order_id))
    )
    feed = sandbox.client.post(f"/_sandbox/feeds/{feed_id}/process").json()["feed"]
    path = f"{DOCUMENTS}/{feed['resultFeedDocumentId']}"

    plain = sandbox.client.get(path, headers=sandbox.headers).json()
    encoded = sandbox.client.get(
        path, params={"enableContentEncodingUrlHeader": "true"}, headers=sandbox.headers
    ).json()
    raw = httpx.get(plain["url"])
    decoded = httpx.get(encoded["url"])

    assert plain["compressionAlgorithm"] == encoded["compressionAlgorithm"] == "GZIP"
    assert raw.content[:2] == b"\x1f\x8b"
    assert parse_report(gzip.decompress(raw.content)).successful == 1
    assert decoded.headers["content-encoding"] == "gzip"
    assert parse_report(decoded.content).successful == 1  # httpx undid the encoding
    sandbox.handle.state.advance_clock(301)
    assert httpx.get(plain["url"]).status_code == 403  # download URLs live five minutes


def test_document_urls_name_the_sandbox_whatever_host_the_client_sent(sandbox: Sandbox) -> None:
    # A client that sends a wrong Host (over plain http nothing stops it) must still be sent to
    # the sandbox, never to the machine its Host header names.
    bogus = {**sandbox.headers, "host": "elsewhere.example:9999"}
    base = sandbox.handle.base_url
    created = sandbox.client.post(DOCUMENTS, json={"contentType": XML}, headers=bogus)
    upload_url = created.json()["url"]
    uploaded = httpx.put(upload_url, content=b"<a/>", headers={"content-type": XML})
    fetched = sandbox.client.get(f"{DOCUMENTS}/{created.json()['feedDocumentId']}", headers=bogus)
    download_url = fetched.json()["url"]

    assert created.status_code == 201 and fetched.status_code == 200
    assert upload_url.startswith(f"{base}/_sandbox/uploads/")
    assert download_url.startswith(f"{base}/_sandbox/downloads/")
    assert "elsewhere.example" not in upload_url + download_url
    assert uploaded.status_code == 200
    assert httpx.get(download_url).content == b"<a/>"
