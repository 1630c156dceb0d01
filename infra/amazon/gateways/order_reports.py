"""``domain.ingestion.OrderReports`` over the Reports API: an order report asked for
(``createReport``, one marketplace and window), waited for (``getReport``, polled with a growing
pause), and its document streamed from its presigned URL (``getReportDocument``) and read by
header name (``infra.amazon.translate.order_report``) into the sync's own orders.

Rate limits are the transport's business: every call spends from the seller's shared budget
(``createReport`` 0.0167/s burst 15, ``getReport`` 2/s burst 15, ``getReportDocument``
0.0167/s burst 15) and waits for a token as long as the caller's policy allows, so a poll never
sends a call Amazon would refuse; the pause between polls only keeps the budget for others.
A report Amazon no longer knows (404) is ``ReportUnavailable`` (ask anew), one it ended
``FATAL`` is ``ReportFailed``, one it ``CANCELLED`` (no order in its window) holds no order.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, Protocol

from domain.ingestion import FetchedOrder, ReportFailed, ReportUnavailable
from infra.amazon.api.documents import DocumentsApi
from infra.amazon.api.reports import ReportsApi
from infra.amazon.errors import AmazonNotFound, UnexpectedResponse
from infra.amazon.translate.order_report import ORDERS_REPORT_TYPE, OrderReportError, read_orders

# getReport refills two calls a second: a first look after half a second costs nothing, and
# doubling pauses reach Amazon's usual minutes in a few calls.
FIRST_PAUSE_S = 0.5
LONGEST_PAUSE_S = 30.0
# A report not done after this long is taken as stuck: the backfill stops, a rerun waits again.
GIVE_UP_AFTER_S = 2 * 3600.0


class ReportsClient(Protocol):
    """The parts of ``infra.amazon.client.SpApiClient`` this adapter uses."""

    reports: ReportsApi
    documents: DocumentsApi


class SpApiOrderReports:
    """The order reports of one seller. ``on_wait(status, seconds)`` hears each pause."""

    def __init__(
        self,
        client: ReportsClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        on_wait: Callable[[str, float], None] | None = None,
    ) -> None:
        self.client = client
        self.sleep = sleep
        self.monotonic = monotonic
        self.on_wait = on_wait

    def request(self, *, marketplace_id: str, start: datetime, end: datetime) -> str:
        return self.client.reports.create_report(
            ORDERS_REPORT_TYPE, [marketplace_id], data_start=start, data_end=end
        )

    def wait(self, report_id: str) -> dict[str, Any]:
        """The report once Amazon finished it (``DONE``, ``CANCELLED`` or ``FATAL``)."""
        pause = FIRST_PAUSE_S
        deadline = self.monotonic() + GIVE_UP_AFTER_S
        while True:
            try:
                report = self.client.reports.get_report(report_id)
            except AmazonNotFound as exc:
                raise ReportUnavailable(f"report {report_id} is gone: {exc.message}") from exc
            status = str(report.get("processingStatus"))
            if status in ("DONE", "CANCELLED", "FATAL"):
                return report
            if self.monotonic() > deadline:
                raise ReportFailed(f"report {report_id} is still {status} after two hours")
            if self.on_wait is not None:
                self.on_wait(status, pause)
            self.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)

    @contextlib.contextmanager
    def orders(self, report_id: str) -> Iterator[Iterator[FetchedOrder]]:
        report = self.wait(report_id)
        status = report["processingStatus"]
        if status == "FATAL":
            raise ReportFailed(f"Amazon could not make report {report_id} (FATAL)")
        if status == "CANCELLED":  # nothing in its window
            yield iter(())
            return
        document_id = report.get("reportDocumentId")
        marketplaces = report.get("marketplaceIds") or []
        if not isinstance(document_id, str) or not document_id or len(marketplaces) != 1:
            raise UnexpectedResponse(
                f"report {report_id} is DONE without its document or its one marketplace",
                operation="reports.getReport",
            )
        url, compression = self.client.reports.get_report_document(document_id)
        with self.client.documents.stream_lines(url, compression) as lines:
            try:
                yield read_orders(lines, str(marketplaces[0]))
            except OrderReportError as exc:
                raise ReportFailed(f"report {report_id}: {exc}") from exc
