"""Documents behind presigned URLs (feed results, reports): fetched without an SP-API token or
rate budget, and gunzipped when Amazon says so."""

from __future__ import annotations

import gzip

from infra.amazon.http import SpApiRequest, SpApiTransport

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
