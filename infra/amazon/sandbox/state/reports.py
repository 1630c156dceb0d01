"""The reports Amazon made for the sellers: settlement reports, one per closed financial event
group (seller and currency), with their documents, and the settings that shape the next ones.

Amazon makes a ``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2`` report when a settlement period
closes; nobody can request one. The sandbox makes them when it notices a group closed (``settle``
is called before every Reports API answer and by the control API's close), so a report exists
for every closed group with events, however long the sandbox was stopped. A report and its
document never change once made: the document is written then (``reports.settlement``), stored
as bytes (gzipped when ``gzip`` was on) and kept across restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

FIRST_REPORT_ID = 51_000_000_001  # Amazon's report ids are long numbers, unique per seller
FIRST_SETTLEMENT_ID = 11_800_000_001
REPORT_PROCESSING_STATUSES = ("CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE")
# The rows the control API can slip into the next report, to test rows set aside.
MALFORMED_KINDS = ("amount", "date", "quantity", "settlement", "short")


@dataclass(slots=True)
class SandboxReport:
    """One report as getReports lists it, with its document's stored bytes."""

    report_id: str
    report_type: str
    seller_id: str
    marketplace_ids: tuple[str, ...]
    data_start: datetime
    data_end: datetime
    created_at: datetime
    processing_status: str
    document_id: str
    content: bytes  # as stored: gzipped when ``compression`` is GZIP
    compression: str | None
    settlement_id: str
    currency: str
    group_id: str
    total: Decimal
    rows: int  # data rows after the header (the summary and every amount)


@dataclass(slots=True)
class ReportBook:
    """Every seller's reports, and the settings of the next settlement documents."""

    reports: dict[str, SandboxReport] = field(default_factory=dict)
    gzip: bool = False  # store (and serve) new documents gzipped
    promotion_id: bool = True  # the 24th column, ``promotion-id``; off: 23 columns
    # Malformed rows for the next settlement report of a seller (kinds of MALFORMED_KINDS).
    malformed_next: dict[str, list[str]] = field(default_factory=dict)
    # What ``settle`` last looked at (events, early closes, the current period): while it is
    # the same, no group can have closed since and ``settle`` has nothing to look for.
    looked_at: tuple[int, int, str] = (0, 0, "")

    def settled_groups(self) -> set[str]:
        return {r.group_id for r in self.reports.values()}

    def new_report_id(self) -> str:
        return str(FIRST_REPORT_ID + len(self.reports))

    def new_settlement_id(self) -> str:
        return str(FIRST_SETTLEMENT_ID + len(self.reports))

    def of_seller(self, seller_id: str) -> list[SandboxReport]:
        return [r for r in self.reports.values() if r.seller_id == seller_id]

    def document(self, seller_id: str | None, document_id: str) -> SandboxReport | None:
        """The report whose document this is (of ``seller_id``, when one is named)."""
        for report in self.reports.values():
            if report.document_id == document_id and seller_id in (None, report.seller_id):
                return report
        return None

    def clear(self, kept: ReportBook | None = None) -> None:
        """Empty with the default settings, or (a saved state loaded) as ``kept`` was."""
        self.reports = dict(kept.reports) if kept else {}
        self.gzip = kept.gzip if kept else False
        self.promotion_id = kept.promotion_id if kept else True
        self.malformed_next = dict(kept.malformed_next) if kept else {}
        self.looked_at = kept.looked_at if kept else (0, 0, "")
