"""What the CLI's ``payouts export`` and the API's CSV of a payout share: a settlement's line as
one CSV row, the same columns either way."""

from __future__ import annotations

from domain.payouts import SetAsideLine, SettlementLine, classify

LINE_COLUMNS = (
    "line_no", "kind", "transaction_type", "amount_type", "amount_description", "amount",
    "currency", "order_id", "order_item_code", "sku", "quantity", "merchant_adjustment_item_id",
    "posted_at", "fulfillment_id", "set_aside_reason",
)  # fmt: skip


def line_row(row: SettlementLine | SetAsideLine) -> list[object]:
    """The row of ``LINE_COLUMNS`` for a stored line (a row set aside: its reason, the rest
    empty)."""
    if isinstance(row, SetAsideLine):
        return [row.line_no, "set_aside", *[""] * (len(LINE_COLUMNS) - 3), row.reason]
    return [
        row.line_no, classify(row).value, row.transaction_type, row.amount_type,
        row.amount_description, row.amount.amount, row.amount.currency, row.order_id or "",
        row.order_item_code or "", row.sku or "", "" if row.quantity is None else row.quantity,
        row.merchant_adjustment_item_id or "", row.posted_at.isoformat() if row.posted_at else "",
        row.fulfillment_id or "", "",
    ]  # fmt: skip
