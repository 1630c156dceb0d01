"""The payout store on PostgreSQL, fed by the real flat-file reader: a batch saved twice stored
once, a fetch stopped after a committed batch (and one that failed mid-batch) resumed from
``lines_stored`` storing each line once, rows set aside kept with why and as they were, what the
store knows of the settlement's orders and our refunds, the statement finished twice telling the
platform once, and one account's USD, SEK and EUR settlements each in its own currency."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from domain.payouts import (
    ReportRef,
    SetAsideLine,
    SettlementLine,
    SettlementSummary,
    reconcile,
)
from domain.payouts.fetch import store_lines
from domain.shared import Money
from infra.amazon.translate.settlements import read_settlement
from infra.db.engine import make_engine
from infra.db.payouts import SqlPayoutStore
from infra.platform import payloads
from tests.integration.infra.db.seed import amazon_order, seed_account, seed_order

pytestmark = pytest.mark.integration

HEADER = (
    "settlement-id\tsettlement-start-date\tsettlement-end-date\tdeposit-date\ttotal-amount\t"
    "currency\ttransaction-type\torder-id\tmerchant-order-id\tadjustment-id\tshipment-id\t"
    "marketplace-name\tamount-type\tamount-description\tamount\tfulfillment-id\t"
    "posted-date\tposted-date-time\torder-item-code\tmerchant-order-item-id\t"
    "merchant-adjustment-item-id\tsku\tquantity-purchased"
)
ORDER_A = amazon_order(1).amazon_order_id  # in the store
ORDER_X = "113-9999999-9999999"  # not in the store


def _row(
    settlement: str,
    kind: str,
    order: str,
    amount_type: str,
    what: str,
    amount: str,
    adjustment: str = "",
    currency: str = "",
) -> str:
    cells = [settlement, "", "", "", "", currency, kind, order, "", "", "", "Amazon.com"]
    cells += [amount_type, what, amount, "MFN", "", "2026-11-05 10:00:00 UTC", "ITEM-1", ""]
    cells += [adjustment, "MUG-RED", "1"]
    return "\t".join(cells)


def settlement_file(
    settlement: str, currency: str, orders: int, *, extra: tuple[str, ...] = ()
) -> list[str]:
    """A settlement of ``orders`` sales of ``ORDER_A`` (10.00, commission -1.50) and a service
    fee of -2.00; its deposit what the lines add up to (extra rows not counted)."""
    rows = []
    for _ in range(orders):
        rows.append(_row(settlement, "Order", ORDER_A, "ItemPrice", "Principal", "10.00"))
        rows.append(_row(settlement, "Order", ORDER_A, "ItemFees", "Commission", "-1.50"))
    rows.append(_row(settlement, "ServiceFee", "", "other-transaction", "Subscription", "-2.00"))
    total = Decimal("8.50") * orders - 2
    period = ["2026-11-01 00:00:00 UTC", "2026-11-15 00:00:00 UTC", "2026-11-17 00:00:00 UTC"]
    summary = "\t".join([settlement, *period, f"{total:f}", currency] + [""] * 17)
    return [HEADER + "\n", summary + "\n", *(r + "\n" for r in rows), *(e + "\n" for e in extra)]


REPORT = ReportRef("R-1", "DOC-1", datetime(2026, 11, 16, tzinfo=UTC), None, None)


def read(lines: list[str]) -> tuple[SettlementSummary, list[SettlementLine | SetAsideLine]]:
    rows = read_settlement(lines)
    summary = next(rows)
    assert isinstance(summary, SettlementSummary)
    rest = [row for row in rows if not isinstance(row, SettlementSummary)]
    return summary, rest


@pytest.fixture
def store(clean_db: Engine) -> SqlPayoutStore:
    return SqlPayoutStore(clean_db, payloads.encode)


@pytest.fixture
def account(clean_db: Engine, session_factory: sessionmaker[Session]) -> int:
    account_id = seed_account(session_factory)
    seed_order(clean_db, session_factory, account_id, amazon_order(1))
    return account_id


def count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def line_nos(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT line_no FROM settlement_lines")).scalars())


def test_a_batch_saved_twice_is_stored_once(store: SqlPayoutStore, account: int) -> None:
    summary, lines = read(settlement_file("S-1", "USD", 10))
    row_id = store.begin(account, REPORT, summary)
    assert store.begin(account, REPORT, summary) == row_id

    assert store.save_lines(account, "S-1", lines) == 21
    assert store.save_lines(account, "S-1", lines) == 0

    assert sorted(line_nos(store.engine)) == list(range(3, 24))
    assert store.lines_stored(account, "S-1") == 23
    assert not store.settlement_done(account, "S-1")


def test_a_line_twice_in_one_batch_is_stored_once(store: SqlPayoutStore, account: int) -> None:
    summary, lines = read(settlement_file("S-1", "USD", 10))
    store.begin(account, REPORT, summary)
    assert store.save_lines(account, "S-1", lines[:6] + lines[:6]) == 6  # all past the resume
    assert store.save_lines(account, "S-1", lines[3:12] + lines[3:12]) == 6  # some before it
    assert sorted(line_nos(store.engine)) == [line.line_no for line in lines[:12]]


def _failing(lines: list[SettlementLine | SetAsideLine], after: int) -> Iterator[SettlementLine]:
    """The batch as a worker killed half way reads it: some lines, then nothing more."""
    for n, line in enumerate(lines):
        if n == after:
            raise KeyboardInterrupt("killed")
        assert isinstance(line, SettlementLine)
        yield line


def test_a_fetch_stopped_and_resumed_from_lines_stored_stores_each_line_once(
    store: SqlPayoutStore, account: int
) -> None:
    file = settlement_file("S-1", "USD", 50)  # 101 lines, numbered 3..103
    summary, lines = read(file)
    store.begin(account, REPORT, summary)
    store.save_lines(account, "S-1", lines[:40])  # committed: then the worker is killed
    with pytest.raises(KeyboardInterrupt):  # the next batch never finished
        store.save_lines(account, "S-1", _failing(lines[40:80], after=25))
    assert store.lines_stored(account, "S-1") == lines[39].line_no
    assert len(line_nos(store.engine)) == 40

    # The resumed fetch reads the file again and skips what is committed; a batch that overlaps
    # (a resume point read before the last commit) is harmless too.
    resume = store.lines_stored(account, "S-1")
    _, again = read(file)
    pending = [line for line in again if line.line_no > resume - 5]
    for start in range(0, len(pending), 30):
        store.save_lines(account, "S-1", pending[start : start + 30])

    assert sorted(line_nos(store.engine)) == list(range(3, 104))
    assert store.lines_stored(account, "S-1") == 103


def test_rows_set_aside_are_kept_with_why_and_as_they_were(
    store: SqlPayoutStore, account: int
) -> None:
    bad = _row("S-1", "Order", ORDER_A, "ItemPrice", "Principal", "ten dollars")
    summary, lines = read(settlement_file("S-1", "USD", 2, extra=(bad,)))
    store.begin(account, REPORT, summary)
    store.save_lines(account, "S-1", lines)

    with store.stored_lines(account, "S-1") as stored:
        back = list(stored)
    assert back == lines  # every field, in file order, the set-aside row in its place
    aside = [line for line in back if isinstance(line, SetAsideLine)]
    assert len(aside) == 1 and aside[0].raw == bad
    assert "'ten dollars' is not an amount" in aside[0].reason

    statement = reconcile(summary, back, store.known(account, "S-1"))
    assert store.finish(account, "S-1", statement)
    shown = store.statement(store.begin(account, REPORT, summary))
    assert shown is not None
    assert [(r.line_no, r.raw) for r in shown.set_aside] == [(aside[0].line_no, bad)]
    assert shown.settlement.state == "unreconciled"


def test_known_finds_the_stores_orders_and_the_adjustment_ids_our_feeds_sent(
    store: SqlPayoutStore, account: int
) -> None:
    with store.engine.begin() as conn:
        refund_id = conn.execute(
            text(
                "INSERT INTO refunds (kind, account_id, amazon_order_id, marketplace_id, reason,"
                " currency) VALUES ('refund', :a, :o, 'ATVPDKIKX0DER', 'CustomerReturn', 'USD')"
                " RETURNING id"
            ),
            {"a": account, "o": ORDER_A},
        ).scalar_one()
        ours = conn.execute(
            text(
                "INSERT INTO refund_lines (refund_id, order_item_id) VALUES (:r, 'I') RETURNING id"
            ),
            {"r": refund_id},
        ).scalar_one()
    refunds = (
        _row("S-1", "Refund", ORDER_A, "ItemPrice", "Principal", "-10.00", str(ours)),
        _row("S-1", "Refund", ORDER_A, "ItemPrice", "Principal", "-5.00", "99999"),
        _row("S-1", "Order", ORDER_X, "ItemPrice", "Principal", "3.00"),
    )
    summary, lines = read(settlement_file("S-1", "USD", 1, extra=refunds))
    store.begin(account, REPORT, summary)
    store.save_lines(account, "S-1", lines)

    known = store.known(account, "S-1")
    assert known.orders == {ORDER_A}
    assert known.our_adjustment_item_ids == {str(ours)}

    with store.stored_lines(account, "S-1") as stored:
        statement = reconcile(summary, stored, known)
    store.finish(account, "S-1", statement)
    shown = store.statement(store.find_settlement(account, "S-1").id)  # type: ignore[union-attr]
    assert shown is not None
    assert [(u.order_id, u.reason) for u in shown.unmatched] == [
        (ORDER_X, f"order {ORDER_X} is not in the store")
    ]
    by_order = {o.amazon_order_id: o for o in shown.orders}
    a = by_order[ORDER_A]
    assert (a.charged, a.fees, a.refunds) == (
        Money.parse("10.00", "USD"),
        Money.parse("-1.50", "USD"),
        Money.parse("-15.00", "USD"),
    )
    assert a.net == statement.orders[ORDER_A].net


def _outbox(engine: Engine) -> list[tuple[str, dict[str, object]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT topic, payload FROM outbox_events WHERE topic LIKE 'payouts/%' ORDER BY id"
            )
        )
        return [(row[0], row[1]) for row in rows]


def test_finish_twice_tells_the_platform_once(store: SqlPayoutStore, account: int) -> None:
    summary, lines = read(settlement_file("S-1", "USD", 3))
    store.begin(account, REPORT, summary)
    store.save_lines(account, "S-1", lines)
    with store.stored_lines(account, "S-1") as stored:
        statement = reconcile(summary, stored, store.known(account, "S-1"))
    assert statement.reconciled

    assert store.finish(account, "S-1", statement) is True
    assert store.finish(account, "S-1", statement) is False
    assert store.settlement_done(account, "S-1")

    events = _outbox(store.engine)
    assert [topic for topic, _ in events] == ["payouts/available"]
    body = events[0][1]
    assert body["reconciled"] is True
    assert body["currency"] == "USD" and body["deposit"] == "23.50"
    assert body["totals"] == {
        "sales": "30.00",
        "refunds": "0.00",
        "fees": "-6.50",
        "other": "0.00",
        "lines_total": "23.50",
    }
    assert body["difference"] == "0.00" and body["lines"] == 7
    view = store.find_settlement(account, "S-1")
    assert view is not None and view.reconciled
    assert view.totals is not None and view.totals.difference == Money.parse("0", "USD")


def test_a_settlement_that_does_not_add_up_says_why(store: SqlPayoutStore, account: int) -> None:
    file = settlement_file("S-1", "USD", 1)
    file[1] = file[1].replace("\t6.50\t", "\t7.00\t")  # Amazon deposited 0.50 more
    summary, lines = read(file)
    store.begin(account, REPORT, summary)
    store.save_lines(account, "S-1", lines)
    with store.stored_lines(account, "S-1") as stored:
        statement = reconcile(summary, stored, store.known(account, "S-1"))
    store.finish(account, "S-1", statement)

    events = _outbox(store.engine)
    assert [topic for topic, _ in events] == ["payouts/available", "payouts/unreconciled"]
    assert events[0][1]["reconciled"] is False
    unreconciled = events[1][1]
    assert unreconciled["difference"] == "0.50"
    assert "0.50 USD unexplained" in json.dumps(unreconciled["problems"])


def test_one_accounts_usd_sek_and_eur_settlements_are_never_mixed(
    store: SqlPayoutStore, account: int
) -> None:
    stray = _row("S-SEK", "Order", ORDER_A, "ItemPrice", "Principal", "4.00", currency="EUR")
    for settlement, currency, orders, extra in (
        ("S-USD", "USD", 2, ()),
        ("S-SEK", "SEK", 3, (stray,)),
        ("S-EUR", "EUR", 4, ()),
    ):
        summary, lines = read(settlement_file(settlement, currency, orders, extra=extra))
        store.begin(account, REPORT, summary)
        store.save_lines(account, settlement, lines)
        with store.stored_lines(account, settlement) as stored:
            store.finish(
                account, settlement, reconcile(summary, stored, store.known(account, settlement))
            )

    listed = {view.settlement_id: view for view in store.list_settlements(account_id=account)}
    assert {s: v.currency for s, v in listed.items()} == {
        "S-USD": "USD",
        "S-SEK": "SEK",
        "S-EUR": "EUR",
    }
    sek = listed["S-SEK"]
    assert sek.totals is not None and sek.totals.sales == Money.parse("30.00", "SEK")
    assert sek.reconciled  # the EUR line is not added to a SEK settlement...
    shown = store.statement(sek.id)
    assert shown is not None  # ...it is listed with why
    assert [u.reason for u in shown.unmatched] == ["in EUR, the settlement is in SEK"]

    money = store.order_money(account, ORDER_A)
    assert [(m.settlement_id, m.money.charged) for m in money] == [
        ("S-USD", Money.parse("20.00", "USD")),
        ("S-SEK", Money.parse("30.00", "SEK")),
        ("S-EUR", Money.parse("40.00", "EUR")),
    ]
    assert [m.money.net.currency for m in money] == ["USD", "SEK", "EUR"]


def test_the_listing_filters_and_pages_after_a_cursor(
    store: SqlPayoutStore, account: int, session_factory: sessionmaker[Session]
) -> None:
    other = seed_account(session_factory, "other")
    for n in range(5):
        summary, _ = read(settlement_file(f"S-{n}", "USD", 1))
        store.begin(account if n < 4 else other, REPORT, summary)
    first = store.list_settlements(account_id=account, limit=3)
    rest = store.list_settlements(account_id=account, after_id=first[-1].id, limit=3)
    assert [v.settlement_id for v in first + rest] == ["S-0", "S-1", "S-2", "S-3"]
    assert store.list_settlements(state="fetching", account_id=other)[0].settlement_id == "S-4"
    assert store.list_settlements(state="reconciled") == []
    assert store.list_settlements(period_from=datetime(2026, 11, 15, tzinfo=UTC)) == []
    assert len(store.list_settlements(period_to=datetime(2026, 11, 2, tzinfo=UTC))) == 5


def test_lines_out_of_order_are_stored_once_and_another_settlements_line_keeps_nothing(
    store: SqlPayoutStore, account: int
) -> None:
    summary, lines = read(settlement_file("S-1", "USD", 10))  # numbered 3..23
    store.begin(account, REPORT, summary)
    shuffled = [lines[2], lines[3], lines[0], lines[1], lines[3], lines[4]]
    assert store.save_lines(account, "S-1", iter(shuffled)) == 5  # read lazily, as a fetch does
    assert sorted(line_nos(store.engine)) == [3, 4, 5, 6, 7]
    assert store.lines_stored(account, "S-1") == 7

    assert isinstance(lines[6], SettlementLine)
    stray = lines[6]._replace(settlement_id="S-2")
    with pytest.raises(ValueError, match="line 9 is of settlement 'S-2', not 'S-1'"):
        store.save_lines(account, "S-1", iter([lines[5], stray, lines[7]]))
    assert sorted(line_nos(store.engine)) == [3, 4, 5, 6, 7]  # nothing of that batch
    assert store.lines_stored(account, "S-1") == 7


def test_a_reading_that_fails_mid_batch_keeps_the_batches_before_it_whole(
    store: SqlPayoutStore, account: int
) -> None:
    """``store_lines`` hands each batch over while it is still being read: the batch the
    reading failed in is rolled back, the ones before it stay, and a second run stores the
    rest once."""
    file = settlement_file("S-1", "USD", 25)  # 51 lines, numbered 3..53
    summary, lines = read(file)
    store.begin(account, REPORT, summary)
    with pytest.raises(KeyboardInterrupt):
        store_lines(store, account, summary, _failing(lines, after=45), batch_lines=20)
    assert sorted(line_nos(store.engine)) == list(range(3, 43))  # two batches of 20
    assert store.lines_stored(account, "S-1") == 42

    rows = read_settlement(file)
    assert store_lines(store, account, summary, rows, batch_lines=20) == 11
    assert sorted(line_nos(store.engine)) == list(range(3, 54))


def test_a_batch_read_slower_than_the_statement_timeout_is_stored(
    clean_db: Engine, account: int
) -> None:
    """A batch's lines are copied as they are read (downloaded from Amazon, in a fetch): the
    COPY may outlast the connection's statement timeout, here cut to 0.5 s (for the batch's
    engine only: the rest of the test is on the usual one)."""
    engine = make_engine(clean_db.url.render_as_string(hide_password=False))

    @event.listens_for(engine, "connect")
    def _short(dbapi_conn: Any, _record: object) -> None:
        with dbapi_conn.cursor() as cur:
            cur.execute("SET statement_timeout = '500ms'")
        dbapi_conn.commit()

    def slowly(lines: list[SettlementLine | SetAsideLine]) -> Iterator[SettlementLine]:
        for n, line in enumerate(lines):
            if n == 5:
                time.sleep(1.0)  # a slow stretch of the download
            assert isinstance(line, SettlementLine)
            yield line

    try:
        summary, lines = read(settlement_file("S-1", "USD", 5))
        SqlPayoutStore(clean_db, payloads.encode).begin(account, REPORT, summary)
        store = SqlPayoutStore(engine, payloads.encode)
        assert store.save_lines(account, "S-1", slowly(lines)) == 11
        assert sorted(line_nos(clean_db)) == list(range(3, 14))
    finally:
        engine.dispose()
