"""Settlements made from the sandbox's own orders, shipments and refunds, read with the
production reader and reconciled with the domain's ``reconcile``: to the cent, in USD, EUR and
SEK, one settlement per seller and currency, consistent with the Finances groups' totals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.payouts import Known, LineKind, Match, classify, reconcile
from domain.shared import Money
from infra.amazon.sandbox.state import DEMO_SELLER, GROUP_PERIOD
from tests.integration.infra.amazon.sandbox.feeds.support import Sandbox, adjustment, envelope
from tests.integration.infra.amazon.sandbox.finances.support import seller_central_refund
from tests.integration.infra.amazon.sandbox.reports.support import (
    EU_SELLER,
    GERMANY,
    SWEDEN,
    add_eu_seller,
    close,
    closed_groups,
    download_text,
    list_reports,
    read,
)

pytestmark = pytest.mark.integration

ITEMS = [
    {"sku": "ELEC-CABLE", "quantity": 2, "unit_price": "12.99"},  # 8% referral fee
    {"sku": "MUG-RED", "quantity": 1, "unit_price": "7.45"},  # 15%
]


def _sell(sandbox: Sandbox, **spec: object) -> tuple[str, list[str]]:
    return sandbox.order(status="SHIPPED", items=ITEMS, **spec)


def test_a_closed_period_reconciles_to_the_cent_in_usd_eur_and_sek(sandbox: Sandbox) -> None:
    eu_headers = add_eu_seller(sandbox)
    us_mfn, us_mfn_items = _sell(sandbox)
    us_afn, _ = _sell(sandbox, fulfilled_by="AMAZON")
    feed = envelope(
        "OrderAdjustment",
        adjustment(1, us_mfn, us_mfn_items[0], {"Principal": "12.99", "Tax": "0.50"}),
    )
    finished, _ = sandbox.run("POST_PAYMENT_ADJUSTMENT_DATA", feed)
    assert finished["processingStatus"] == "DONE"
    de, de_items = _sell(sandbox, seller_id=EU_SELLER, marketplace_id=GERMANY)
    se, _ = _sell(sandbox, seller_id=EU_SELLER, marketplace_id=SWEDEN, fulfilled_by="AMAZON")
    refund = seller_central_refund(sandbox, de, {de_items[1]: {"Principal": "2.00"}})
    assert refund.status_code == 201, refund.text

    made = close(sandbox) + close(sandbox, EU_SELLER)

    assert sorted(r["currency"] for r in made) == ["EUR", "SEK", "USD"]
    known = Known(
        orders=frozenset({us_mfn, us_afn, de, se}), our_adjustment_item_ids=frozenset({"R-1"})
    )
    for seller_id, headers in ((DEMO_SELLER.seller_id, sandbox.headers), (EU_SELLER, eu_headers)):
        groups = closed_groups(sandbox, seller_id)
        for report in list_reports(sandbox, headers)["reports"]:
            summary, lines, set_aside = read(download_text(sandbox, headers, report))
            statement = reconcile(summary, lines, known)

            assert statement.reconciled, statement.problems()
            assert not set_aside and not statement.unmatched
            group = next(
                g
                for g in groups.values()
                if g["FinancialEventGroupEnd"] == report["dataEndTime"]
                and g["OriginalTotal"]["CurrencyCode"] == summary.currency
            )
            assert summary.total.amount == Decimal(str(group["OriginalTotal"]["CurrencyAmount"]))
            assert {line.amount.currency for line in lines} == {summary.currency}
            fees = {
                (line.sku, line.amount_description)
                for line in lines
                if classify(line) is LineKind.FEE
            }
            commission = {
                line.sku: line.amount
                for line in lines
                if line.amount_description == "Commission" and line.transaction_type == "Order"
            }
            principal = {
                line.sku: line.amount
                for line in lines
                if line.amount_description == "Principal" and line.transaction_type == "Order"
            }
            assert -commission["ELEC-CABLE"].amount == (
                principal["ELEC-CABLE"].amount * Decimal("0.08")
            ).quantize(Decimal("0.01"))
            assert -commission["MUG-RED"].amount == (
                principal["MUG-RED"].amount * Decimal("0.15")
            ).quantize(Decimal("0.01"))
            afn = {line.order_id for line in lines if line.fulfillment_id == "AFN"}
            fba_fees = {
                line.order_id
                for line in lines
                if line.amount_description == "FBAPerUnitFulfillmentFee"
            }
            assert fba_fees == afn
            assert ("MUG-RED", "Commission") in fees
            if summary.currency == "USD":
                refunds = [line for line in lines if line.transaction_type == "Refund"]
                assert {line.merchant_adjustment_item_id for line in refunds} == {"R-1"}
                assert statement.matched[Match.REFUND] == len(
                    [r for r in refunds if classify(r) is LineKind.REFUND]
                )
                assert {line.amount_description for line in refunds} >= {
                    "Principal",
                    "Tax",
                    "RefundCommission",
                    "Commission",
                }
                assert afn == {us_afn}
            if summary.currency == "EUR":
                assert statement.matched[Match.REFUND_FROM_AMAZON] == 1  # Seller Central's
                assert statement.orders[de].refunds == Money(Decimal("-2.00"), "EUR")
                assert {line.marketplace_name for line in lines} == {"Amazon.de"}
            if summary.currency == "SEK":
                assert afn == {se}
                assert {line.marketplace_name for line in lines} == {"Amazon.se"}


def test_a_period_closes_on_its_schedule_and_the_next_starts_empty(sandbox: Sandbox) -> None:
    _sell(sandbox)
    assert list_reports(sandbox, sandbox.headers)["reports"] == []

    sandbox.handle.state.advance_clock(GROUP_PERIOD.total_seconds())
    sandbox.log_in()  # the token expired with the clock moved on
    reports = list_reports(sandbox, sandbox.headers)["reports"]

    assert len(reports) == 1
    (group,) = closed_groups(sandbox, DEMO_SELLER.seller_id).values()
    assert reports[0]["dataStartTime"] == group["FinancialEventGroupStart"]
    assert reports[0]["dataEndTime"] == reports[0]["createdTime"] == group["FinancialEventGroupEnd"]
    again = sandbox.client.post(
        "/_sandbox/settlements/close", json={"seller_id": DEMO_SELLER.seller_id}
    )
    assert again.status_code == 409  # the open group has no events
    assert len(list_reports(sandbox, sandbox.headers)["reports"]) == 1  # made once


@pytest.mark.parametrize("promotion_id", [True, False], ids=["24 columns", "23 columns"])
def test_the_promotion_id_column_is_there_or_not(sandbox: Sandbox, promotion_id: bool) -> None:
    sandbox.client.post("/_sandbox/report-settings", json={"promotion_id": promotion_id})
    _sell(sandbox)
    (report,) = close(sandbox)

    text = download_text(sandbox, sandbox.headers, report)
    header = text.splitlines()[0].split("\t")

    assert len(header) == (24 if promotion_id else 23)
    assert ("promotion-id" in header) is promotion_id
    summary, lines, _ = read(text)
    assert sum((line.amount for line in lines), Money(Decimal(0), "USD")) == summary.total


def test_malformed_rows_go_into_the_next_report_and_are_set_aside(sandbox: Sandbox) -> None:
    kinds = ["amount", "date", "quantity", "settlement", "short"]
    asked = sandbox.client.post("/_sandbox/settlements/malformed", json={"kinds": kinds})
    assert asked.status_code == 201, asked.text
    assert (
        sandbox.client.post("/_sandbox/settlements/malformed", json={"kinds": ["nope"]}).status_code
        == 400
    )
    order, _ = _sell(sandbox)
    (report,) = close(sandbox)

    summary, lines, set_aside = read(download_text(sandbox, sandbox.headers, report))

    assert len(set_aside) == len(kinds)
    reasons = " | ".join(s.reason for s in set_aside)
    for field in (
        "amount",
        "posted-date-time",
        "quantity-purchased",
        "settlement-id",
        "transaction-type",
    ):
        assert field in reasons
    statement = reconcile(summary, [*lines, *set_aside], Known(frozenset({order}), frozenset()))
    assert statement.difference.amount == 0  # the readable rows still add up to the deposit
    assert not statement.reconciled  # but rows were set aside
    _sell(sandbox)
    (next_report,) = close(sandbox)
    assert read(download_text(sandbox, sandbox.headers, next_report))[2] == []  # only the next
