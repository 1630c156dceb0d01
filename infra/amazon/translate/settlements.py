"""Amazon's settlement flat file (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``) -> the domain's
``SettlementSummary``, ``SettlementLine`` and ``SetAsideLine``, row by row.

The file is tab-separated with a header. Columns are found by their header name, never by their
position: files have 23 or 24 columns (``promotion-id`` is there or not) and Amazon may add more.
The first data row is the settlement's summary (its id, period, deposit date, total and currency;
the transaction columns empty); each following row carries one amount. Rows are read with the
standard ``csv`` module from an iterator of text lines, one at a time, so a report of any size
is read in flat memory.

A row that cannot be read (a number that is no number, a date that is no date, a row of another
settlement, too few columns) is yielded as a ``SetAsideLine`` with the reason and the row as it
was: the rest of the report is still read. Only a header or a summary that cannot be read stops
the reading (``SettlementFileError``), since nothing after it could be trusted.

Amazon writes dates as ``2026-11-01 07:00:00 UTC`` or ``2026-11-01T07:00:00+00:00``, and in
some marketplaces as ``01.11.2026 07:00:00 UTC``; amounts as ``1234.56`` or, in some
marketplaces, ``1234,56`` / ``1.234,56``. All of these are read.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from domain.payouts import SetAsideLine, SettlementLine, SettlementSummary
from domain.shared import Money, MoneyError

REQUIRED = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "amount-type",
    "amount-description",
    "amount",
)
# A row longer than this is set aside unread: no settlement row comes near it.
MAX_ROW_CHARS = 10_000

_DOTTED_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(.*)$")


class SettlementFileError(ValueError):
    """The header or the summary row cannot be read: the message says which and why."""


class _RowError(ValueError):
    """One row's field that cannot be read (the row is set aside with this reason)."""


@functools.lru_cache(maxsize=4096)
def parse_time(text: str, field: str) -> datetime:
    """A settlement file's date or time as aware UTC (a time without a zone is UTC there).
    Cached: the lines of one order or transaction share their posted time."""
    value = text.strip()
    dotted = _DOTTED_DATE.match(value)
    if dotted:
        day, month, year, rest = dotted.groups()
        value = f"{year}-{month}-{day}{rest}"
    if value.endswith(" UTC"):
        value = value[: -len(" UTC")]
    value = value.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _RowError(f"{field}: {text!r} is not a date or time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_amount(text: str, currency: str, field: str) -> Money:
    """``1234.56``, ``-1234,56`` or ``1.234,56`` as ``Money`` (the last separator is the
    decimal one when both are there)."""
    value = text.strip().replace(" ", "")
    if "," in value:
        if "." in value and value.rfind(",") < value.rfind("."):
            value = value.replace(",", "")  # 1,234.56
        else:
            value = value.replace(".", "").replace(",", ".")  # 1.234,56 or 12,34
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _RowError(f"{field}: {text!r} is not an amount") from None
    if not amount.is_finite():
        raise _RowError(f"{field}: {text!r} is not an amount")
    try:
        return Money(amount, currency)
    except MoneyError as exc:
        raise _RowError(f"{field}: {exc}") from None


class _Row:
    """One row by header name (an absent column, or an empty cell, reads as None). The cells
    are stripped and named at once (``zip`` and ``map`` run in C: a report has many rows)."""

    __slots__ = ("values",)

    def __init__(self, names: list[str], cells: list[str]) -> None:
        self.values = dict(zip(names, map(str.strip, cells), strict=False))

    def get(self, name: str) -> str | None:
        return self.values.get(name) or None

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise _RowError(f"{name}: required, but empty")
        return value


def _header(cells: list[str]) -> list[str]:
    """The columns' names in their order (checked to hold every required one)."""
    columns = [name.strip().lower().lstrip("\ufeff") for name in cells]
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise SettlementFileError(
            f"the header lacks {', '.join(missing)}: not a V2 settlement flat file"
        )
    return columns


def _summary(row: _Row) -> SettlementSummary:
    try:
        currency = row.required("currency").upper()
        deposit = row.get("deposit-date")
        return SettlementSummary(
            settlement_id=row.required("settlement-id"),
            start=parse_time(row.required("settlement-start-date"), "settlement-start-date"),
            end=parse_time(row.required("settlement-end-date"), "settlement-end-date"),
            deposit_date=parse_time(deposit, "deposit-date") if deposit else None,
            total=parse_amount(row.required("total-amount"), currency, "total-amount"),
        )
    except _RowError as exc:
        raise SettlementFileError(f"the summary row (line 2): {exc}") from None


def _quantity(row: _Row) -> int | None:
    text = row.get("quantity-purchased")
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise _RowError(f"quantity-purchased: {text!r} is not a whole number") from None


def _posted(row: _Row) -> datetime | None:
    text = row.get("posted-date-time") or row.get("posted-date")
    return parse_time(text, "posted-date-time") if text else None


def _line(row: _Row, summary: SettlementSummary, line_no: int) -> SettlementLine:
    settlement_id = row.required("settlement-id")
    if settlement_id != summary.settlement_id:
        raise _RowError(
            f"settlement-id: {settlement_id!r}, but the file is settlement "
            f"{summary.settlement_id!r}"
        )
    currency = (row.get("currency") or summary.currency).upper()
    return SettlementLine(
        settlement_id=settlement_id,
        line_no=line_no,
        transaction_type=row.required("transaction-type"),
        amount_type=row.required("amount-type"),
        amount_description=row.required("amount-description"),
        amount=parse_amount(row.required("amount"), currency, "amount"),
        order_id=row.get("order-id"),
        merchant_order_id=row.get("merchant-order-id"),
        adjustment_id=row.get("adjustment-id"),
        shipment_id=row.get("shipment-id"),
        marketplace_name=row.get("marketplace-name"),
        fulfillment_id=row.get("fulfillment-id"),
        posted_at=_posted(row),
        order_item_code=row.get("order-item-code"),
        merchant_order_item_id=row.get("merchant-order-item-id"),
        merchant_adjustment_item_id=row.get("merchant-adjustment-item-id"),
        sku=row.get("sku"),
        quantity=_quantity(row),
        promotion_id=row.get("promotion-id"),
    )


def read_settlement(
    lines: Iterable[str],
) -> Iterator[SettlementSummary | SettlementLine | SetAsideLine]:
    """The summary, then every line or set-aside row, in the file's order. ``line_no`` is the
    row's number counting the header as 1 (so the summary is 2): stable across readings, the
    key that lets a resumed reading skip what was stored."""
    reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE, strict=False)
    columns: list[str] | None = None
    summary: SettlementSummary | None = None
    line_no = 0
    for cells in reader:
        if not "".join(cells).strip():
            continue  # a blank line (a trailing newline, a gap)
        line_no += 1
        if columns is None:
            columns = _header(cells)
            continue
        row = _Row(columns, cells)
        if summary is None:
            summary = _summary(row)
            yield summary
            continue
        raw = "\t".join(cells)
        if len(raw) > MAX_ROW_CHARS:
            yield SetAsideLine(summary.settlement_id, line_no, "the row is too long", raw[:1000])
            continue
        try:
            yield _line(row, summary, line_no)
        except _RowError as exc:
            yield SetAsideLine(summary.settlement_id, line_no, str(exc), raw)
    if columns is None:
        raise SettlementFileError("the file is empty: no header")
    if summary is None:
        raise SettlementFileError("the file has a header but no summary row")
