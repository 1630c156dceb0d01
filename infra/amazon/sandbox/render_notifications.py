"""The notifications Amazon sends, drawn from the sandbox's records: the bodies of
``OrderChangeNotification.json`` (PascalCase envelope), ``FeedProcessingFinishedNotification.json``
and ``ReportProcessingFinishedNotification.json`` (camelCase), each as the SQS message body.

An order change carries no prices and no buyer data (Amazon's does not either): a receiver
reads the order through the Orders API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infra.amazon.sandbox.render import V0_CHANNEL, V0_STATUS
from infra.amazon.sandbox.state.clock import iso
from infra.amazon.sandbox.state.records import SandboxFeed, SandboxOrder
from infra.amazon.sandbox.state.reports import SandboxReport


@dataclass(frozen=True, slots=True)
class Metadata:
    """``NotificationMetadata``: who it is for and which one it is."""

    application_id: str
    subscription_id: str
    notification_id: str
    publish_time: datetime


def account_id(seller_id: str) -> str:
    """The ``accountId`` Amazon puts in feed and report notifications for a seller."""
    return f"amzn1.merchant.o.{seller_id}"


def order_change(
    order: SandboxOrder, change_type: str, reason: str, changed_at: datetime, meta: Metadata
) -> dict[str, Any]:
    """An ``ORDER_CHANGE`` notification for the order as it stands."""
    shipped = sum(i.quantity_shipped for i in order.items)
    unshipped = (
        0 if order.status == "CANCELLED" else sum(max(i.quantity_open, 0) for i in order.items)
    )
    programs = [
        name
        for name, on in (
            ("Business", order.business),
            ("Prime", order.prime),
            ("Replacement", order.replacement_of is not None),
        )
        if on
    ]
    summary: dict[str, Any] = {
        "MarketplaceId": order.marketplace_id,
        "OrderStatus": V0_STATUS[order.status],
        "PurchaseDate": iso(order.created_at),
        "DestinationPostalCode": order.address.get("postalCode") or None,
        "FulfillmentType": V0_CHANNEL[order.fulfilled_by],
        "OrderType": "StandardOrder",
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": unshipped,
        "OrderPrograms": programs,
        "ShippingPrograms": [],
        "OrderItems": [
            {
                "OrderItemId": item.order_item_id,
                "SellerSKU": item.sku,
                "SupplySourceId": None,
                "OrderItemStatus": "Shipped"
                if item.quantity_shipped and item.quantity_open <= 0
                else "Unshipped",
                "Quantity": item.quantity,
                "QuantityShipped": item.quantity_shipped,
                "IsBuyerRequestedCancel": item.cancel_reason is not None,
            }
            for item in order.items
        ],
    }
    if order.fulfilled_by == "MERCHANT" and order.ship_by and order.deliver_by:
        summary["EarliestShipDate"] = iso(order.ship_by[0])
        summary["LatestShipDate"] = iso(order.ship_by[1])
        summary["EarliestDeliveryDate"] = iso(order.deliver_by[0])
        summary["LatestDeliveryDate"] = iso(order.deliver_by[1])
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": iso(meta.publish_time),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": order.seller_id,
                "AmazonOrderId": order.order_id,
                "OrderChangeType": change_type,
                "OrderChangeTrigger": {
                    "TimeOfOrderChange": iso(changed_at),
                    "ChangeReason": reason,
                },
                "Summary": summary,
            }
        },
        "NotificationMetadata": {
            "ApplicationId": meta.application_id,
            "SubscriptionId": meta.subscription_id,
            "PublishTime": iso(meta.publish_time),
            "NotificationId": meta.notification_id,
        },
    }


def _camel_metadata(meta: Metadata) -> dict[str, str]:
    return {
        "applicationId": meta.application_id,
        "subscriptionId": meta.subscription_id,
        "publishTime": iso(meta.publish_time),
        "notificationId": meta.notification_id,
    }


def feed_finished(feed: SandboxFeed, meta: Metadata) -> dict[str, Any]:
    """A ``FEED_PROCESSING_FINISHED`` notification for a feed that is DONE, FATAL or CANCELLED."""
    payload: dict[str, Any] = {
        "sellerId": feed.seller_id,
        "accountId": account_id(feed.seller_id),
        "feedId": feed.feed_id,
        "feedType": feed.feed_type,
        "processingStatus": feed.status,
    }
    if feed.result_document_id:
        payload["resultFeedDocumentId"] = feed.result_document_id
    return {
        "notificationVersion": "2020-09-04",
        "notificationType": "FEED_PROCESSING_FINISHED",
        "payloadVersion": "2020-09-04",
        "eventTime": iso(meta.publish_time),
        "payload": {"feedProcessingFinishedNotification": payload},
        "notificationMetadata": _camel_metadata(meta),
    }


def report_finished(report: SandboxReport, meta: Metadata) -> dict[str, Any]:
    """A ``REPORT_PROCESSING_FINISHED`` notification for a finished report."""
    payload: dict[str, Any] = {
        "sellerId": report.seller_id,
        "accountId": account_id(report.seller_id),
        "reportId": report.report_id,
        "reportType": report.report_type,
        "processingStatus": report.processing_status,
    }
    if report.document_id:
        payload["reportDocumentId"] = report.document_id
    return {
        "notificationVersion": "2020-09-04",
        "notificationType": "REPORT_PROCESSING_FINISHED",
        "payloadVersion": "2020-09-04",
        "eventTime": iso(meta.publish_time),
        "payload": {"reportProcessingFinishedNotification": payload},
        "notificationMetadata": _camel_metadata(meta),
    }
