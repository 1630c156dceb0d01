"""The store's tables (SQLAlchemy 2 declarative rows); Alembic's migrations match them."""

from infra.db.tables.schema import (
    Base,
    Fulfilment,
    FulfilmentLine,
    IdempotencyKey,
    Order,
    OrderItem,
    OutboxEvent,
    RejectedFulfilment,
    SellerAccount,
    SetAsideOrder,
    ShipByAlert,
    SyncCursor,
    WebhookAttempt,
    WebhookDelivery,
)

__all__ = [
    "Base",
    "Fulfilment",
    "FulfilmentLine",
    "IdempotencyKey",
    "Order",
    "OrderItem",
    "OutboxEvent",
    "RejectedFulfilment",
    "SellerAccount",
    "SetAsideOrder",
    "ShipByAlert",
    "SyncCursor",
    "WebhookAttempt",
    "WebhookDelivery",
]
