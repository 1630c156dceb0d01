"""Settlement reports made from the sandbox's own financial events: ``settle`` makes the
report of every closed group that has none yet, ``close_now`` closes a seller's open group early
and settles it. The Reports API (``operations.reports``) and the control API
(``control.reports``) are their callers; callers hold ``state.lock``.

A report is made once per group (seller and currency): a seller selling in the US and Germany
gets a USD and a EUR settlement for the same period. Its ``createdTime`` is the moment its group
closed (``dataStartTime``/``dataEndTime``: the group's period), however late the sandbox noticed,
so a report does not seem newer because the sandbox was stopped when its period ended.
"""

from __future__ import annotations

import gzip
from datetime import timedelta

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.reports import orders as order_report
from infra.amazon.sandbox.reports.settlement import settlement_rows, write
from infra.amazon.sandbox.state import EventGroup, SandboxState, period_start
from infra.amazon.sandbox.state.reports import SandboxReport

SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
# Settlement report types Amazon makes on its own and refuses to have requested, with the
# number its createReport refusal names them by ("Request for report type 1118 ...").
UNREQUESTABLE = {
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2": 1118,
    "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE": 1117,
    "GET_V2_SETTLEMENT_REPORT_DATA_XML": 1116,
}


def new_report_document_id(state: SandboxState) -> str:
    """An id shaped like Amazon's report document ids (``amzn1.spdoc.1.4.na.<uuid>...``)."""
    raw = f"{state.rng.getrandbits(128):032x}"
    uid = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
    return f"amzn1.spdoc.1.4.na.{uid}.T{state.rng.randrange(10**12, 10**13)}.1"


def _make_report(state: SandboxState, group: EventGroup) -> SandboxReport:
    book = state.reports
    settlement_id = book.new_settlement_id()
    malformed = book.malformed_next.pop(group.seller_id, [])
    rows = settlement_rows(settlement_id, group, state.orders, malformed)
    content, count = write(rows, book.promotion_id)
    report = SandboxReport(
        report_id=book.new_report_id(),
        report_type=SETTLEMENT_REPORT_TYPE,
        seller_id=group.seller_id,
        marketplace_ids=tuple(sorted({e.marketplace_id for e in group.events})),
        data_start=group.start,
        data_end=group.end,
        created_at=group.end,
        processing_status="DONE",
        document_id=new_report_document_id(state),
        content=gzip.compress(content, mtime=0) if book.gzip else content,
        compression="GZIP" if book.gzip else None,
        settlement_id=settlement_id,
        currency=group.currency,
        group_id=group.group_id,
        total=group.total,
        rows=count,
    )
    book.reports[report.report_id] = report
    state.notifier.report_finished(report)  # REPORT_PROCESSING_FINISHED to its subscribers
    return report


def settle(state: SandboxState) -> list[SandboxReport]:
    """The reports of every closed group with events that has none yet (oldest first).

    Cheap when nothing changed: a group can only close when an event or an early close was
    added or a new period began (``ReportBook.looked_at``); the Reports API calls this on
    every request, with many sellers and events."""
    looked_at = (
        len(state.finances.events),
        len(state.finances.closes),
        period_start(state.now()).isoformat(),
    )
    if state.reports.looked_at == looked_at:
        return []
    state.reports.looked_at = looked_at
    settled = state.reports.settled_groups()
    closed = [
        group
        for seller_id in sorted(state.sellers)
        for group in state.event_groups(seller_id)
        if not group.open and group.events and group.group_id not in settled
    ]
    made = [_make_report(state, g) for g in sorted(closed, key=lambda g: (g.end, g.group_id))]
    if made:
        state.mark_changed()
    return made


def close_now(state: SandboxState, seller_id: str, currency: str | None) -> list[SandboxReport]:
    """Close the seller's open group (in ``currency``, or in every currency it has events in)
    now, and make the reports of every group that closed; 409 when there is nothing to close."""
    state.seller(seller_id)  # 404 for an unknown seller
    settle(state)  # groups closed on their schedule first: their reports come before
    currencies = (
        [currency.upper()]
        if currency
        else sorted({g.currency for g in state.event_groups(seller_id) if g.open and g.events})
    )
    closed = [c for c in currencies if state.finances.close(seller_id, c, state.now()) is not None]
    if not closed:
        which = f"in {currency.upper()} " if currency else ""
        raise SandboxError(
            f"seller {seller_id} has no open group {which}with events to close", status=409
        )
    state.mark_changed()
    return [r for r in settle(state) if r.seller_id == seller_id]


def process(state: SandboxState, report: SandboxReport) -> SandboxReport:
    """A requested order report moved on by the sandbox clock: ``IN_QUEUE`` for
    ``QUEUED_S``, ``IN_PROGRESS`` for ``PROCESSING_S``, then ``DONE`` with its document, drawn
    from the orders as they stand at that moment (or ``CANCELLED``: no order to report, as
    Amazon cancels a report with no data). A finished report never changes again."""
    if report.report_type != order_report.ORDERS_REPORT_TYPE or report.processing_status in (
        "DONE",
        "CANCELLED",
        "FATAL",
    ):
        return report
    # A sandbox sped up (``rate_factor`` above 1, as benchmarks and tests run it) makes its
    # reports as much faster as it refills its buckets.
    pace = max(state.rate_factor, 1.0)
    elapsed = (state.now() - report.created_at) * pace
    if elapsed < timedelta(seconds=order_report.QUEUED_S):
        return report
    if elapsed < timedelta(seconds=order_report.QUEUED_S + order_report.PROCESSING_S):
        report.processing_status = "IN_PROGRESS"
        return report
    found = order_report.report_orders(
        list(state.orders.values()),
        report.seller_id,
        report.marketplace_ids,
        report.data_start,
        report.data_end,
    )
    if not found:
        report.processing_status = "CANCELLED"
    else:
        content, count = order_report.write(found)
        gzipped = state.reports.gzip
        report.content = gzip.compress(content, mtime=0) if gzipped else content
        report.compression = "GZIP" if gzipped else None
        report.rows = count
        report.document_id = new_report_document_id(state)
        report.processing_status = "DONE"
    state.mark_changed()
    return report


def process_all(state: SandboxState, seller_id: str) -> None:
    """Every requested order report of the seller moved on (before a listing)."""
    for report in state.reports.of_seller(seller_id):
        process(state, report)
