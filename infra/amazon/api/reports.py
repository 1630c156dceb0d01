"""Reports 2021-06-30: listing reports and locating their documents (settlement reports are
listed, never requested: Amazon generates them on its own schedule)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from infra.amazon.api._common import csv, document_location, optional_time
from infra.amazon.http import SpApiTransport


class ReportsApi:
    """The Reports API for one seller."""

    def __init__(self, transport: SpApiTransport) -> None:
        self.transport = transport

    def get_reports(
        self,
        *,
        report_types: Sequence[str] | None = None,
        processing_statuses: Sequence[str] | None = None,
        marketplace_ids: Sequence[str] | None = None,
        created_since: datetime | None = None,
        created_until: datetime | None = None,
        page_size: int = 100,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """One page of ``getReports``. With ``next_token`` Amazon wants nothing else sent."""
        params: dict[str, str | None]
        if next_token is not None:
            params = {"nextToken": next_token}
        else:
            if not report_types:
                raise ValueError("report_types is required unless next_token is given")
            params = {
                "reportTypes": csv(report_types),
                "processingStatuses": csv(processing_statuses),
                "marketplaceIds": csv(marketplace_ids),
                "createdSince": optional_time(created_since),
                "createdUntil": optional_time(created_until),
                "pageSize": str(page_size),
            }
        return self.transport.call_json("reports.getReports", params=params)

    def get_report_document(self, document_id: str) -> tuple[str, str | None]:
        """Where to download a report document: ``(url, compressionAlgorithm)``."""
        body = self.transport.call_json(
            "reports.getReportDocument", path_params={"reportDocumentId": document_id}
        )
        return document_location(body, "reports.getReportDocument")
