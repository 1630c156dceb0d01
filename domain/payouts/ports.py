"""What the payout use cases need from outside: Amazon's settlement reports (listed and
streamed) and the store that keeps settlements, their lines and their statements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from domain.payouts.model import (
    Known,
    OpenBalance,
    ReportRef,
    SetAsideLine,
    SettlementLine,
    SettlementSummary,
)
from domain.payouts.reconcile import Statement


class SettlementReports(Protocol):
    def list_reports(self, account_id: int, created_since: datetime) -> Sequence[ReportRef]:
        """getReports of the settlement type created since then (every page), oldest first.
        Raises ``AmazonBusy`` when throttled."""
        ...

    def open_balances(self, account_id: int, started_since: datetime) -> Sequence[OpenBalance]:
        """Finances' open event groups started since then: what is not paid out yet."""
        ...

    def open_report(
        self, account_id: int, report: ReportRef
    ) -> AbstractContextManager[Iterator[SettlementSummary | SettlementLine | SetAsideLine]]:
        """getReportDocument, then the document streamed (gunzipped when Amazon says GZIP) and
        read row by row: the summary first, then each line or set-aside row. Nothing is held
        whole. A summary row that cannot be read raises ``ValueError`` with why."""
        ...


class PayoutStore(Protocol):
    def settlement_done(self, account_id: int, settlement_id: str) -> bool:
        """Every line of the settlement is stored (a report listed again is skipped)."""
        ...

    def replace_open_balances(self, account_id: int, balances: Sequence[OpenBalance]) -> None:
        """The account's open balances as Amazon states them now (the earlier ones go)."""
        ...

    def report_done(self, account_id: int, report_id: str) -> bool:
        """The settlement of that report is finished (listed again: not downloaded again)."""
        ...

    def begin(self, account_id: int, report: ReportRef, summary: SettlementSummary) -> int:
        """The settlement row (made once; the same id for the same settlement): its
        ``lines_stored`` says where a killed fetch resumes."""
        ...

    def lines_stored(self, account_id: int, settlement_id: str) -> int:
        """The highest ``line_no`` committed (0: none): rows up to it are skipped on resume."""
        ...

    def save_lines(
        self,
        account_id: int,
        settlement_id: str,
        lines: Iterable[SettlementLine | SetAsideLine],
    ) -> int:
        """A batch committed in one transaction, each line once (its ``line_no`` is its key):
        returns how many were new. ``lines`` may be lazy (the next lines of a report being
        read): they are read inside the transaction, and a reading that fails half way keeps
        nothing of the batch."""
        ...

    def known(self, account_id: int, settlement_id: str) -> Known:
        """The store's orders and our adjustment item ids among the settlement's lines."""
        ...

    def stored_lines(
        self, account_id: int, settlement_id: str
    ) -> AbstractContextManager[Iterator[SettlementLine | SetAsideLine]]:
        """The stored lines in file order, streamed (for ``reconcile``)."""
        ...

    def mark_unmatched(
        self, account_id: int, settlement_id: str, marks: Sequence[tuple[int, str]]
    ) -> None:
        """Lines that matched nothing marked with the reason, by line number (marking one
        again with the same reason changes nothing)."""
        ...

    def finish(self, account_id: int, settlement_id: str, statement: Statement) -> bool:
        """The statement stored (the unmatched lines it still holds marked) and its events
        appended to the outbox in one transaction; False when it was finished before (nothing
        done twice)."""
        ...
