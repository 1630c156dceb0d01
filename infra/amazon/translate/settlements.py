"""Amazon's settlement flat file (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``) -> the domain's
``SettlementSummary``, ``SettlementLine`` and ``SetAsideLine``, row by row.

The file is tab-separated with a header. Columns are found by their header name, never by their
position: files have 23 or 24 columns (``promotion-id`` is there or not) and Amazon may add more.
The first data row is the settlement's summary (its id, period, deposit date, total and currency;
the transaction columns empty); each following row carries one amount. Rows are read with the
standard ``csv`` module from an iterator of text lines, one at a time, so a report of any size
is read in flat memory. The file quotes nothing: a quote is a character like any other
(``csv.QUOTE_NONE``).

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
import operator
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


@functools.lru_cache(maxsize=8192)
def parse_amount(text: str, currency: str, field: str = "amount") -> Money:
    """``1234.56``, ``-1234,56`` or ``1.234,56`` as ``Money`` (the last separator is the
    decimal one when both are there). Cached (``Money`` is immutable): a settlement repeats the
    same fees, taxes and prices line after line. An amount that cannot be read is not cached."""
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
    """The summary row by header name (an absent column, or an empty cell, reads as None)."""

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


# A line's columns, in the order ``_Lines`` hands them out.
_LINE_COLUMNS = (
    "settlement-id",
    "transaction-type",
    "amount-type",
    "amount-description",
    "amount",
    "currency",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "fulfillment-id",
    "posted-date-time",
    "posted-date",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)


def _empty(name: str) -> _RowError:
    return _RowError(f"{name}: required, but empty")


class _Lines:
    """One settlement's lines read by header name, with the columns' positions found once: each
    row's cells are picked by one ``itemgetter`` (in C) and stripped in one comprehension, and
    the checks are inline, since a report has hundreds of thousands of rows. An absent column,
    or a cell past a short row's end, reads as None."""

    def __init__(self, names: list[str], summary: SettlementSummary) -> None:
        at = {name: index for index, name in enumerate(names)}  # a repeated name: the last
        self.width = len(names)
        self.pick = operator.itemgetter(*(at.get(name, self.width) for name in _LINE_COLUMNS))
        self.settlement_id = summary.settlement_id
        self.currency = summary.currency

    def read(self, cells: list[str], line_no: int) -> SettlementLine:
        if len(cells) == self.width:
            cells.append("")  # the cell an absent column reads (the list is ours)
        elif len(cells) < self.width:
            cells += [""] * (self.width + 1 - len(cells))
        (
            settlement_id,
            transaction_type,
            amount_type,
            amount_description,
            amount,
            currency,
            order_id,
            merchant_order_id,
            adjustment_id,
            shipment_id,
            marketplace_name,
            fulfillment_id,
            posted_date_time,
            posted_date,
            order_item_code,
            merchant_order_item_id,
            merchant_adjustment_item_id,
            sku,
            quantity,
            promotion_id,
        ) = [cell.strip() or None for cell in self.pick(cells)]
        if settlement_id != self.settlement_id:
            if settlement_id is None:
                raise _empty("settlement-id")
            raise _RowError(
                f"settlement-id: {settlement_id!r}, but the file is settlement "
                f"{self.settlement_id!r}"
            )
        if transaction_type is None:
            raise _empty("transaction-type")
        if amount_type is None:
            raise _empty("amount-type")
        if amount_description is None:
            raise _empty("amount-description")
        if amount is None:
            raise _empty("amount")
        money = parse_amount(amount, self.currency if currency is None else currency.upper())
        posted = posted_date_time or posted_date
        if quantity is not None:
            try:
                count: int | None = int(quantity)
            except ValueError:
                raise _RowError(f"quantity-purchased: {quantity!r} is not a whole number") from None
        else:
            count = None
        return SettlementLine(
            settlement_id,
            line_no,
            transaction_type,
            amount_type,
            amount_description,
            money,
            order_id,
            merchant_order_id,
            adjustment_id,
            shipment_id,
            marketplace_name,
            fulfillment_id,
            None if posted is None else parse_time(posted, "posted-date-time"),
            order_item_code,
            merchant_order_item_id,
            merchant_adjustment_item_id,
            sku,
            count,
            promotion_id,
        )


def read_settlement(
    lines: Iterable[str],
) -> Iterator[SettlementSummary | SettlementLine | SetAsideLine]:
    """The summary, then every line or set-aside row, in the file's order. ``line_no`` is the
    row's number counting the header as 1 (so the summary is 2; blank lines are not counted):
    stable across readings, the key that lets a resumed reading skip what was stored."""
    rows = (
        cells
        for cells in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE, strict=False)
        if len(cells) > 1 or (cells and cells[0].strip())  # a blank line: a trailing newline, a gap
    )
    first = next(rows, None)
    if first is None:
        raise SettlementFileError("the file is empty: no header")
    columns = _header(first)
    second = next(rows, None)
    if second is None:
        raise SettlementFileError("the file has a header but no summary row")
    summary = _summary(_Row(columns, second))
    yield summary
    read = _Lines(columns, summary).read
    settlement_id = summary.settlement_id
    line_no = 2
    for cells in rows:
        line_no += 1
        width = len(cells)  # ``read`` may pad the list with cells
        # The row as it was is only needed for a row set aside: not joined for every row.
        if sum(map(len, cells)) + width - 1 > MAX_ROW_CHARS:
            raw = "\t".join(cells)
            yield SetAsideLine(settlement_id, line_no, "the row is too long", raw[:1000])
            continue
        try:
            yield read(cells, line_no)
        except _RowError as exc:
            yield SetAsideLine(settlement_id, line_no, str(exc), "\t".join(cells[:width]))
