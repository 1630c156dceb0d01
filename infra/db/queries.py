"""Where the read views used to live: ``infra.db.orders`` has them now."""

from infra.db.orders import order_detail, recent_orders, set_aside_orders

__all__ = ["order_detail", "recent_orders", "set_aside_orders"]
