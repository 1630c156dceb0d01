"""Feeds 2021-06-30: reserve a document, upload it to its presigned URL, submit the feed, follow
it to its result document. ``createFeed`` is not idempotent: it is never resent blindly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from infra.amazon.api._common import document_location, required_str
from infra.amazon.http import SpApiRequest, SpApiTransport

# A pseudo-operation for the presigned S3 upload (no SP-API auth, no rate budget).
UPLOAD_OPERATION = "feeds.uploadFeedDocument"


class FeedsApi:
    """The Feeds API for one seller."""

    def __init__(self, transport: SpApiTransport) -> None:
        self.transport = transport

    def create_feed_document(self, content_type: str) -> tuple[str, str]:
        """Reserve a feed document: ``(feed_document_id, presigned upload url)``."""
        body = self.transport.call_json(
            "feeds.createFeedDocument", json={"contentType": content_type}
        )
        return (
            required_str(body, "feedDocumentId", "feeds.createFeedDocument"),
            required_str(body, "url", "feeds.createFeedDocument"),
        )

    def upload_feed_document(self, url: str, content: bytes, content_type: str) -> None:
        """PUT the document to the presigned URL: no SP-API token, no rate budget.

        The upload's Content-Type must equal the one given to ``create_feed_document``. A PUT of
        the same bytes is idempotent, so it is retried like a GET.
        """
        self.transport.send(
            SpApiRequest(
                operation=UPLOAD_OPERATION,
                method="PUT",
                url=url,
                content=content,
                headers={"content-type": content_type},
                spapi=False,
            )
        )

    def create_feed(
        self,
        feed_type: str,
        marketplace_ids: Sequence[str],
        input_feed_document_id: str,
        feed_options: Mapping[str, str] | None = None,
    ) -> str:
        """Submit a feed (202) and return its id. Not idempotent: never resent blindly.

        A 5xx or a lost response raises with ``maybe_applied`` True; the caller must look the
        feed up (``getFeeds`` by type and time) before submitting again.
        """
        body_json: dict[str, Any] = {
            "feedType": feed_type,
            "marketplaceIds": list(marketplace_ids),
            "inputFeedDocumentId": input_feed_document_id,
        }
        if feed_options:
            body_json["feedOptions"] = dict(feed_options)
        body = self.transport.call_json("feeds.createFeed", json=body_json)
        return required_str(body, "feedId", "feeds.createFeed")

    def get_feed(self, feed_id: str) -> dict[str, Any]:
        """The feed's status: ``processingStatus``, ``resultFeedDocumentId`` when done, ..."""
        return self.transport.call_json("feeds.getFeed", path_params={"feedId": feed_id})

    def get_feed_document(self, document_id: str) -> tuple[str, str | None]:
        """Where to download a (result) feed document: ``(url, compressionAlgorithm)``."""
        body = self.transport.call_json(
            "feeds.getFeedDocument", path_params={"feedDocumentId": document_id}
        )
        return document_location(body, "feeds.getFeedDocument")
