"""Feeds 2021-06-30: reserve a document, upload it to its presigned URL, submit the feed, follow
it to its result document, list the feeds submitted (``getFeeds``: how a lost ``createFeed`` is
found out). ``createFeed`` is not idempotent: it is never resent blindly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

import httpx

from infra.amazon.api._common import csv, document_location, optional_time, required_str
from infra.amazon.errors import json_object
from infra.amazon.http import SpApiRequest, SpApiTransport

# A pseudo-operation for the presigned S3 upload (no SP-API auth, no rate budget).
UPLOAD_OPERATION = "feeds.uploadFeedDocument"


class FeedsPage(NamedTuple):
    """One page of ``getFeeds``, and Amazon's time when it answered (its ``Date`` header; None
    when the answer had none it could read): a lost createFeed's feed is looked for by the time
    Amazon gave it, so Amazon's clock against ours is measured where it is read."""

    body: dict[str, Any]
    amazon_time: datetime | None


def answered_at(response: httpx.Response) -> datetime | None:
    """The HTTP ``Date`` of an answer (whole seconds, UTC), or None."""
    raw = response.headers.get("date")
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


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

    def get_feeds(
        self,
        *,
        feed_types: Sequence[str] | None = None,
        marketplace_ids: Sequence[str] | None = None,
        processing_statuses: Sequence[str] | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        page_size: int = 100,
        next_token: str | None = None,
    ) -> FeedsPage:
        """One page of ``getFeeds`` (``feeds``, ``nextToken``). With ``next_token`` Amazon wants
        nothing else sent; without it ``feed_types`` is required."""
        params: dict[str, str | None]
        if next_token is not None:
            params = {"nextToken": next_token}
        else:
            if not feed_types:
                raise ValueError("feed_types is required unless next_token is given")
            if len(feed_types) > 10 or (marketplace_ids is not None and len(marketplace_ids) > 10):
                raise ValueError("feed_types and marketplace_ids take at most 10 values each")
            if not 1 <= page_size <= 100:
                raise ValueError("page_size must be between 1 and 100")
            params = {
                "feedTypes": csv(feed_types),
                "marketplaceIds": csv(marketplace_ids),
                "processingStatuses": csv(processing_statuses),
                "createdSince": optional_time(created_since),
                "createdUntil": optional_time(created_until),
                "pageSize": str(page_size),
            }
        response = self.transport.call("feeds.getFeeds", params=params)
        body = json_object("feeds.getFeeds", response)
        return FeedsPage(body, answered_at(response))

    def get_feed_document(self, document_id: str) -> tuple[str, str | None]:
        """Where to download a (result) feed document: ``(url, compressionAlgorithm)``."""
        body = self.transport.call_json(
            "feeds.getFeedDocument", path_params={"feedDocumentId": document_id}
        )
        return document_location(body, "feeds.getFeedDocument")
