"""The fetch's side of the payout store (``domain.payouts.PayoutStore``): the settlement row made
once, its lines saved batch by batch with the resume point moved in the same transaction, what
the store knows of the settlement's orders and refunds, the lines streamed back for
``reconcile``, and the statement stored with its events, once."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from domain.payouts import (
    Known,
    PayoutAvailable,
    PayoutFigures,
    PayoutUnreconciled,
    ReportRef,
    SetAsideLine,
    SettlementLine,
    SettlementSummary,
    Statement,
)
from domain.refunds.amounts import tidy
from domain.shared import Money
from infra.db.payouts.base import S, StoreBase, locked_row, settlement_row
from infra.db.payouts.lines import copy_lines, insert_set_aside

FINISHED = ("reconciled", "unreconciled")
# A batch's transaction: its commit does not wait for the disk, and its COPY may last as long
# as reading the batch does (see ``save_lines``).
BATCH_STATEMENT_TIMEOUT = "10min"
_BATCH_SETTINGS = text(
    "SELECT set_config('synchronous_commit', 'off', true),"
    f" set_config('statement_timeout', '{BATCH_STATEMENT_TIMEOUT}', true)"
)
STREAM_BATCH = 5000

_KNOWN_ORDERS = text(
    "SELECT DISTINCT l.order_id FROM settlement_lines l"
    " JOIN orders o ON o.account_id = :account_id AND o.amazon_order_id = l.order_id"
    " WHERE l.settlement_row_id = :row_id"
)
# Our adjustment feeds send a refund line's id as its MerchantAdjustmentItemID
# (``domain.refunds.send``): the ids among the settlement's lines that are our refunds' lines.
_OUR_ADJUSTMENTS = text(
    "SELECT DISTINCT l.merchant_adjustment_item_id FROM settlement_lines l"
    " JOIN refund_lines rl ON rl.id::text = l.merchant_adjustment_item_id"
    " JOIN refunds r ON r.id = rl.refund_id AND r.account_id = :account_id"
    " AND r.source = 'store'"
    " WHERE l.settlement_row_id = :row_id AND l.merchant_adjustment_item_id IS NOT NULL"
)
# Lines and rows set aside in file order, one stream (a merge of the two unique indexes).
_STORED = text(
    "SELECT line_no, false AS aside, transaction_type, amount_type, amount_description, amount,"
    " currency, order_id, merchant_order_id, adjustment_id, shipment_id, marketplace_name,"
    " fulfillment_id, posted_at, order_item_code, merchant_order_item_id,"
    " merchant_adjustment_item_id, sku, quantity, promotion_id, NULL AS reason, NULL AS raw"
    " FROM settlement_lines WHERE settlement_row_id = :row_id"
    " UNION ALL"
    " SELECT line_no, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL, reason, raw"
    " FROM settlement_lines_set_aside WHERE settlement_row_id = :row_id"
    " ORDER BY line_no"
)
_MARK_UNMATCHED = text(
    "UPDATE settlement_lines l SET unmatched = u.why"
    " FROM unnest(CAST(:line_nos AS integer[]), CAST(:whys AS text[])) AS u(line_no, why)"
    " WHERE l.settlement_row_id = :row_id AND l.line_no = u.line_no"
)


def _mark(conn: Connection, row_id: int, marks: Sequence[tuple[int, str]]) -> None:
    if marks:
        line_nos, whys = zip(*marks, strict=True)
        conn.execute(
            _MARK_UNMATCHED, {"row_id": row_id, "line_nos": list(line_nos), "whys": list(whys)}
        )


def _line_of(settlement_id: str, row: Any) -> SettlementLine | SetAsideLine:
    """A stored row as the reader made it (amounts back to the currency's decimals: stored
    amounts keep four places)."""
    if row.aside:
        return SetAsideLine(settlement_id, row.line_no, row.reason, row.raw)
    return SettlementLine(
        settlement_id=settlement_id,
        line_no=row.line_no,
        transaction_type=row.transaction_type,
        amount_type=row.amount_type,
        amount_description=row.amount_description,
        amount=Money(tidy(row.amount, row.currency), row.currency),
        order_id=row.order_id,
        merchant_order_id=row.merchant_order_id,
        adjustment_id=row.adjustment_id,
        shipment_id=row.shipment_id,
        marketplace_name=row.marketplace_name,
        fulfillment_id=row.fulfillment_id,
        posted_at=row.posted_at,
        order_item_code=row.order_item_code,
        merchant_order_item_id=row.merchant_order_item_id,
        merchant_adjustment_item_id=row.merchant_adjustment_item_id,
        sku=row.sku,
        quantity=row.quantity,
        promotion_id=row.promotion_id,
    )


class WritesMixin(StoreBase):
    def settlement_done(self, account_id: int, settlement_id: str) -> bool:
        with self.engine.connect() as conn:
            state = conn.execute(
                select(S.c.state).where(
                    S.c.account_id == account_id, S.c.settlement_id == settlement_id
                )
            ).scalar_one_or_none()
        return state in FINISHED

    def report_done(self, account_id: int, report_id: str) -> bool:
        with self.engine.connect() as conn:
            state = conn.execute(
                select(S.c.state).where(S.c.account_id == account_id, S.c.report_id == report_id)
            ).scalar()
        return state in FINISHED

    def begin(self, account_id: int, report: ReportRef, summary: SettlementSummary) -> int:
        statement = (
            insert(S)
            .values(
                account_id=account_id,
                settlement_id=summary.settlement_id,
                report_id=report.report_id,
                document_id=report.document_id,
                period_start=summary.start,
                period_end=summary.end,
                deposit_date=summary.deposit_date,
                currency=summary.currency,
                total=summary.total.amount,
            )
            .on_conflict_do_nothing(index_elements=[S.c.account_id, S.c.settlement_id])
            .returning(S.c.id)
        )
        with self.engine.begin() as conn:
            made = conn.execute(statement).scalar_one_or_none()
            if made is not None:
                return int(made)
            return settlement_row(conn, account_id, summary.settlement_id, lock=False)

    def lines_stored(self, account_id: int, settlement_id: str) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(S.c.lines_stored).where(
                    S.c.account_id == account_id, S.c.settlement_id == settlement_id
                )
            ).scalar_one_or_none()
        return int(found or 0)

    def save_lines(
        self,
        account_id: int,
        settlement_id: str,
        lines: Iterable[SettlementLine | SetAsideLine],
    ) -> int:
        with self.engine.begin() as conn:
            # A batch is re-read from Amazon's file if lost: its commit need not wait for the
            # disk (a server crash loses the last batches and their resume point together,
            # never one without the other), which is most of a batch's time on a busy disk.
            # Its lines are copied as they are read, so the COPY lasts as long as downloading
            # them from Amazon does: its statement may take 10 minutes, not the connection's
            # 60 s (a slow download is not an error; a stalled one is, after the HTTP client's
            # read timeout). The lock it holds is the settlement row's, which only another
            # fetch of the same settlement waits for.
            conn.execute(_BATCH_SETTINGS)
            row_id, stored = locked_row(conn, account_id, settlement_id, lock=True)
            copied = copy_lines(conn, row_id, stored, settlement_id, lines)
            new = copied.new + insert_set_aside(conn, row_id, copied.aside)
            if copied.top:
                conn.execute(
                    update(S)
                    .where(S.c.id == row_id)
                    .values(
                        lines_stored=func.greatest(S.c.lines_stored, copied.top),
                        marketplace_name=func.coalesce(S.c.marketplace_name, copied.marketplace),
                        updated_at=func.now(),
                    )
                )
        return new

    def known(self, account_id: int, settlement_id: str) -> Known:
        params = {"account_id": account_id}
        with self.engine.connect() as conn:
            params["row_id"] = settlement_row(conn, account_id, settlement_id, lock=False)
            orders = conn.execute(_KNOWN_ORDERS, params).scalars()
            ours = conn.execute(_OUR_ADJUSTMENTS, params).scalars()
            return Known(frozenset(orders), frozenset(ours))

    @contextmanager
    def stored_lines(
        self, account_id: int, settlement_id: str
    ) -> Iterator[Iterator[SettlementLine | SetAsideLine]]:
        with self.engine.connect() as conn:
            row_id = settlement_row(conn, account_id, settlement_id, lock=False)
            result = conn.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(
                _STORED, {"row_id": row_id}
            )
            try:
                yield (_line_of(settlement_id, row) for row in result)
            finally:
                result.close()

    def mark_unmatched(
        self, account_id: int, settlement_id: str, marks: Sequence[tuple[int, str]]
    ) -> None:
        with self.engine.begin() as conn:
            _mark(conn, settlement_row(conn, account_id, settlement_id, lock=False), marks)

    def finish(self, account_id: int, settlement_id: str, statement: Statement) -> bool:
        if statement.summary.settlement_id != settlement_id:
            raise ValueError(
                f"the statement is of settlement {statement.summary.settlement_id!r}, "
                f"not {settlement_id!r}"
            )
        with self.engine.begin() as conn:
            row_id = settlement_row(conn, account_id, settlement_id, lock=True)
            if not self._store_statement(conn, row_id, statement):
                return False
            _mark(conn, row_id, statement.unmatched)
            figures = PayoutFigures.of(statement)
            events: list[PayoutAvailable | PayoutUnreconciled] = [
                PayoutAvailable(account_id, settlement_id, statement.reconciled, figures=figures)
            ]
            if not statement.reconciled:
                events.append(
                    PayoutUnreconciled(
                        account_id, settlement_id, tuple(statement.problems()), figures=figures
                    )
                )
            self._append(conn, events)
        return True

    def _store_statement(self, conn: Connection, row_id: int, statement: Statement) -> bool:
        """The totals on the settlement's row, unless it was finished before."""
        totals = statement.totals
        done = conn.execute(
            update(S)
            .where(S.c.id == row_id, S.c.state.not_in(FINISHED))
            .values(
                state="reconciled" if statement.reconciled else "unreconciled",
                sales=totals.sales.amount,
                refunds=totals.refunds.amount,
                fees=totals.fees.amount,
                other=totals.other.amount,
                lines_total=statement.lines_total.amount,
                difference=statement.difference.amount,
                line_count=statement.lines,
                set_aside=statement.set_aside,
                unmatched=statement.unmatched_count,
                matched={match.value: n for match, n in statement.matched.items()},
                problems=statement.problems(),
                reconciled_at=func.now(),
                updated_at=func.now(),
            )
            .returning(S.c.id)
        )
        return done.scalar_one_or_none() is not None
