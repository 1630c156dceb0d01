"""Fetch an account's settlements: list Amazon's settlement reports, store each new report's lines
in batches, then reconcile it from what was stored and finish it.

Safe to run twice and to be killed anywhere: a finished settlement is skipped; an unfinished one
is read again from the start of its report, and the lines up to its ``lines_stored`` (committed
with the last batch) are passed over, so each line is stored once; the statement is made from
the stored lines, never from what is in memory, and ``finish`` stores it and its events once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from domain.payouts.model import ReportRef, SetAsideLine, SettlementLine, SettlementSummary
from domain.payouts.ports import PayoutStore, SettlementReports
from domain.payouts.reconcile import Statement, reconcile

# Lines per transaction: large enough that a batch's fixed cost (one round trip, one commit) is
# small beside its rows, small enough that a kill loses little work.
BATCH_LINES = 5_000


@dataclass(slots=True)
class FetchReport:
    """What one fetch did, for the task's result and the log."""

    listed: int = 0
    open_balances: int = 0  # Finances' open groups: what is not paid out yet
    skipped: int = 0  # finished before
    lines: int = 0  # stored by this fetch
    finished: list[Statement] = field(default_factory=list)


def store_lines(
    store: PayoutStore,
    account_id: int,
    summary: SettlementSummary,
    rows: Iterator[SettlementSummary | SettlementLine | SetAsideLine],
    batch_lines: int = BATCH_LINES,
) -> int:
    """The report's lines after the summary stored in batches, each line once; how many were
    new. The lines up to the settlement's ``lines_stored`` (a resumed reading) are passed over.

    Each batch goes to ``save_lines`` as a lazy iterable of the next lines, not a list: the
    store writes each line as it is read, so the database stores a batch while the reader is
    still parsing it (a list read whole first, then written, left each side waiting on the
    other: 200,000 lines of ``bench/payouts`` took 2.5 s so, 1.6 s this way). A reading that
    fails half way through a batch fails its ``save_lines``, whose transaction keeps nothing of
    it. One thread: a writer thread was measured slower (51,800 lines/s against 57,700 then),
    both halves being Python holding the interpreter lock."""
    done = store.lines_stored(account_id, summary.settlement_id)
    pending = (
        row for row in rows if not isinstance(row, SettlementSummary) and row.line_no > done
    )  # a second summary is not a line; lines up to done are stored already
    stored = 0
    for first in pending:
        batch = itertools.chain((first,), itertools.islice(pending, max(batch_lines, 1) - 1))
        stored += store.save_lines(account_id, summary.settlement_id, batch)
    return stored


def fetch_report(
    account_id: int,
    report: ReportRef,
    reports: SettlementReports,
    store: PayoutStore,
    *,
    batch_lines: int = BATCH_LINES,
) -> tuple[Statement | None, int]:
    """One report: its lines stored, then its statement made and finished. None when the
    settlement was finished before (nothing is done twice; a report known finished is not even
    downloaded again)."""
    if store.report_done(account_id, report.report_id):
        return None, 0
    with reports.open_report(account_id, report) as rows:
        summary = next(rows, None)
        if not isinstance(summary, SettlementSummary):
            raise ValueError(f"report {report.report_id}: no settlement summary row")
        if store.settlement_done(account_id, summary.settlement_id):
            return None, 0
        store.begin(account_id, report, summary)
        stored = store_lines(store, account_id, summary, rows, batch_lines)
    statement = reconcile_stored(store, account_id, summary)
    store.finish(account_id, summary.settlement_id, statement)
    return statement, stored


def reconcile_stored(store: PayoutStore, account_id: int, summary: SettlementSummary) -> Statement:
    """The settlement's statement from its stored lines, streamed back: no sum kept per order,
    the lines that match nothing marked in batches, so memory stays flat whatever its size."""
    known = store.known(account_id, summary.settlement_id)
    with store.stored_lines(account_id, summary.settlement_id) as lines:
        return reconcile(
            summary,
            lines,
            known,
            per_order=False,
            mark_unmatched=lambda marks: store.mark_unmatched(
                account_id, summary.settlement_id, marks
            ),
        )


def fetch_settlements(
    account_id: int,
    reports: SettlementReports,
    store: PayoutStore,
    *,
    since: datetime,
    batch_lines: int = BATCH_LINES,
) -> FetchReport:
    """Every settlement report listed since ``since``, oldest first."""
    result = FetchReport()
    balances = reports.open_balances(account_id, since)
    store.replace_open_balances(account_id, balances)
    result.open_balances = len(balances)
    for report in reports.list_reports(account_id, since):
        result.listed += 1
        statement, stored = fetch_report(
            account_id, report, reports, store, batch_lines=batch_lines
        )
        result.lines += stored
        if statement is None:
            result.skipped += 1
        else:
            result.finished.append(statement)
    return result
