"""The Feeds API 2021-06-30: feed documents, feeds, their status and their reports.

What a feed does once processed is ``feeds``' business; the document URLs handed out here are
built from the sandbox's configured base URL (``feeds.documents``). Refusals are
``SandboxError`` (400, or 404 for an unknown feed or document), answered as Amazon's ``errors``
body. A feed or document of another seller does not exist for the caller.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from starlette.datastructures import QueryParams

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.feeds import (
    DOCUMENT_LIFETIME,
    DOWNLOAD_URL_LIFETIME,
    UPLOAD_URL_LIFETIME,
    advance,
    document_url,
)
from infra.amazon.sandbox.operations.call import Call, json_body, refusals
from infra.amazon.sandbox.render import feed_json
from infra.amazon.sandbox.rules.pagination import newest_first_page
from infra.amazon.sandbox.rules.query import listed, query_time
from infra.amazon.sandbox.state import (
    FEED_PROCESSING_STATUSES,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxState,
    parse_iso,
    whole_seconds,
)

FEED_RETENTION = timedelta(days=90)
MAX_MARKETPLACES = 25
FEED_ID = re.compile(r"^[0-9]{1,20}$")


def _create_feed_document(
    state: SandboxState, seller_id: str, body: Any, base_url: str
) -> dict[str, Any]:
    """``createFeedDocument``: reserve a document and hand out its upload URL."""
    if not isinstance(body, dict):
        raise SandboxError("The request body must be a CreateFeedDocumentSpecification object")
    content_type = body.get("contentType")
    if not isinstance(content_type, str) or not content_type.strip():
        raise SandboxError("contentType is required")
    now = state.now()
    document = SandboxFeedDocument(
        document_id=state.new_document_id(),
        seller_id=seller_id,
        content_type=content_type.strip(),
        created_at=whole_seconds(now),
    )
    state.add_feed_document(document)
    return {
        "feedDocumentId": document.document_id,
        "url": document_url(base_url, "uploads", document.document_id, now + UPLOAD_URL_LIFETIME),
    }


def _create_feed(state: SandboxState, seller_id: str, body: Any) -> dict[str, Any]:
    """``createFeed``: queue a feed over an uploaded document (its content is taken now)."""
    if not isinstance(body, dict):
        raise SandboxError("The request body must be a CreateFeedSpecification object")
    feed_type = body.get("feedType")
    if not isinstance(feed_type, str) or not feed_type.strip():
        raise SandboxError("feedType is required")
    marketplace_ids = body.get("marketplaceIds")
    if not isinstance(marketplace_ids, list) or not marketplace_ids:
        raise SandboxError("marketplaceIds is required (a list of 1 to 25 marketplace ids)")
    if len(marketplace_ids) > MAX_MARKETPLACES:
        raise SandboxError(f"marketplaceIds accepts at most {MAX_MARKETPLACES} values")
    seller = state.seller(seller_id)
    for marketplace_id in marketplace_ids:
        if marketplace_id not in seller.marketplace_ids:
            raise SandboxError(
                f"marketplaceIds: {marketplace_id!r} is not a marketplace of this seller"
            )
    options = body.get("feedOptions", {})
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise SandboxError("feedOptions must be an object of string values")
    document_id = body.get("inputFeedDocumentId")
    if not isinstance(document_id, str) or not document_id:
        raise SandboxError("inputFeedDocumentId is required")
    document = state.feed_documents.get(document_id)
    if document is None or document.seller_id != seller_id or document.feed_id is not None:
        raise SandboxError(f"inputFeedDocumentId {document_id!r} is not a feed document of yours")
    now = state.now()
    if now - document.created_at > DOCUMENT_LIFETIME:
        raise SandboxError(f"inputFeedDocumentId {document_id!r} has expired (2 days)")
    feed = SandboxFeed(
        feed_id=state.new_feed_id(),
        seller_id=seller_id,
        feed_type=feed_type.strip(),
        marketplace_ids=tuple(marketplace_ids),
        input_document_id=document_id,
        feed_options=dict(options),
        created_at=whole_seconds(now),
        content=document.content,
        content_type=document.content_type,
        processing_seconds=state.feed_processing_seconds,
        submitted_at=now,
    )
    state.add_feed(feed)
    return {"feedId": feed.feed_id}


def _own_feed(state: SandboxState, seller_id: str, feed_id: str) -> SandboxFeed:
    if not FEED_ID.match(feed_id):
        raise SandboxError(f"Invalid feedId {feed_id!r}")
    feed = state.feeds.get(feed_id)
    if feed is None or feed.seller_id != seller_id:
        raise SandboxError(f"Feed {feed_id} was not found", status=404)
    return feed


def _get_feed(state: SandboxState, seller_id: str, feed_id: str) -> dict[str, Any]:
    """``getFeed``: the feed as it is, then one step on (module docstring)."""
    feed = _own_feed(state, seller_id, feed_id)
    advance(state, feed, polled=True)
    return feed_json(feed)


def _cancel_feed(state: SandboxState, seller_id: str, feed_id: str) -> None:
    feed = _own_feed(state, seller_id, feed_id)
    advance(state, feed)
    if feed.status != "IN_QUEUE":
        raise SandboxError(f"Feed {feed_id} is {feed.status}; only IN_QUEUE feeds can be cancelled")
    feed.status = "CANCELLED"
    state.notifier.feed_finished(feed)


_GET_FEEDS_PARAMETERS = (
    "feedTypes",
    "marketplaceIds",
    "pageSize",
    "processingStatuses",
    "createdSince",
    "createdUntil",
)


def _get_feeds(
    state: SandboxState, seller_id: str, operation: str, query: QueryParams
) -> dict[str, Any]:
    """``getFeeds``: newest first; ``nextToken`` must come alone (as the model says).

    ``feedTypes`` (1-10, required without ``nextToken``), ``marketplaceIds`` (1-10, a feed
    matches when it was submitted for any of them), ``processingStatuses`` (the model's enum),
    ``createdSince`` (default 90 days ago) and ``createdUntil`` (default now), ``pageSize``
    (1-100, default 10); feeds are retained 90 days.
    """
    token = query.get("nextToken")
    if token:
        others = [name for name in _GET_FEEDS_PARAMETERS if name in query]
        if others:
            raise SandboxError(f"nextToken must be the only parameter (also sent: {others})")
        payload = state.read_pagination_token(token)  # a SandboxError (400) when forged/old
        if payload.get("op") != operation or payload.get("seller") != seller_id:
            raise SandboxError("Invalid nextToken")
        wanted: dict[str, Any] = payload["q"]
        position: list[str] | None = payload["pos"]
    else:
        feed_types = listed(query, "feedTypes")
        if not feed_types:
            raise SandboxError("Either feedTypes or nextToken is required")
        marketplaces = listed(query, "marketplaceIds")
        if len(feed_types) > 10 or len(marketplaces) > 10:
            raise SandboxError("feedTypes and marketplaceIds accept at most 10 values")
        statuses = listed(query, "processingStatuses")
        bad = [s for s in statuses if s not in FEED_PROCESSING_STATUSES]
        if bad:
            raise SandboxError(f"Invalid value(s) for processingStatuses: {', '.join(bad)}")
        raw_size = query.get("pageSize") or "10"
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= 100:
            raise SandboxError("pageSize must be an integer between 1 and 100")
        now = state.now()
        since = query_time(query, "createdSince") or now - FEED_RETENTION
        until = query_time(query, "createdUntil") or now
        if until < since:
            raise SandboxError("createdUntil must be equal to or after createdSince")
        wanted = {
            "types": feed_types,
            "marketplaces": marketplaces,
            "statuses": statuses,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "size": int(raw_size),
        }
        position = None

    since, until = parse_iso(wanted["since"]), parse_iso(wanted["until"])
    retained = state.now() - FEED_RETENTION  # older feeds are gone, whatever createdSince says
    found: list[SandboxFeed] = []
    for feed in state.feeds.values():
        if feed.seller_id != seller_id or feed.created_at < retained:
            continue
        advance(state, feed)
        if (
            feed.feed_type in wanted["types"]
            and (not wanted["statuses"] or feed.status in wanted["statuses"])
            and (
                not wanted["marketplaces"]
                or set(wanted["marketplaces"]) & set(feed.marketplace_ids)
            )
            and since <= feed.created_at <= until
        ):
            found.append(feed)
    return newest_first_page(
        state, operation, seller_id, wanted, position, found,
        created_at=lambda f: f.created_at, id_of=lambda f: f.feed_id,
        render=feed_json, key="feeds",
    )  # fmt: skip


def _get_feed_document(
    state: SandboxState, seller_id: str, document_id: str, base_url: str, query: QueryParams
) -> dict[str, Any]:
    """``getFeedDocument``: where to download a document (a report, or an input document)."""
    raw_flag = query.get("enableContentEncodingUrlHeader")
    if raw_flag is not None and raw_flag.lower() not in ("true", "false"):
        raise SandboxError("enableContentEncodingUrlHeader must be true or false")
    document = state.feed_documents.get(document_id)
    if document is None or document.seller_id != seller_id:
        raise SandboxError(f"Feed document {document_id} was not found", status=404)
    encoding = ""
    if document.compression == "GZIP" and (raw_flag or "").lower() == "true":
        encoding = "&contentEncoding=gzip"
    drawn: dict[str, Any] = {
        "feedDocumentId": document.document_id,
        "url": document_url(
            base_url, "downloads", document_id, state.now() + DOWNLOAD_URL_LIFETIME, encoding
        ),
    }
    if document.compression is not None:
        drawn["compressionAlgorithm"] = document.compression
    return drawn


# -- the handlers ------------------------------------------------------------------------------


def create_feed_document(call: Call) -> tuple[int, dict[str, Any] | None]:
    body = json_body(call)
    with call.state.lock, refusals():
        return 201, _create_feed_document(call.state, call.seller_id, body, call.base_url)


def create_feed(call: Call) -> tuple[int, dict[str, Any] | None]:
    body = json_body(call)
    with call.state.lock, refusals():
        return 202, _create_feed(call.state, call.seller_id, body)


def get_feed(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, refusals():
        return 200, _get_feed(call.state, call.seller_id, call.path_params["feedId"])


def get_feeds(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, refusals():
        return 200, _get_feeds(call.state, call.seller_id, call.operation, call.query)


def cancel_feed(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, refusals():
        _cancel_feed(call.state, call.seller_id, call.path_params["feedId"])
    return 200, None


def get_feed_document(call: Call) -> tuple[int, dict[str, Any] | None]:
    document_id = call.path_params["feedDocumentId"]
    with call.state.lock, refusals():
        return 200, _get_feed_document(
            call.state, call.seller_id, document_id, call.base_url, call.query
        )
