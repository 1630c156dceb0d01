"""Reports 2021-06-30: listing reports and locating their documents (settlement reports are
listed, never requested: Amazon generates them on its own schedule); requesting a report and
reading where it stands (the order reports of a backfill)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from infra.amazon.api._common import csv, document_location, optional_time, required_str
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

    def create_report(
        self,
        report_type: str,
        marketplace_ids: Sequence[str],
        *,
        data_start: datetime | None = None,
        data_end: datetime | None = None,
    ) -> str:
        """``createReport``: the new report's id. Not idempotent (each call asks for another
        report), harmless to repeat: a report only reads."""
        if not marketplace_ids:
            raise ValueError("marketplace_ids is required")
        body: dict[str, Any] = {"reportType": report_type, "marketplaceIds": list(marketplace_ids)}
        if data_start is not None:
            body["dataStartTime"] = optional_time(data_start)
        if data_end is not None:
            body["dataEndTime"] = optional_time(data_end)
        answer = self.transport.call_json("reports.createReport", json=body)
        return required_str(answer, "reportId", "reports.createReport")

    def get_report(self, report_id: str) -> dict[str, Any]:
        """``getReport``: the report as Amazon's model draws it (``processingStatus`` ...)."""
        return self.transport.call_json("reports.getReport", path_params={"reportId": report_id})
