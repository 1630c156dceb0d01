"""The store's counts for Prometheus, read at each scrape by a custom collector."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from infra.db.tables import Order, SetAsideOrder, WebhookDelivery


class StoreCollector(Collector):
    """Orders by status, webhook deliveries not yet delivered, orders set aside and open."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        orders = GaugeMetricFamily(
            "amazon_channel_orders", "Orders in the store", labels=["status"]
        )
        with self.engine.connect() as conn:
            for status, count in conn.execute(
                select(Order.status, func.count()).group_by(Order.status)
            ):
                orders.add_metric([str(status)], count)
            pending = conn.execute(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.state != "delivered")
            ).scalar_one()
            set_aside = conn.execute(
                select(func.count())
                .select_from(SetAsideOrder)
                .where(SetAsideOrder.resolved_at.is_(None))
            ).scalar_one()
        yield orders
        yield GaugeMetricFamily(
            "amazon_channel_webhook_deliveries_pending",
            "Webhook deliveries not yet delivered",
            value=pending,
        )
        yield GaugeMetricFamily(
            "amazon_channel_orders_set_aside", "Orders set aside with a reason", value=set_aside
        )
