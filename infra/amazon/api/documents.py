"""Documents behind presigned URLs (feed results, reports): fetched without an SP-API token or
rate budget, and gunzipped when Amazon says so. A report of any size (a settlement report) is
streamed instead: ``stream_lines`` yields its text a line at a time, gunzipping and decoding as
the bytes arrive, so nothing holds the whole document."""

from __future__ import annotations

import codecs
import contextlib
import gzip
import zlib
from collections.abc import Iterator

import httpx

from infra.amazon.errors import AmazonPermanentError, AmazonServerError, AmazonUnreachable
from infra.amazon.http import SpApiRequest, SpApiTransport

# Bytes read from the connection at a time while streaming a document.
STREAM_CHUNK = 64 * 1024

# A pseudo-operation for the log: the download is no SP-API operation of its own.
DOWNLOAD_OPERATION = "documents.download"

_GZIP_MAGIC = b"\x1f\x8b"


class DocumentsApi:
    """Downloads of the documents that ``getFeedDocument`` and ``getReportDocument`` locate."""

    def __init__(self, transport: SpApiTransport) -> None:
        self.transport = transport

    def download_document(self, url: str, compression: str | None) -> bytes:
        """Fetch a presigned document URL; gunzip when Amazon said GZIP.

        When the URL serves ``Content-Encoding: gzip`` httpx has already decoded the body, so
        only bytes that still start with the gzip magic number are decompressed.
        """
        response = self.transport.send(
            SpApiRequest(operation=DOWNLOAD_OPERATION, method="GET", url=url, spapi=False)
        )
        data = response.content
        if compression is not None and compression.upper() == "GZIP" and data[:2] == _GZIP_MAGIC:
            return gzip.decompress(data)
        return data

    @contextlib.contextmanager
    def stream_lines(self, url: str, compression: str | None) -> Iterator[Iterator[str]]:
        """The document's text lines (each with its newline), read as they arrive: gunzipped
        when Amazon said GZIP (or the bytes say so), decoded as UTF-8. A 5xx or a broken
        connection is transient (``AmazonServerError`` / ``AmazonUnreachable``: fetch it again,
        the URL may have expired, ask for a new one); another refusal is permanent."""
        try:
            with self.transport.http.stream("GET", url) as response:
                if response.status_code >= 500:
                    raise AmazonServerError(
                        f"{DOWNLOAD_OPERATION}: HTTP {response.status_code}",
                        operation=DOWNLOAD_OPERATION,
                        status_code=response.status_code,
                    )
                if response.status_code >= 400:
                    raise AmazonPermanentError(
                        f"{DOWNLOAD_OPERATION}: HTTP {response.status_code} (an expired URL?)",
                        operation=DOWNLOAD_OPERATION,
                        status_code=response.status_code,
                    )
                yield _lines(response.iter_bytes(STREAM_CHUNK), compression)
        except httpx.TransportError as exc:
            raise AmazonUnreachable(
                f"{DOWNLOAD_OPERATION}: {type(exc).__name__}",
                operation=DOWNLOAD_OPERATION,
                request_sent=True,
            ) from exc


def _lines(chunks: Iterator[bytes], compression: str | None) -> Iterator[str]:
    said_gzip = compression is not None and compression.upper() == "GZIP"
    gunzip: zlib._Decompress | None = None
    decoder = codecs.getincrementaldecoder("utf-8")()
    head = b""  # the first bytes, until there are enough to tell gzip's magic number
    pending = ""
    for chunk in chunks:
        if len(head) < len(_GZIP_MAGIC):
            head += chunk
            if len(head) < len(_GZIP_MAGIC):
                continue
            if said_gzip and head[: len(_GZIP_MAGIC)] == _GZIP_MAGIC:  # not decoded by httpx
                gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = head
        data = gunzip.decompress(chunk) if gunzip is not None else chunk
        pending += decoder.decode(data)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    if len(head) < len(_GZIP_MAGIC):  # a document shorter than the magic number
        pending += decoder.decode(head)
    if gunzip is not None:
        pending += decoder.decode(gunzip.flush())
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending
