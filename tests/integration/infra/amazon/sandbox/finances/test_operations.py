"""Finances v0's listings over HTTP: the posted window, pages and their tokens, groups that
close after their 14 days and add up, one seller's money only, and the usage plan.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from infra.amazon.models import operations
from infra.amazon.sandbox.server import running_sandbox
from infra.amazon.sandbox.state import GROUP_PERIOD, iso, parse_iso
from tests.integration.infra.amazon.sandbox.api import OTHER, other_headers
from tests.integration.infra.amazon.sandbox.conformance.schemas import assert_conforms
from tests.integration.infra.amazon.sandbox.feeds.support import Sandbox
from tests.integration.infra.amazon.sandbox.finances.support import (
    body_of,
    finances,
    seller_central_refund,
)

pytestmark = pytest.mark.integration

EVENTS = "financialEvents"
GROUPS = "financialEventGroups"


def _ago(sandbox: Sandbox, **delta: float) -> str:
    return iso(sandbox.handle.state.now() - timedelta(**delta))


def _orders_of(payload: dict[str, Any]) -> list[str]:
    events = payload["FinancialEvents"]
    listed = events["ShipmentEventList"] + events["RefundEventList"]
    return [e["AmazonOrderId"] for e in sorted(listed, key=lambda e: e["PostedDate"])]


def _every_page(sandbox: Sandbox, path: str, **params: Any) -> list[dict[str, Any]]:
    pages = [body_of(finances(sandbox, path, **params))["payload"]]
    while "NextToken" in pages[-1]:
        pages.append(body_of(finances(sandbox, path, NextToken=pages[-1]["NextToken"]))["payload"])
    return pages


def test_the_posted_window_is_after_inclusive_before_exclusive_and_lags_two_minutes(
    sandbox: Sandbox,
) -> None:
    first, _ = sandbox.order(status="SHIPPED")
    sandbox.handle.state.advance_clock(600)
    second, _ = sandbox.order(status="SHIPPED")
    posted_second = sandbox.handle.state.financial_events("A1SANDBOXDEMO")[-1].posted_at
    fresh = body_of(finances(sandbox, EVENTS, PostedAfter=_ago(sandbox, hours=1)))["payload"]
    sandbox.handle.state.advance_clock(121)

    everything = body_of(finances(sandbox, EVENTS, PostedAfter=_ago(sandbox, hours=1)))
    until_second = finances(
        sandbox, EVENTS, PostedAfter=_ago(sandbox, hours=1), PostedBefore=iso(posted_second)
    )
    from_second = finances(sandbox, EVENTS, PostedAfter=iso(posted_second))
    too_wide = finances(sandbox, EVENTS, PostedAfter=_ago(sandbox, days=181))

    assert _orders_of(fresh) == [first]  # the second is not two minutes old yet
    assert _orders_of(everything["payload"]) == [first, second]
    assert _orders_of(body_of(until_second)["payload"]) == [first]
    assert _orders_of(body_of(from_second)["payload"]) == [second]
    assert _orders_of(body_of(too_wide)["payload"]) == []
    assert_conforms("financesV0.listFinancialEvents", 200, too_wide.json())


def test_pages_list_every_event_once_and_tokens_keep_their_arguments(sandbox: Sandbox) -> None:
    ids = [sandbox.order(status="SHIPPED")[0] for _ in range(5)]
    sandbox.handle.state.advance_clock(180)
    after = _ago(sandbox, hours=1)

    pages = _every_page(sandbox, EVENTS, PostedAfter=after, MaxResultsPerPage=2)
    token = pages[0]["NextToken"]
    same = finances(sandbox, EVENTS, NextToken=token, PostedAfter=after, MaxResultsPerPage=2)
    other_window = finances(sandbox, EVENTS, NextToken=token, PostedAfter=_ago(sandbox, hours=2))
    other_operation = finances(sandbox, f"orders/{ids[0]}/{EVENTS}", NextToken=token)
    forged = finances(sandbox, EVENTS, NextToken=token[:-3] + "AAA")

    assert [len(_orders_of(p)) for p in pages] == [2, 2, 1]
    assert [o for p in pages for o in _orders_of(p)] == ids
    assert _orders_of(body_of(same)["payload"]) == ids[2:4]
    for refused, words in (
        (other_window, "PostedAfter"),
        (other_operation, "pagination token"),
        (forged, "pagination token"),
    ):
        assert refused.status_code == 400, refused.text
        error = refused.json()["errors"][0]
        assert error["code"] == "InvalidInput" and words in error["message"]


def test_bad_input_is_refused_with_the_parameter_named(sandbox: Sandbox) -> None:
    order_id, _ = sandbox.order(status="SHIPPED")
    day = _ago(sandbox, days=1)
    cases: list[tuple[str, dict[str, Any], str]] = [
        (EVENTS, {}, "PostedAfter is required"),
        (EVENTS, {"PostedBefore": day}, "PostedBefore can only be used together with PostedAfter"),
        (EVENTS, {"PostedAfter": day, "PostedBefore": _ago(sandbox, days=2)}, "later than"),
        (EVENTS, {"PostedAfter": _ago(sandbox, seconds=60)}, "two minutes"),
        (EVENTS, {"PostedAfter": day, "MaxResultsPerPage": "ten"}, "MaxResultsPerPage"),
        (EVENTS, {"PostedAfter": "01/02/2026"}, "PostedAfter is not a valid ISO 8601"),
        (f"orders/{order_id[:-1]}/{EVENTS}", {}, "3-7-7"),
        (f"{GROUPS}/nope/{EVENTS}", {}, "eventGroupId"),
        (GROUPS, {}, "FinancialEventGroupStartedAfter is required"),
        (
            GROUPS,
            {"FinancialEventGroupStartedAfter": day, "FinancialEventGroupStartedBefore": day},
            "FinancialEventGroupStartedBefore must be later",
        ),
        (GROUPS, {"FinancialEventGroupStartedAfter": day, "MaxResultsPerPage": 101}, "100"),
    ]

    for path, params, words in cases:
        response = finances(sandbox, path, **params)
        assert response.status_code == 400, (path, params, response.text)
        assert words in response.json()["errors"][0]["message"], (path, params)


def test_groups_close_after_fourteen_days_and_their_totals_are_their_events(
    sandbox: Sandbox,
) -> None:
    state = sandbox.handle.state
    early, (item,) = sandbox.order(status="SHIPPED")
    assert seller_central_refund(sandbox, early, {item: {"Principal": "1.00"}}).status_code == 201
    state.advance_clock(GROUP_PERIOD.total_seconds() + 60)
    sandbox.log_in()
    late, _ = sandbox.order(status="SHIPPED")
    state.advance_clock(180)

    listed = finances(sandbox, GROUPS, FinancialEventGroupStartedAfter=_ago(sandbox, days=60))
    closed, current = body_of(listed)["payload"]["FinancialEventGroupList"]
    by_group = {
        g["FinancialEventGroupId"]: _every_page(
            sandbox, f"{GROUPS}/{g['FinancialEventGroupId']}/{EVENTS}"
        )
        for g in (closed, current)
    }
    paged = _every_page(
        sandbox, GROUPS, FinancialEventGroupStartedAfter=_ago(sandbox, days=60), MaxResultsPerPage=1
    )

    assert_conforms("financesV0.listFinancialEventGroups", 200, listed.json())
    assert closed["ProcessingStatus"] == "Closed" and closed["FundTransferStatus"] == "Succeeded"
    assert closed["FinancialEventGroupEnd"] == current["FinancialEventGroupStart"]
    assert closed["FundTransferDate"] == closed["FinancialEventGroupEnd"]
    assert closed["ConvertedTotal"] == closed["OriginalTotal"]
    assert closed["TraceId"] and closed["AccountTail"]
    assert current["ProcessingStatus"] == "Open"
    assert "FundTransferStatus" not in current and "FinancialEventGroupEnd" not in current
    assert _orders_of(by_group[closed["FinancialEventGroupId"]][0]) == [early, early]
    assert _orders_of(by_group[current["FinancialEventGroupId"]][0]) == [late]
    for group in (closed, current):
        assert group["BeginningBalance"]["CurrencyAmount"] == 0
        assert group["OriginalTotal"]["CurrencyAmount"] == _net(
            by_group[group["FinancialEventGroupId"]]
        )
    assert [len(p["FinancialEventGroupList"]) for p in paged] == [1, 1]
    started = parse_iso(current["FinancialEventGroupStart"])
    before_current = finances(
        sandbox,
        GROUPS,
        FinancialEventGroupStartedAfter=_ago(sandbox, days=60),
        FinancialEventGroupStartedBefore=iso(started),
    )
    assert body_of(before_current)["payload"]["FinancialEventGroupList"] == [closed]


def _net(pages: list[dict[str, Any]]) -> Decimal:
    """Every amount of every event listed: charges, fees and taxes withheld."""
    total = Decimal(0)
    for page in pages:
        events = page["FinancialEvents"]
        for event in events["ShipmentEventList"] + events["RefundEventList"]:
            for item in event.get("ShipmentItemList", []) + event.get(
                "ShipmentItemAdjustmentList", []
            ):
                for name in (
                    "ItemChargeList",
                    "ItemFeeList",
                    "ItemChargeAdjustmentList",
                    "ItemFeeAdjustmentList",
                ):
                    for entry in item.get(name, []):
                        money = entry.get("ChargeAmount") or entry["FeeAmount"]
                        total += money["CurrencyAmount"]
                for withheld in item.get("ItemTaxWithheldList", []):
                    total += sum(
                        t["ChargeAmount"]["CurrencyAmount"] for t in withheld["TaxesWithheld"]
                    )
    return total


def test_a_seller_sees_only_its_own_money(sandbox: Sandbox) -> None:
    order_id, _ = sandbox.order(status="SHIPPED")
    sandbox.client.post("/_sandbox/sellers", json=OTHER)
    headers = other_headers(sandbox.client)
    sandbox.handle.state.advance_clock(180)

    def listed(path: str, **params: Any) -> Any:
        response = sandbox.client.get(f"/finances/v0/{path}", params=params, headers=headers)
        return body_of(response)["payload"]

    mine = body_of(
        finances(sandbox, GROUPS, FinancialEventGroupStartedAfter=_ago(sandbox, days=30))
    )
    (group,) = mine["payload"]["FinancialEventGroupList"]
    foreign_group = sandbox.client.get(
        f"/finances/v0/{GROUPS}/{group['FinancialEventGroupId']}/{EVENTS}", headers=headers
    )

    assert _orders_of(listed(EVENTS, PostedAfter=_ago(sandbox, days=1))) == []
    assert _orders_of(listed(f"orders/{order_id}/{EVENTS}")) == []
    assert listed(GROUPS, FinancialEventGroupStartedAfter=_ago(sandbox, days=30)) == {
        "FinancialEventGroupList": []
    }
    assert foreign_group.status_code == 400


def test_finance_operations_go_through_their_usage_plan() -> None:
    plan = operations()["financesV0.listFinancialEvents"].usage_plan
    assert plan is not None and (plan.rate, plan.burst) == (0.5, 30)
    with running_sandbox() as handle, httpx.Client(base_url=handle.base_url) as client:
        sandbox = Sandbox(handle, client)
        path = "orders/111-1111111-1111111/financialEvents"
        statuses = [finances(sandbox, path).status_code for _ in range(plan.burst)]
        throttled = finances(sandbox, path)
        other = finances(sandbox, GROUPS, FinancialEventGroupStartedAfter=_ago(sandbox, days=1))

    assert statuses == [200] * plan.burst
    assert throttled.status_code == 429
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    assert other.status_code == 200 and other.headers["x-amzn-RateLimit-Limit"] == "0.5"
