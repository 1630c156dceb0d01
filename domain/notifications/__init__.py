"""Notifications: Amazon's ORDER_CHANGE, FEED_PROCESSING_FINISHED and REPORT_PROCESSING_FINISHED
taken in once each (``take_in``), and the order refreshes they ask for read with getOrder, or
left to the next sync window when there are more than getOrder's budget serves first
(``refresh_orders``)."""

from domain.notifications.handle import (
    RefreshPolicy,
    refresh_orders,
    refresh_threshold,
    take_in,
)
from domain.notifications.health import healthy
from domain.notifications.model import (
    SETTLEMENT_REPORT_TYPE,
    Effect,
    FeedFinished,
    FetchPayouts,
    NoEffect,
    Notification,
    NotificationType,
    OrderChanged,
    RefreshOrder,
    ReportFinished,
    WakeFeed,
    effect_of,
)
from domain.notifications.ports import (
    ClaimedRefresh,
    Disposition,
    NotificationStore,
    OrderReader,
    OrderUnreadable,
    ReadLater,
    RefreshReport,
    TakenIn,
)

__all__ = [
    "SETTLEMENT_REPORT_TYPE",
    "ClaimedRefresh",
    "Disposition",
    "Effect",
    "FeedFinished",
    "FetchPayouts",
    "NoEffect",
    "Notification",
    "NotificationStore",
    "NotificationType",
    "OrderChanged",
    "OrderReader",
    "OrderUnreadable",
    "ReadLater",
    "RefreshOrder",
    "RefreshPolicy",
    "RefreshReport",
    "ReportFinished",
    "TakenIn",
    "WakeFeed",
    "effect_of",
    "healthy",
    "refresh_orders",
    "refresh_threshold",
    "take_in",
]
