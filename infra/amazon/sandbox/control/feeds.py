"""Control API, feeds: the presigned upload and download URLs, every feed with what each of
its messages did, finishing a feed at once, and the feed settings: whether reports are stored
gzipped and how long a new feed takes to process (``feeds.processing``)."""

from __future__ import annotations

import gzip
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from infra.amazon.sandbox import feeds
from infra.amazon.sandbox.render import feed_json
from infra.amazon.sandbox.state import SandboxFeed, SandboxState


class FeedSettingsIn(BaseModel):
    """Only the fields sent change; ``processing_seconds`` null goes back to the steps."""

    gzip_results: bool | None = None
    processing_seconds: float | None = Field(default=None, ge=0, le=86_400)


def describe_feed(state: SandboxState, feed: SandboxFeed) -> dict[str, Any]:
    """Everything about a feed for ``GET /_sandbox/feeds/{feedId}``."""
    content = feed.content
    text = content.decode("utf-8", "replace") if content is not None else None
    report: str | None = None
    if feed.result_document_id is not None:
        stored = state.feed_documents[feed.result_document_id].content or b""
        if stored[:2] == b"\x1f\x8b":
            stored = gzip.decompress(stored)
        report = stored.decode("utf-8")
    return {
        "feed": feed_json(feed),
        "seller_id": feed.seller_id,
        "input_feed_document_id": feed.input_document_id,
        "feed_options": feed.feed_options,
        "content_type": feed.content_type,
        "document": text,
        "polls": feed.polls,
        "fatal_reason": feed.fatal_reason,
        "summary": {
            "messages_processed": feed.messages_processed,
            "messages_successful": feed.messages_successful,
            "messages_with_error": feed.messages_with_error,
            "messages_with_warning": feed.messages_with_warning,
        },
        "messages": feed.messages,
        "results": [
            {
                "message_id": r.message_id,
                "result_code": r.result_code,
                "result_message_code": r.message_code,
                "description": r.description,
                "additional_info": dict(r.additional_info),
            }
            for r in feed.results
        ],
        "report": report,
    }


def router(state: SandboxState) -> APIRouter:
    routes = APIRouter()

    @routes.put("/uploads/{document_id}")
    async def upload(document_id: str, request: Request) -> Response:
        feeds.upload(
            state,
            document_id,
            request.headers.get("content-type"),
            await request.body(),
            request.query_params.get("expires"),
        )
        return Response(status_code=200)

    @routes.get("/downloads/{document_id}")
    def download(
        document_id: str, expires: str | None = None, contentEncoding: str | None = None
    ) -> Response:
        found = feeds.download(state, document_id, expires, contentEncoding)
        headers = {"content-encoding": found.content_encoding} if found.content_encoding else {}
        return Response(found.content, media_type=found.content_type, headers=headers)

    @routes.get("/feeds")
    def list_feeds(seller_id: str | None = None) -> dict[str, Any]:
        with state.lock:
            listed = []
            for feed in sorted(
                state.feeds.values(), key=lambda f: (f.created_at, int(f.feed_id)), reverse=True
            ):
                if seller_id and feed.seller_id != seller_id:
                    continue
                feeds.advance(state, feed)
                listed.append(
                    {
                        **feed_json(feed),
                        "seller_id": feed.seller_id,
                        "messages_processed": feed.messages_processed,
                        "messages_with_error": feed.messages_with_error,
                    }
                )
            return {"feeds": listed}

    @routes.get("/feeds/{feed_id}")
    def feed_view(feed_id: str) -> dict[str, Any]:
        with state.lock:
            feed = state.feed(feed_id)
            feeds.advance(state, feed)
            return describe_feed(state, feed)

    @routes.post("/feeds/{feed_id}/process")
    def process_feed(feed_id: str) -> dict[str, Any]:
        with state.lock:
            feed = state.feed(feed_id)
            feeds.finish(state, feed)
            return describe_feed(state, feed)

    def settings() -> dict[str, Any]:
        return {
            "gzip_results": state.gzip_feed_results,
            "processing_seconds": state.feed_processing_seconds,
        }

    @routes.get("/feed-settings")
    def read_feed_settings() -> dict[str, Any]:
        with state.lock:
            return settings()

    @routes.post("/feed-settings")
    def feed_settings(body: FeedSettingsIn) -> dict[str, Any]:
        with state.lock:
            if body.gzip_results is not None:
                state.gzip_feed_results = body.gzip_results
            if "processing_seconds" in body.model_fields_set:
                state.feed_processing_seconds = body.processing_seconds
            return settings()

    return routes
