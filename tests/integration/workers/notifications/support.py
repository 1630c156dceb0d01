"""What the notification tests share: a real SQS (moto's server mode on a free loopback port,
boto3 with placeholder credentials), Amazon-shaped notification bodies, and the consumer."""

from __future__ import annotations

import contextlib
import json
import socket
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from infra.amazon.sandbox.server import SandboxHandle
from infra.settings import Settings
from tests.integration.workers.scenarios import on_sandbox

RATE_FACTOR = 50.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def moto_sqs() -> Iterator[str]:
    """An SQS-compatible server on 127.0.0.1; yields its endpoint URL."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def sqs_of(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def new_queue(sqs: Any, visibility_timeout: int = 30) -> str:
    name = f"notifications-{uuid.uuid4().hex[:12]}"
    created = sqs.create_queue(
        QueueName=name, Attributes={"VisibilityTimeout": str(visibility_timeout)}
    )
    return str(created["QueueUrl"])


def notified_settings(
    settings: Settings, sandbox: SandboxHandle, endpoint: str, queue_url: str
) -> Settings:
    return on_sandbox(settings, sandbox, RATE_FACTOR).model_copy(
        update={"sqs_endpoint_url": endpoint, "sqs_queue_url": queue_url}
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def order_change(
    seller_id: str,
    amazon_order_id: str,
    changed_at: datetime,
    *,
    notification_id: str | None = None,
    status: str = "Unshipped",
) -> str:
    """An ORDER_CHANGE body as Amazon sends it (PascalCase envelope)."""
    return json.dumps(
        {
            "NotificationVersion": "1.0",
            "NotificationType": "ORDER_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": _iso(changed_at),
            "Payload": {
                "OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel",
                    "SellerId": seller_id,
                    "AmazonOrderId": amazon_order_id,
                    "OrderChangeType": "OrderStatusChange",
                    "OrderChangeTrigger": {
                        "TimeOfOrderChange": _iso(changed_at),
                        "ChangeReason": "Order status change",
                    },
                    "Summary": {
                        "MarketplaceId": "ATVPDKIKX0DER",
                        "OrderStatus": status,
                        "PurchaseDate": _iso(changed_at),
                        "DestinationPostalCode": "48110",
                        "FulfillmentType": "MFN",
                        "OrderType": "StandardOrder",
                        "OrderItems": [],
                    },
                }
            },
            "NotificationMetadata": {
                "ApplicationId": "amzn1.sellerapps.app.test",
                "SubscriptionId": "subscription-test",
                "PublishTime": _iso(changed_at),
                "NotificationId": notification_id or str(uuid.uuid4()),
            },
        }
    )


def feed_finished(seller_id: str, feed_id: str, moment: datetime) -> str:
    """A FEED_PROCESSING_FINISHED body as Amazon sends it (camelCase envelope)."""
    return json.dumps(
        {
            "notificationVersion": "2020-09-04",
            "notificationType": "FEED_PROCESSING_FINISHED",
            "payloadVersion": "2020-09-04",
            "eventTime": _iso(moment),
            "payload": {
                "feedProcessingFinishedNotification": {
                    "sellerId": seller_id,
                    "accountId": f"amzn1.merchant.o.{seller_id}",
                    "feedId": feed_id,
                    "feedType": "POST_PAYMENT_ADJUSTMENT_DATA",
                    "processingStatus": "DONE",
                    "resultFeedDocumentId": "amzn1.tortuga.3.test",
                }
            },
            "notificationMetadata": {
                "applicationId": "amzn1.sellerapps.app.test",
                "subscriptionId": "subscription-test",
                "publishTime": _iso(moment),
                "notificationId": str(uuid.uuid4()),
            },
        }
    )


def send(sqs: Any, queue_url: str, *bodies: str) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)


def messages_left(sqs: Any, queue_url: str) -> int:
    """Visible and in flight (received, not deleted)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )
