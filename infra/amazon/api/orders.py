"""Orders v2026-01-01: ``searchOrders`` (one page, validated or raw, or every page) and
``getOrder``. Amazon's search rules are checked here so a mistake costs no call from a
1-per-3-minutes budget."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from infra.amazon.api._common import csv, optional_time, parse
from infra.amazon.http import SpApiTransport
from infra.amazon.schemas.orders import GetOrderResponse, Order, SearchOrdersResponse


class OrdersApi:
    """The Orders API, version 2026-01-01, for one seller."""

    def __init__(self, transport: SpApiTransport) -> None:
        self.transport = transport

    def search_orders_raw(
        self,
        *,
        last_updated_after: datetime | None = None,
        created_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        created_before: datetime | None = None,
        marketplace_ids: Sequence[str] | None = None,
        fulfillment_statuses: Sequence[str] | None = None,
        fulfilled_by: Sequence[str] | None = None,
        included_data: Sequence[str] = (),
        max_results: int = 100,
        pagination_token: str | None = None,
    ) -> dict[str, Any]:
        """One ``searchOrders`` page as Amazon's JSON (for callers that translate it themselves).

        Without a token exactly one of ``created_after`` / ``last_updated_after`` is required and
        the Created* and LastUpdated* pairs cannot be mixed (Amazon's rules). With a token,
        Amazon's model asks for the same filters as the first page (only ``maxResultsPerPage``
        and ``includedData`` may change): whatever filters are given are sent along with it,
        none are required.
        """
        if not 1 <= max_results <= 100:
            raise ValueError("max_results must be between 1 and 100")
        created = created_after is not None or created_before is not None
        updated = last_updated_after is not None or last_updated_before is not None
        if created and updated:
            raise ValueError("created_* and last_updated_* filters cannot be combined")
        if pagination_token is None and (created_after is None) == (last_updated_after is None):
            raise ValueError("exactly one of created_after and last_updated_after is required")
        params: dict[str, str | None] = {
            "createdAfter": optional_time(created_after),
            "createdBefore": optional_time(created_before),
            "lastUpdatedAfter": optional_time(last_updated_after),
            "lastUpdatedBefore": optional_time(last_updated_before),
            "marketplaceIds": csv(marketplace_ids),
            "fulfillmentStatuses": csv(fulfillment_statuses),
            "fulfilledBy": csv(fulfilled_by),
            "includedData": csv(included_data),
            "maxResultsPerPage": str(max_results),
            "paginationToken": pagination_token,
        }
        return self.transport.call_json("orders2026.searchOrders", params=params)

    def search_orders(
        self,
        *,
        last_updated_after: datetime | None = None,
        created_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        created_before: datetime | None = None,
        marketplace_ids: Sequence[str] | None = None,
        fulfillment_statuses: Sequence[str] | None = None,
        fulfilled_by: Sequence[str] | None = None,
        included_data: Sequence[str] = (),
        max_results: int = 100,
        pagination_token: str | None = None,
    ) -> SearchOrdersResponse:
        """One ``searchOrders`` page, validated; orders that do not parse are set aside in it."""
        body = self.search_orders_raw(
            last_updated_after=last_updated_after,
            created_after=created_after,
            last_updated_before=last_updated_before,
            created_before=created_before,
            marketplace_ids=marketplace_ids,
            fulfillment_statuses=fulfillment_statuses,
            fulfilled_by=fulfilled_by,
            included_data=included_data,
            max_results=max_results,
            pagination_token=pagination_token,
        )
        return parse(SearchOrdersResponse, body, "orders2026.searchOrders")

    def iter_search_orders(
        self,
        *,
        last_updated_after: datetime | None = None,
        created_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        created_before: datetime | None = None,
        marketplace_ids: Sequence[str] | None = None,
        fulfillment_statuses: Sequence[str] | None = None,
        fulfilled_by: Sequence[str] | None = None,
        included_data: Sequence[str] = (),
        max_results: int = 100,
    ) -> Iterator[SearchOrdersResponse]:
        """Every page of one search, the same filters sent with each token (as Amazon asks)."""
        token: str | None = None
        while True:
            page = self.search_orders(
                last_updated_after=last_updated_after,
                created_after=created_after,
                last_updated_before=last_updated_before,
                created_before=created_before,
                marketplace_ids=marketplace_ids,
                fulfillment_statuses=fulfillment_statuses,
                fulfilled_by=fulfilled_by,
                included_data=included_data,
                max_results=max_results,
                pagination_token=token,
            )
            yield page
            token = page.next_token
            if token is None:
                return

    def get_order(
        self, order_id: str, included_data: Sequence[str] = (), *, patient: bool = True
    ) -> Order:
        """One order with its items (always included in this version of the API).

        ``patient=False`` is for a read that can come later: it takes a token only if the
        budget has one free now (``RateLimitTimeout`` otherwise, nothing sent) and makes one
        attempt, raising a transient error instead of backing off and retrying."""
        body = self.transport.call_json(
            "orders2026.getOrder",
            path_params={"orderId": order_id},
            params={"includedData": csv(included_data)},
            patient=patient,
        )
        return parse(GetOrderResponse, body, "orders2026.getOrder").order
