"""Amazon's own examples parse by their type's model; a body of the wrong shape is refused
with a reason naming the field."""

from __future__ import annotations

import json

import pytest

from domain.notifications import FeedFinished, OrderChanged, ReportFinished
from infra.amazon.translate.notifications import MalformedNotification, parse_notification

EXAMPLE = {
    "amazon_order_id": "903-8868176-2219830",
    "seller_id": "A3TH9S8BH6GOGM",
}


def _order_change() -> dict[str, object]:
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": "2020-01-11T00:09:53.109Z",
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": EXAMPLE["seller_id"],
                "AmazonOrderId": EXAMPLE["amazon_order_id"],
                "OrderChangeType": "BuyerRequestedChange",
                "OrderChangeTrigger": {
                    "TimeOfOrderChange": "2022-11-29T19:42:04.284Z",
                    "ChangeReason": "Buyer Requested Cancel",
                },
                "Summary": {"MarketplaceId": "ATVPDKIKX0DER", "OrderStatus": "Unshipped"},
            }
        },
        "NotificationMetadata": {"NotificationId": "d0e9e693"},
    }


def test_an_order_change_parses_from_its_pascal_case_envelope() -> None:
    parsed = parse_notification(json.dumps(_order_change()))
    assert isinstance(parsed, OrderChanged)
    assert (parsed.amazon_order_id, parsed.seller_id) == tuple(EXAMPLE.values())
    assert parsed.changed_at.isoformat() == "2022-11-29T19:42:04.284000+00:00"
    assert parsed.notification_id == "d0e9e693"


def test_feed_and_report_notifications_parse_from_their_camel_case_envelope() -> None:
    body = {
        "notificationType": "FEED_PROCESSING_FINISHED",
        "eventTime": "2020-07-13T19:42:04.284Z",
        "payload": {
            "feedProcessingFinishedNotification": {
                "accountId": "amzn1.merchant.o.A3TH9S8BH6GOGM",
                "feedId": "53347018456",
                "feedType": "POST_PRODUCT_DATA",
                "processingStatus": "DONE",
            }
        },
        "notificationMetadata": {"notificationId": "n-feed"},
    }
    feed = parse_notification(json.dumps(body))
    assert isinstance(feed, FeedFinished) and feed.seller_id == "A3TH9S8BH6GOGM"
    report = json.loads(json.dumps(body).replace("FEED_PROCESSING", "REPORT_PROCESSING"))
    report["payload"] = {
        "reportProcessingFinishedNotification": {
            "sellerId": "S1",
            "accountId": "x",
            "reportId": "1",
            "reportType": "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2",
            "processingStatus": "DONE",
        }
    }
    assert isinstance(parse_notification(json.dumps(report)), ReportFinished)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{", "not JSON"),
        ("[]", "not a JSON object"),
        ('{"NotificationType": "ANY_OFFER_CHANGED"}', "is not one we take"),
        ('{"notificationType": "ORDER_CHANGE"}', "PascalCase"),
    ],
)
def test_a_malformed_body_is_refused_with_its_reason(body: str, reason: str) -> None:
    with pytest.raises(MalformedNotification, match=reason):
        parse_notification(body)


def test_a_missing_field_is_named() -> None:
    broken = _order_change()
    del broken["NotificationMetadata"]
    with pytest.raises(MalformedNotification, match="NotificationMetadata: Field required"):
        parse_notification(json.dumps(broken))
