"""The presigned URLs of feed documents: where a document is uploaded and downloaded.

- ``createFeedDocument`` gives ``{base}/_sandbox/uploads/{feedDocumentId}?expires=<epoch>``; a
  plain PUT there (no SP-API token, no rate bucket) stores the document. Its Content-Type must
  equal the declared ``contentType`` (case and blanks aside), else 400; after five minutes of
  sandbox time the URL answers 403, as S3 does. A document can be used for two days.
- ``getFeedDocument`` gives ``{base}/_sandbox/downloads/{feedDocumentId}?expires=<epoch>`` (also
  for input documents). With ``enableContentEncodingUrlHeader=true`` and a gzipped report that
  URL answers ``Content-Encoding: gzip``.

``{base}`` is the sandbox's configured base URL, never the request's ``Host`` header: a client
that sends a wrong Host must still be handed URLs that name the sandbox. The control API serves
the URLs (``control.feeds``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.state import SandboxState, whole_seconds

UPLOAD_URL_LIFETIME = timedelta(minutes=5)
DOWNLOAD_URL_LIFETIME = timedelta(minutes=5)
DOCUMENT_LIFETIME = timedelta(days=2)
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def normal_content_type(value: str) -> str:
    return re.sub(r"\s+", "", value).lower()


def document_url(
    base_url: str, kind: str, document_id: str, expires: datetime, extra: str = ""
) -> str:
    """``kind`` is ``uploads`` or ``downloads``; ``extra`` more query parameters (``&...``)."""
    return f"{base_url}/_sandbox/{kind}/{document_id}?expires={int(expires.timestamp())}{extra}"


def _check_expiry(state: SandboxState, expires: str | None) -> None:
    try:
        deadline = int(expires or "")
    except ValueError:
        raise SandboxError("Request has expired", status=403) from None
    if state.now().timestamp() > deadline:
        raise SandboxError("Request has expired", status=403)


def upload(
    state: SandboxState,
    document_id: str,
    content_type: str | None,
    content: bytes,
    expires: str | None,
) -> None:
    """A PUT to an upload URL: S3's part of the flow, without S3's signature."""
    with state.lock:
        document = state.feed_documents.get(document_id)
        if document is None or document.feed_id is not None:
            raise SandboxError(f"No upload is expected for {document_id}", status=404)
        _check_expiry(state, expires)
        if normal_content_type(content_type or "") != normal_content_type(document.content_type):
            raise SandboxError(
                f"Content-Type {content_type!r} does not match the document's contentType "
                f"{document.content_type!r}"
            )
        if len(content) > MAX_DOCUMENT_BYTES:
            raise SandboxError("The document is larger than 10 MB", status=413)
        document.content = content
        document.uploaded_at = whole_seconds(state.now())


@dataclass(frozen=True, slots=True)
class Download:
    content: bytes
    content_type: str
    content_encoding: str | None


def download(
    state: SandboxState, document_id: str, expires: str | None, content_encoding: str | None
) -> Download:
    with state.lock:
        document = state.feed_documents.get(document_id)
        if document is None or document.content is None:
            raise SandboxError(f"No such document {document_id}", status=404)
        _check_expiry(state, expires)
        gzipped = document.compression == "GZIP" and content_encoding == "gzip"
        return Download(document.content, document.content_type, "gzip" if gzipped else None)
