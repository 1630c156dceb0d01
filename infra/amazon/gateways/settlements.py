"""``domain.payouts.SettlementReports`` over the Reports API: the settlement reports Amazon made
(``getReports``, every page, oldest first) and each one's document, streamed from its presigned
URL (``getReportDocument``) and read row by row (``infra.amazon.translate.settlements``).

Settlement reports cannot be requested: Amazon makes one per settlement period and lists it as
``DONE``; only those are asked for. Errors are Amazon's own (``infra.amazon.errors``): the task
that fetches retries the transient ones with the one retry policy, and a report read again is
stored once by the store.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from domain.payouts import (
    SETTLEMENT_REPORT_TYPE,
    OpenBalance,
    ReportRef,
    SetAsideLine,
    SettlementLine,
    SettlementSummary,
)
from domain.shared import Money
from infra.amazon.api.documents import DocumentsApi
from infra.amazon.schemas import ListFinancialEventGroupsPayload
from infra.amazon.translate.orders import parse_time
from infra.amazon.translate.settlements import read_settlement

PAGE_SIZE = 100  # Amazon's largest page


class ReportsClient(Protocol):
    """The calls of ``infra.amazon.client.SpApiClient`` this adapter makes."""

    documents: DocumentsApi

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
    ) -> dict[str, Any]: ...

    def get_report_document(self, document_id: str) -> tuple[str, str | None]: ...

    def iter_financial_event_groups(
        self,
        *,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        max_results: int = 100,
    ) -> Iterator[ListFinancialEventGroupsPayload]: ...


def _time(value: object, field: str) -> datetime | None:
    return parse_time(value, field) if isinstance(value, str) and value else None


def report_ref(report: dict[str, Any]) -> ReportRef | None:
    """A listed report as the domain's ``ReportRef`` (None: not done, or no document yet)."""
    document = report.get("reportDocumentId")
    created = _time(report.get("createdTime"), "createdTime")
    if report.get("processingStatus") != "DONE" or not document or created is None:
        return None
    return ReportRef(
        report_id=str(report["reportId"]),
        document_id=str(document),
        created_at=created,
        data_start=_time(report.get("dataStartTime"), "dataStartTime"),
        data_end=_time(report.get("dataEndTime"), "dataEndTime"),
        marketplace_ids=tuple(report.get("marketplaceIds") or ()),
    )


class SpApiSettlements:
    """One gateway for every account: ``client_for(account_id)`` gives that seller's client."""

    def __init__(self, client_for: Callable[[int], ReportsClient]) -> None:
        self.client_for = client_for

    def list_reports(self, account_id: int, created_since: datetime) -> Sequence[ReportRef]:
        client = self.client_for(account_id)
        found: list[ReportRef] = []
        page = client.get_reports(
            report_types=[SETTLEMENT_REPORT_TYPE],
            processing_statuses=["DONE"],
            created_since=created_since,
            page_size=PAGE_SIZE,
        )
        while True:
            found.extend(r for r in map(report_ref, page.get("reports") or []) if r is not None)
            token = page.get("nextToken")
            if not token:
                break
            page = client.get_reports(next_token=token)
        return sorted(found, key=lambda r: (r.created_at, r.report_id))

    def open_balances(self, account_id: int, started_since: datetime) -> Sequence[OpenBalance]:
        """Finances' event groups still ``Open``: what Amazon holds and has not paid out."""
        found: list[OpenBalance] = []
        client = self.client_for(account_id)
        for page in client.iter_financial_event_groups(started_after=started_since):
            for group in page.financial_event_group_list:
                total = group.original_total
                if group.processing_status != "Open" or total is None:
                    continue
                if total.currency_code is None or not total.currency_amount:
                    continue  # no amount, or nothing held yet
                found.append(
                    OpenBalance(
                        group_id=group.financial_event_group_id or "",
                        started_at=group.financial_event_group_start,
                        total=Money(total.currency_amount, total.currency_code),
                    )
                )
        return found

    @contextlib.contextmanager
    def open_report(
        self, account_id: int, report: ReportRef
    ) -> Iterator[Iterator[SettlementSummary | SettlementLine | SetAsideLine]]:
        client = self.client_for(account_id)
        url, compression = client.get_report_document(report.document_id)
        with client.documents.stream_lines(url, compression) as lines:
            yield read_settlement(lines)
