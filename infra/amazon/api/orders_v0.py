"""Orders v0: the deprecated reads (``getOrders``, ``getOrderItems``) and ``confirmShipment``,
which lives only here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from infra.amazon.api._common import csv, optional_time, parse, payload
from infra.amazon.http import SpApiTransport
from infra.amazon.schemas.orders_v0 import GetOrderItemsV0Payload, GetOrdersV0Payload, OrderItemV0


class OrdersV0Api:
    """The Orders API, version 0, for one seller."""

    def __init__(self, transport: SpApiTransport) -> None:
        self.transport = transport

    def get_orders(
        self,
        *,
        marketplace_ids: Sequence[str],
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        last_updated_after: datetime | None = None,
        last_updated_before: datetime | None = None,
        order_statuses: Sequence[str] | None = None,
        fulfillment_channels: Sequence[str] | None = None,
        amazon_order_ids: Sequence[str] | None = None,
        max_results: int = 100,
        next_token: str | None = None,
    ) -> GetOrdersV0Payload:
        """One ``getOrders`` page (``MarketplaceIds`` is required, also with ``NextToken``)."""
        if not marketplace_ids:
            raise ValueError("marketplace_ids is required")
        if not 1 <= max_results <= 100:
            raise ValueError("max_results must be between 1 and 100")
        no_window = (created_after is None) == (last_updated_after is None)
        if next_token is None and not amazon_order_ids and no_window:
            raise ValueError("exactly one of created_after and last_updated_after is required")
        params: dict[str, str | None] = {
            "MarketplaceIds": csv(marketplace_ids),
            "CreatedAfter": optional_time(created_after),
            "CreatedBefore": optional_time(created_before),
            "LastUpdatedAfter": optional_time(last_updated_after),
            "LastUpdatedBefore": optional_time(last_updated_before),
            "OrderStatuses": csv(order_statuses),
            "FulfillmentChannels": csv(fulfillment_channels),
            "AmazonOrderIds": csv(amazon_order_ids),
            "MaxResultsPerPage": str(max_results),
            "NextToken": next_token,
        }
        body = self.transport.call_json("ordersV0.getOrders", params=params)
        return parse(GetOrdersV0Payload, payload(body, "ordersV0.getOrders"), "ordersV0.getOrders")

    def get_order_items(self, order_id: str) -> GetOrderItemsV0Payload:
        """All items of a v0 order, following ``NextToken`` (the result has no token left)."""
        items: list[OrderItemV0] = []
        token: str | None = None
        while True:
            body = self.transport.call_json(
                "ordersV0.getOrderItems",
                path_params={"orderId": order_id},
                params={"NextToken": token},
            )
            page = parse(
                GetOrderItemsV0Payload,
                payload(body, "ordersV0.getOrderItems"),
                "ordersV0.getOrderItems",
            )
            items.extend(page.order_items)
            token = page.next_token
            if not token:
                return page.model_copy(update={"order_items": items, "next_token": None})

    def confirm_shipment(
        self, order_id: str, marketplace_id: str, package_detail: Mapping[str, Any]
    ) -> None:
        """Confirm one package (204). Safe to resend: the same ``packageReferenceId`` edits it."""
        self.transport.call(
            "ordersV0.confirmShipment",
            path_params={"orderId": order_id},
            json={"marketplaceId": marketplace_id, "packageDetail": dict(package_detail)},
        )
