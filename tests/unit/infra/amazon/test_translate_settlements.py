"""The settlement flat file read by header name, row by row: with and without ``promotion-id``,
columns in any order, EU number and date formats; unreadable rows set aside with their reason
and raw text while the rest is read; a header or summary that cannot be read stops it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.payouts import SetAsideLine, SettlementLine, SettlementSummary
from domain.shared import Money
from infra.amazon.translate.settlements import SettlementFileError, read_settlement

COLUMNS_23 = [
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date",
    "total-amount", "currency", "transaction-type", "order-id", "merchant-order-id",
    "adjustment-id", "shipment-id", "marketplace-name", "amount-type", "amount-description",
    "amount", "fulfillment-id", "posted-date", "posted-date-time", "order-item-code",
    "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
]  # fmt: skip
COLUMNS_24 = [*COLUMNS_23, "promotion-id"]


def _file(columns: list[str], rows: list[dict[str, str]]) -> list[str]:
    lines = ["\t".join(columns) + "\n"]
    lines += ["\t".join(row.get(c, "") for c in columns) + "\n" for row in rows]
    return lines


SUMMARY = {
    "settlement-id": "11778899001",
    "settlement-start-date": "2026-11-01 07:00:00 UTC",
    "settlement-end-date": "2026-11-15 07:00:00 UTC",
    "deposit-date": "2026-11-17 07:00:00 UTC",
    "total-amount": "18.59",
    "currency": "USD",
}


def _sale(description: str, amount: str, **more: str) -> dict[str, str]:
    return {
        "settlement-id": "11778899001",
        "transaction-type": "Order",
        "order-id": "111-0000001-0000001",
        "marketplace-name": "Amazon.com",
        "amount-type": "ItemFees" if description == "Commission" else "ItemPrice",
        "amount-description": description,
        "amount": amount,
        "fulfillment-id": "MFN",
        "posted-date": "2026-11-03",
        "posted-date-time": "2026-11-03 12:34:56 UTC",
        "order-item-code": "12345678901234",
        "sku": "MUG-RED",
        "quantity-purchased": "1",
        **more,
    }


@pytest.mark.parametrize("columns", [COLUMNS_23, COLUMNS_24], ids=["23", "24"])
def test_a_file_with_or_without_promotion_id_is_read_by_header(columns: list[str]) -> None:
    rows = [SUMMARY, _sale("Principal", "19.99"), _sale("Tax", "1.60")]
    rows.append(_sale("Commission", "-3.00", **{"promotion-id": "PROMO-1"}))

    summary, *lines = read_settlement(iter(_file(columns, rows)))

    assert summary == SettlementSummary(
        "11778899001",
        datetime(2026, 11, 1, 7, tzinfo=UTC),
        datetime(2026, 11, 15, 7, tzinfo=UTC),
        datetime(2026, 11, 17, 7, tzinfo=UTC),
        Money(Decimal("18.59"), "USD"),
    )
    assert [type(line) for line in lines] == [SettlementLine] * 3
    first = lines[0]
    assert isinstance(first, SettlementLine)
    assert (first.line_no, first.amount, first.order_item_code, first.quantity) == (
        3,
        Money(Decimal("19.99"), "USD"),
        "12345678901234",
        1,
    )
    assert first.posted_at == datetime(2026, 11, 3, 12, 34, 56, tzinfo=UTC)
    last = lines[-1]
    assert isinstance(last, SettlementLine)
    assert last.promotion_id == ("PROMO-1" if "promotion-id" in columns else None)


def test_columns_in_another_order_and_a_column_amazon_added_are_fine() -> None:
    columns = ["extra-column", *reversed(COLUMNS_24)]
    summary, line = read_settlement(_file(columns, [SUMMARY, _sale("Principal", "19.99")]))

    assert isinstance(summary, SettlementSummary)
    assert isinstance(line, SettlementLine)
    assert line.amount == Money(Decimal("19.99"), "USD")


def test_eu_numbers_and_dates_are_read() -> None:
    summary_row = {
        **SUMMARY,
        "settlement-start-date": "01.11.2026 07:00:00 UTC",
        "settlement-end-date": "15.11.2026 07:00:00 UTC",
        "deposit-date": "17.11.2026 07:00:00 UTC",
        "total-amount": "1.234,56",
        "currency": "EUR",
    }
    rows = [
        summary_row,
        _sale("Principal", "1234,56", **{"posted-date-time": "", "posted-date": "03.11.2026"}),
    ]

    summary, line = read_settlement(_file(COLUMNS_24, rows))

    assert isinstance(summary, SettlementSummary) and isinstance(line, SettlementLine)
    assert summary.total == Money(Decimal("1234.56"), "EUR")
    assert summary.start == datetime(2026, 11, 1, 7, tzinfo=UTC)
    assert line.amount == Money(Decimal("1234.56"), "EUR")
    assert line.posted_at == datetime(2026, 11, 3, tzinfo=UTC)


def test_unreadable_rows_are_set_aside_with_why_and_the_rest_is_read() -> None:
    rows = [
        SUMMARY,
        _sale("Principal", "abc"),
        _sale("Tax", "1.60", **{"posted-date-time": "yesterday"}),
        _sale("Principal", "5.00", **{"quantity-purchased": "one"}),
        _sale("Principal", "5.00", **{"settlement-id": "999"}),
        _sale("Principal", "5.00", **{"amount-type": ""}),
        _sale("Principal", "2.00"),
    ]
    _, *lines = read_settlement(_file(COLUMNS_24, rows))

    aside = [line for line in lines if isinstance(line, SetAsideLine)]
    kept = [line for line in lines if isinstance(line, SettlementLine)]
    assert [(a.line_no, a.reason) for a in aside] == [
        (3, "amount: 'abc' is not an amount"),
        (4, "posted-date-time: 'yesterday' is not a date or time"),
        (5, "quantity-purchased: 'one' is not a whole number"),
        (6, "settlement-id: '999', but the file is settlement '11778899001'"),
        (7, "amount-type: required, but empty"),
    ]
    assert "abc" in aside[0].raw and aside[0].raw.startswith("11778899001\t")
    assert [k.line_no for k in kept] == [8]


def test_a_header_or_summary_that_cannot_be_read_stops_the_reading() -> None:
    with pytest.raises(
        SettlementFileError, match=r"the header lacks settlement-start-date, .*, amount: not a V2"
    ):
        list(read_settlement(["settlement-id\tcurrency\n", "1\tUSD\n"]))
    with pytest.raises(SettlementFileError, match=r"the summary row \(line 2\): total-amount"):
        list(read_settlement(_file(COLUMNS_24, [{**SUMMARY, "total-amount": "lots"}])))
    with pytest.raises(SettlementFileError, match="empty"):
        list(read_settlement([]))
    with pytest.raises(SettlementFileError, match="no summary row"):
        list(read_settlement(_file(COLUMNS_24, [])))


def test_rows_come_one_at_a_time_from_an_iterator() -> None:
    """The reader pulls a line only when the next row is asked for: a report of any size is
    never held whole."""
    pulled = 0

    def lines() -> Iterator[str]:
        nonlocal pulled
        for line in _file(COLUMNS_24, [SUMMARY]):
            pulled += 1
            yield line
        for n in range(1_000_000):
            pulled += 1
            yield "\t".join(_sale("Principal", f"{n}.00").get(c, "") for c in COLUMNS_24) + "\n"

    rows = read_settlement(lines())
    for _ in range(11):
        next(rows)
    assert pulled < 20


def test_line_ends_blank_lines_quotes_and_long_or_short_rows() -> None:
    """A row is its line split at the tabs, whatever the line end (or none, at the file's end);
    a quote is a character like any other; a blank line is no row (and not counted); a row too
    long, or one short of the amount's column, is set aside with its text."""
    quoted = _sale("Principal", "3.00", **{"sku": '"MUG" 12"'})
    header, summary_row, one, two = _file(COLUMNS_24, [SUMMARY, _sale("Principal", "1.00"), quoted])
    long_row = "\t".join(
        _sale("Principal", "2.00", sku="X" * 10_001).get(c, "") for c in COLUMNS_24
    )
    short_row = "\t".join(_sale("Principal", "2.00").get(c, "") for c in COLUMNS_24[:14])
    lines = [header, summary_row.replace("\n", "\r\n"), "\n", one.replace("\n", "\r\n"), "  \n"]
    lines += [long_row + "\n", short_row + "\r\n", "\n", two.rstrip("\n")]

    summary, first, too_long, short, last = read_settlement(lines)

    assert isinstance(summary, SettlementSummary) and summary.settlement_id == "11778899001"
    assert isinstance(first, SettlementLine) and isinstance(last, SettlementLine)
    assert (first.line_no, first.amount.amount, first.quantity) == (3, Decimal("1.00"), 1)
    assert (last.line_no, last.sku, last.promotion_id) == (6, '"MUG" 12"', None)
    assert isinstance(too_long, SetAsideLine) and isinstance(short, SetAsideLine)
    assert (too_long.line_no, too_long.reason) == (4, "the row is too long")
    assert too_long.raw == long_row[:1000]
    assert (short.line_no, short.reason, short.raw) == (5, "amount: required, but empty", short_row)
