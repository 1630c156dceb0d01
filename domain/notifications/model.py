"""Amazon's notifications as the domain sees them: an order changed, a feed or a report finished.

Each carries Amazon's ``NotificationId`` (the key that makes a notification delivered twice one
notification) and the seller it is about. What it means for the store is an ``Effect``
(``effect_of``): an order to read again, a feed submission to move on, a payout fetch to run,
or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The settlement report (one per period): its notification wakes the payout fetch.
SETTLEMENT_REPORT_TYPE = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"


class NotificationType(StrEnum):
    ORDER_CHANGE = "ORDER_CHANGE"
    FEED_PROCESSING_FINISHED = "FEED_PROCESSING_FINISHED"
    REPORT_PROCESSING_FINISHED = "REPORT_PROCESSING_FINISHED"


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """ORDER_CHANGE: no prices and no buyer data, so the order itself is read with getOrder."""

    notification_id: str
    seller_id: str
    amazon_order_id: str
    change_type: str  # OrderStatusChange, BuyerRequestedChange, DeliveryTipChange
    # When the order changed (``TimeOfOrderChange``, else the notification's ``EventTime``).
    changed_at: datetime
    event_time: datetime
    order_status: str | None = None
    marketplace_id: str | None = None

    @property
    def type(self) -> NotificationType:
        return NotificationType.ORDER_CHANGE


@dataclass(frozen=True, slots=True)
class FeedFinished:
    notification_id: str
    seller_id: str | None  # None for a vendor group's feed (``accountId`` only)
    amazon_feed_id: str
    feed_type: str
    processing_status: str
    result_document_id: str | None
    event_time: datetime

    @property
    def type(self) -> NotificationType:
        return NotificationType.FEED_PROCESSING_FINISHED


@dataclass(frozen=True, slots=True)
class ReportFinished:
    notification_id: str
    seller_id: str | None
    amazon_report_id: str
    report_type: str
    processing_status: str
    report_document_id: str | None
    event_time: datetime

    @property
    def type(self) -> NotificationType:
        return NotificationType.REPORT_PROCESSING_FINISHED


Notification = OrderChanged | FeedFinished | ReportFinished


@dataclass(frozen=True, slots=True)
class RefreshOrder:
    """Read the order again (latest wins: one pending refresh per order)."""

    seller_id: str
    amazon_order_id: str
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class WakeFeed:
    """The submission waiting on this feed is due now (its getFeed poll ends the wait)."""

    seller_id: str | None
    amazon_feed_id: str


@dataclass(frozen=True, slots=True)
class FetchPayouts:
    """A settlement report is ready: the seller's payout fetch runs now, not at its next tick."""

    seller_id: str


@dataclass(frozen=True, slots=True)
class NoEffect:
    why: str


Effect = RefreshOrder | WakeFeed | FetchPayouts | NoEffect


def effect_of(notification: Notification) -> Effect:
    """What a notification asks of the store. Every order change is a refresh (a buyer's
    cancellation request and a delivery tip change the order too); every finished feed wakes
    its submission whatever its status (the submission reads the status itself); a report
    wakes the payout fetch only for the settlement report, the one report we wait for."""
    if isinstance(notification, OrderChanged):
        return RefreshOrder(
            notification.seller_id, notification.amazon_order_id, notification.changed_at
        )
    if isinstance(notification, FeedFinished):
        return WakeFeed(notification.seller_id, notification.amazon_feed_id)
    if notification.report_type != SETTLEMENT_REPORT_TYPE:
        return NoEffect(f"report type {notification.report_type} is not one we wait for")
    if notification.seller_id is None:
        return NoEffect("the settlement report names no seller")
    return FetchPayouts(notification.seller_id)
