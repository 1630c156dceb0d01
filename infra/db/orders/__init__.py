"""Read views of orders for the CLI and the web process (the sync writes them: ``ingestion``)."""

from infra.db.orders.views import order_detail, recent_orders, set_aside_orders

__all__ = ["order_detail", "recent_orders", "set_aside_orders"]
