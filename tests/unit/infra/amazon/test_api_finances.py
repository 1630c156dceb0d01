"""Finances v0 over a scripted Amazon: every page through ``NextToken`` (the same arguments sent
again), amounts read as decimals and never floats, Amazon's window rules checked before a call,
and one bad event set aside without losing its page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from infra.amazon.client import SpApiClient
from infra.amazon.errors import InvalidInput, UnexpectedResponse
from infra.amazon.schemas import FinancialEvents
from tests.unit.infra.amazon.fake_spapi import FakeAmazon, RecordingLimiter, amazon_error, query
from tests.unit.infra.amazon.finances_json import (
    EVENTS,
    GROUPS,
    ORDER_ID,
    by_group,
    by_order,
    charge,
    events_page,
    money,
    raw_page,
    refund_event,
    refund_item,
    shipment_event,
)

AFTER = datetime(2026, 10, 1, tzinfo=UTC)
BEFORE = datetime(2026, 10, 31, 12, 30, 15, 500_000, tzinfo=UTC)


def test_an_orders_events_are_read_page_by_page(
    client: SpApiClient, amazon: FakeAmazon, limiter: RecordingLimiter
) -> None:
    amazon.queue(
        by_order(),
        events_page(shipments=(shipment_event(),), next_token="page-2"),
        events_page(next_token="page-3"),  # Amazon may answer an empty page with a token
        events_page(refunds=(refund_event(),)),
    )

    pages = list(client.iter_financial_events_by_order_id(ORDER_ID, max_results=50))

    assert [p.next_token for p in pages] == ["page-2", "page-3", None]
    sent = [query(r) for r in amazon.calls(by_order())]
    assert sent == [
        {"MaxResultsPerPage": "50"},
        {"MaxResultsPerPage": "50", "NextToken": "page-2"},
        {"MaxResultsPerPage": "50", "NextToken": "page-3"},
    ]
    assert limiter.acquired == ["financesV0.listFinancialEventsByOrderId"] * 3
    (shipment,) = pages[0].financial_events.shipment_event_list
    assert shipment.shipment_item_list[0].item_charge_list[0].charge_type == "Principal"
    (refund,) = pages[2].financial_events.refund_event_list
    assert refund.amazon_order_id == ORDER_ID
    assert refund.posted_date == datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    item = refund.shipment_item_adjustment_list[0]
    assert item.seller_sku == "MUG-RED" and item.order_adjustment_item_id == "amzn1.adj.1"
    assert [c.charge_type for c in item.item_charge_adjustment_list] == ["Principal", "Tax"]
    assert [f.fee_type for f in item.item_fee_adjustment_list] == ["Commission", "RefundCommission"]


def test_amounts_are_decimals_read_from_the_json_text_never_floats(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    huge = "-12345678901234567.89"  # a float would make it -12345678901234568
    item = refund_item(charges=(charge("Principal", huge), charge("Tax", "-0.1"), charge("X", "3")))
    amazon.queue(by_order(), events_page(refunds=(refund_event(items=(item,)),)))

    (page,) = client.iter_financial_events_by_order_id(ORDER_ID)

    charges = page.financial_events.refund_event_list[0].shipment_item_adjustment_list[0]
    amounts = [
        c.charge_amount.currency_amount
        for c in charges.item_charge_adjustment_list
        if c.charge_amount
    ]
    assert amounts == [Decimal(huge), Decimal("-0.1"), Decimal(3)]
    assert all(isinstance(a, Decimal) for a in amounts)


def test_the_posted_window_is_sent_with_every_token(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue(EVENTS, events_page(next_token="t2"), events_page(refunds=(refund_event(),)))

    pages = list(client.iter_financial_events(posted_after=AFTER, posted_before=BEFORE))

    assert len(pages) == 2
    window = {
        "MaxResultsPerPage": "100",
        "PostedAfter": "2026-10-01T00:00:00Z",
        "PostedBefore": "2026-10-31T12:30:15Z",
    }
    assert [query(r) for r in amazon.calls(EVENTS)] == [window, {**window, "NextToken": "t2"}]


@pytest.mark.parametrize(
    ("after", "before", "reason"),
    [
        (AFTER, AFTER, "later than"),
        (AFTER, AFTER - timedelta(seconds=1), "later than"),
        (AFTER, AFTER + timedelta(days=180, seconds=1), "180 days"),
    ],
)
def test_a_window_amazon_would_refuse_or_answer_empty_costs_no_call(
    client: SpApiClient, amazon: FakeAmazon, after: datetime, before: datetime, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        client.iter_financial_events(posted_after=after, posted_before=before)
    with pytest.raises(ValueError, match=reason):
        client.finances.list_financial_events(posted_after=after, posted_before=before)
    assert amazon.requests == []


def test_arguments_amazon_would_refuse_cost_no_call(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    with pytest.raises(ValueError, match="max_results"):
        client.iter_financial_events_by_order_id(ORDER_ID, max_results=101)
    with pytest.raises(ValueError, match="order_id"):
        client.iter_financial_events_by_order_id("")
    with pytest.raises(ValueError, match="needs posted_after"):
        client.iter_financial_events_by_group_id("G1", posted_before=BEFORE)
    with pytest.raises(ValueError, match="needs started_after"):
        client.iter_financial_event_groups(started_before=BEFORE)
    with pytest.raises(ValueError, match="timezone-aware"):
        client.finances.list_financial_events(posted_after=datetime(2026, 10, 1))  # noqa: DTZ001
    assert amazon.requests == []


def test_event_groups_and_a_groups_events(client: SpApiClient, amazon: FakeAmazon) -> None:
    group = {
        "FinancialEventGroupId": "G1",
        "ProcessingStatus": "Closed",
        "FundTransferStatus": "Succeeded",
        "OriginalTotal": money("1234.56"),
        "ConvertedTotal": money("1234.56"),
        "FundTransferDate": "2026-10-15T00:00:00Z",
        "TraceId": "T-1",
        "AccountTail": "1234",
        "BeginningBalance": money("0.00"),
        "FinancialEventGroupStart": "2026-10-01T00:00:00Z",
        "FinancialEventGroupEnd": "2026-10-14T23:59:59Z",
    }
    amazon.queue(
        GROUPS,
        raw_page({"payload": {"FinancialEventGroupList": [group], "NextToken": "g2"}}),
        raw_page({"payload": {"FinancialEventGroupList": None}}),
    )
    amazon.queue(by_group("G1"), events_page(shipments=(shipment_event(),)))

    pages = list(client.iter_financial_event_groups(started_after=AFTER, started_before=BEFORE))
    (events,) = client.iter_financial_events_by_group_id("G1")

    (found,) = pages[0].financial_event_group_list
    assert pages[1].financial_event_group_list == []
    assert found.financial_event_group_id == "G1" and found.processing_status == "Closed"
    assert found.original_total is not None
    assert found.original_total.currency_amount == Decimal("1234.56")
    assert found.financial_event_group_end == datetime(2026, 10, 14, 23, 59, 59, tzinfo=UTC)
    assert "1234" not in repr(found).replace("1234.56", "")  # the bank account's tail
    assert query(amazon.calls(GROUPS)[0]) == {
        "MaxResultsPerPage": "100",
        "FinancialEventGroupStartedAfter": "2026-10-01T00:00:00Z",
        "FinancialEventGroupStartedBefore": "2026-10-31T12:30:15Z",
    }
    assert query(amazon.calls(GROUPS)[1])["NextToken"] == "g2"
    assert len(events.financial_events.shipment_event_list) == 1


def test_a_bad_event_is_set_aside_and_the_page_still_reads(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    naive = refund_event(order_id="113-0000002-0000002", posted="2026-11-02T09:15:00")
    not_a_number = refund_event(order_id="113-0000003-0000003")
    not_a_number["ShipmentItemAdjustmentList"][0]["ItemChargeAdjustmentList"][0]["ChargeAmount"][
        "CurrencyAmount"
    ] = "lots"
    nulls = refund_event()
    nulls["ShipmentItemAdjustmentList"][0]["ItemFeeAdjustmentList"] = None
    amazon.queue(
        by_order(), events_page(refunds=(naive, not_a_number, nulls), ShipmentEventList=None)
    )

    (page,) = client.iter_financial_events_by_order_id(ORDER_ID)

    events = page.financial_events
    assert events.shipment_event_list == []
    assert [e.amazon_order_id for e in events.refund_event_list] == [ORDER_ID]
    assert (
        events.refund_event_list[0].shipment_item_adjustment_list[0].item_fee_adjustment_list == []
    )
    aside = {e.amazon_order_id: e for e in events.unparsed_events}
    assert set(aside) == {"113-0000002-0000002", "113-0000003-0000003"}
    assert aside["113-0000002-0000002"].event_list == "RefundEventList"
    assert "PostedDate" in aside["113-0000002-0000002"].error
    assert "CurrencyAmount" in aside["113-0000003-0000003"].error
    assert "lots" not in aside["113-0000003-0000003"].error  # reasons never echo the input


def test_a_body_without_payload_or_not_json_is_amazon_breaking_its_model(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue(
        by_order(),
        raw_page({"errors": []}),
        httpx.Response(200, content=b"<html>oops</html>"),
    )
    with pytest.raises(UnexpectedResponse, match="payload"):
        list(client.iter_financial_events_by_order_id(ORDER_ID))
    with pytest.raises(UnexpectedResponse, match="not a JSON object"):
        list(client.iter_financial_events_by_order_id(ORDER_ID))


def test_amazons_refusal_is_raised_as_the_client_raises_it(
    client: SpApiClient, amazon: FakeAmazon
) -> None:
    amazon.queue(EVENTS, amazon_error(400, "InvalidInput", "PostedBefore is too recent"))
    with pytest.raises(InvalidInput) as caught:
        list(client.iter_financial_events(posted_after=AFTER))
    assert caught.value.operation == "financesV0.listFinancialEvents"
    assert len(amazon.calls(EVENTS)) == 1


def test_financial_events_of_python_values_build_without_amazons_names() -> None:
    events = FinancialEvents(refund_event_list=[])
    assert events.unparsed_events == [] and events.shipment_event_list == []
