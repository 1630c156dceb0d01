"""The SP-API operations the sandbox serves, one handler per model operation key.

``SERVED_OPERATIONS`` is the registry: ``app`` mounts each handler at the method and path of
Amazon's model for that key (so a route cannot drift from Amazon's), and the conformance tests
require a case for every key in it. To serve a new operation, write a handler in the module of
its API family and add it to the registry. The handlers are thin: Amazon's rules are in
``rules`` and ``feeds``, which refuse with ``SandboxError`` (turned into ``ApiError`` by
``call.refusals``). Login with Amazon is ``lwa``, mounted apart (it is not an SP-API operation).
"""

from infra.amazon.sandbox.errors import ApiError, error_body, invalid
from infra.amazon.sandbox.operations.call import Call, Handler, not_found
from infra.amazon.sandbox.operations.feeds import (
    cancel_feed,
    create_feed,
    create_feed_document,
    get_feed,
    get_feed_document,
    get_feeds,
)
from infra.amazon.sandbox.operations.finances import (
    list_financial_event_groups,
    list_financial_events,
    list_financial_events_by_group_id,
    list_financial_events_by_order_id,
)
from infra.amazon.sandbox.operations.lwa import LWA_TOKEN_PATH, lwa_token
from infra.amazon.sandbox.operations.notifications import (
    GRANTLESS_OPERATIONS,
    NOTIFICATIONS_SCOPE,
    create_destination,
    create_subscription,
    delete_destination,
    delete_subscription_by_id,
    get_destination,
    get_destinations,
    get_subscription,
    get_subscription_by_id,
    get_subscriptions,
)
from infra.amazon.sandbox.operations.orders import get_order, search_orders
from infra.amazon.sandbox.operations.orders_v0 import (
    get_order_items_v0,
    get_order_v0,
    get_orders_v0,
)
from infra.amazon.sandbox.operations.reports import (
    create_report,
    get_report,
    get_report_document,
    get_reports,
)
from infra.amazon.sandbox.operations.shipments import confirm_shipment, parse_confirm_shipment
from infra.amazon.sandbox.rules.pagination import OrderQuery
from infra.amazon.sandbox.rules.query import MAX_LIST, MAX_PAGE, ORDER_ID, listed
from infra.amazon.sandbox.rules.window import WINDOW_2026, WINDOW_V0, WindowNames, parse_window

SERVED_OPERATIONS: dict[str, Handler] = {
    "orders2026.searchOrders": search_orders,
    "orders2026.getOrder": get_order,
    "ordersV0.getOrders": get_orders_v0,
    "ordersV0.getOrder": get_order_v0,
    "ordersV0.getOrderItems": get_order_items_v0,
    "ordersV0.confirmShipment": confirm_shipment,
    "feeds.createFeedDocument": create_feed_document,
    "feeds.createFeed": create_feed,
    "feeds.getFeed": get_feed,
    "feeds.getFeeds": get_feeds,
    "feeds.cancelFeed": cancel_feed,
    "feeds.getFeedDocument": get_feed_document,
    "financesV0.listFinancialEventGroups": list_financial_event_groups,
    "financesV0.listFinancialEvents": list_financial_events,
    "financesV0.listFinancialEventsByOrderId": list_financial_events_by_order_id,
    "financesV0.listFinancialEventsByGroupId": list_financial_events_by_group_id,
    "reports.getReports": get_reports,
    "reports.getReport": get_report,
    "reports.getReportDocument": get_report_document,
    "reports.createReport": create_report,
    "notifications.createDestination": create_destination,
    "notifications.getDestinations": get_destinations,
    "notifications.getDestination": get_destination,
    "notifications.deleteDestination": delete_destination,
    "notifications.createSubscription": create_subscription,
    "notifications.getSubscription": get_subscription,
    "notifications.getSubscriptions": get_subscriptions,
    "notifications.getSubscriptionById": get_subscription_by_id,
    "notifications.deleteSubscriptionById": delete_subscription_by_id,
}

__all__ = [
    "GRANTLESS_OPERATIONS",
    "LWA_TOKEN_PATH",
    "MAX_LIST",
    "MAX_PAGE",
    "NOTIFICATIONS_SCOPE",
    "ORDER_ID",
    "SERVED_OPERATIONS",
    "WINDOW_2026",
    "WINDOW_V0",
    "ApiError",
    "Call",
    "Handler",
    "OrderQuery",
    "WindowNames",
    "cancel_feed",
    "confirm_shipment",
    "create_feed",
    "create_feed_document",
    "create_report",
    "error_body",
    "get_feed",
    "get_feed_document",
    "get_feeds",
    "get_order",
    "get_order_items_v0",
    "get_order_v0",
    "get_orders_v0",
    "get_report",
    "get_report_document",
    "get_reports",
    "invalid",
    "list_financial_event_groups",
    "list_financial_events",
    "list_financial_events_by_group_id",
    "list_financial_events_by_order_id",
    "listed",
    "lwa_token",
    "not_found",
    "parse_confirm_shipment",
    "parse_window",
    "search_orders",
]
