"""The store's tables (SQLAlchemy 2 declarative rows), one module per feature; Alembic's
migrations match them (``alembic check`` keeps them equal).

Unique business keys carry the idempotency: orders per (account, Amazon order id), items per
(order, order item id), events per event id, deliveries per (event, subscriber), API requests per
(scope, idempotency key). Money is NUMERIC plus a currency column; times are timestamptz (UTC).
Every module is imported here, so ``Base.metadata`` holds every table.
"""

from infra.db.tables.accounts import SellerAccount, reaches_amazon
from infra.db.tables.base import Base
from infra.db.tables.calls import SpApiCall
from infra.db.tables.failures import DeadLetter
from infra.db.tables.feeds import FeedSubmission
from infra.db.tables.fulfilments import Fulfilment, FulfilmentLine, RejectedFulfilment, ShipByAlert
from infra.db.tables.ingestion import SetAsideOrder, SyncCursor
from infra.db.tables.keys import IdempotencyKey
from infra.db.tables.notifications import NotificationReceived, OrderRefresh, OrderSighting
from infra.db.tables.orders import Order, OrderItem
from infra.db.tables.outbox import OutboxEvent, WebhookAttempt, WebhookDelivery
from infra.db.tables.payouts import (
    OpenBalance,
    Settlement,
    SettlementLineRow,
    SettlementSetAside,
)
from infra.db.tables.refunds import FinanceCursor, Refund, RefundLine, RejectedRefund
from infra.db.tables.tokens import ApiToken

__all__ = [
    "ApiToken",
    "Base",
    "DeadLetter",
    "FeedSubmission",
    "FinanceCursor",
    "Fulfilment",
    "FulfilmentLine",
    "IdempotencyKey",
    "NotificationReceived",
    "OpenBalance",
    "Order",
    "OrderItem",
    "OrderRefresh",
    "OrderSighting",
    "OutboxEvent",
    "Refund",
    "RefundLine",
    "RejectedFulfilment",
    "RejectedRefund",
    "SellerAccount",
    "SetAsideOrder",
    "Settlement",
    "SettlementLineRow",
    "SettlementSetAside",
    "ShipByAlert",
    "SpApiCall",
    "SyncCursor",
    "WebhookAttempt",
    "WebhookDelivery",
    "reaches_amazon",
]
