"""The cases of every served operation: each a request and the status it must answer with."""

from __future__ import annotations

from infra.amazon.sandbox.render import INCLUDED_DATA
from tests.integration.infra.amazon.sandbox.conformance.finance_requests import (
    ago,
    finances,
    group_events,
    order_events,
    second_page,
)
from tests.integration.infra.amazon.sandbox.conformance.notification_requests import (
    NOTIFICATION_CASES,
)
from tests.integration.infra.amazon.sandbox.conformance.report_requests import REPORT_CASES
from tests.integration.infra.amazon.sandbox.conformance.world import (
    ALL_DATA,
    EPOCH,
    XML,
    Case,
    cancel_feed,
    confirm,
    confirm_on,
    create_document,
    create_feed,
    drop,
    feed_document_of,
    get_feed,
    get_feeds,
    get_feeds_page_two,
    get_order,
    get_orders_v0,
    get_orders_v0_page_two,
    processed,
    result_document,
    search,
    search_page_two,
    set_detail,
    submit,
    too_many,
    unauthenticated,
    v0_order,
    with_fault,
)

KINDS = (
    "mfn_unshipped",
    "pending",
    "shipped_multi",
    "partial",
    "cancelled",
    "afn_prime",
    "business_uk",
    "replacement_de",
    "no_buyer",
    "cancel_requested",
    "confirmed",
    "seller_cancelled",
)
UNKNOWN_ORDER = "999-9999999-9999999"
EVENTS = "financialEvents"
GROUPS = "financialEventGroups"
DAY = ago(days=1)
CASES: dict[str, list[Case]] = {
    "orders2026.searchOrders": [
        Case("no includedData", 200, search(lastUpdatedAfter=EPOCH)),
        Case("all includedData", 200, search(lastUpdatedAfter=EPOCH, includedData=ALL_DATA)),
        *(
            Case(f"includedData {d}", 200, search(createdAfter=EPOCH, includedData=d))
            for d in INCLUDED_DATA
        ),
        Case(
            "filters",
            200,
            search(
                lastUpdatedAfter=EPOCH,
                fulfillmentStatuses="UNSHIPPED,SHIPPED",
                marketplaceIds="ATVPDKIKX0DER",
                fulfilledBy="MERCHANT",
                includedData=ALL_DATA,
            ),
        ),
        Case("second page", 200, search_page_two),
        Case("no after", 400, search(includedData="BUYER")),
        Case("mixed pairs", 400, search(createdAfter=EPOCH, lastUpdatedBefore=EPOCH)),
        Case("page size", 400, search(lastUpdatedAfter=EPOCH, maxResultsPerPage=101)),
        Case("bad token", 400, search(paginationToken="nonsense")),
        Case("bad includedData", 400, search(lastUpdatedAfter=EPOCH, includedData="NOPE")),
        Case("bad token header", 403, unauthenticated(search(lastUpdatedAfter=EPOCH))),
        Case(
            "429 fault",
            429,
            with_fault("orders2026.searchOrders", "429", search(lastUpdatedAfter=EPOCH)),
        ),
        Case(
            "500 fault",
            500,
            with_fault("orders2026.searchOrders", "500", search(lastUpdatedAfter=EPOCH)),
        ),
        Case(
            "503 fault",
            503,
            with_fault("orders2026.searchOrders", "503", search(lastUpdatedAfter=EPOCH)),
        ),
    ],
    "orders2026.getOrder": [
        *(Case(kind, 200, get_order(kind)) for kind in KINDS),
        Case("no includedData", 200, get_order("shipped_multi", included="")),
        Case("malformed id", 400, get_order(None, order_id="TEST_CASE_400")),
        Case("unknown", 404, get_order(None, order_id=UNKNOWN_ORDER)),
        Case("bad token header", 403, unauthenticated(get_order("pending"))),
    ],
    "ordersV0.getOrders": [
        Case(
            "updated",
            200,
            get_orders_v0(
                LastUpdatedAfter=EPOCH, MarketplaceIds="ATVPDKIKX0DER,A1F83G8C2ARO7P,A1PA6795UKMFR9"
            ),
        ),
        Case(
            "created, filtered",
            200,
            get_orders_v0(
                CreatedAfter=EPOCH,
                MarketplaceIds="ATVPDKIKX0DER",
                OrderStatuses="Unshipped,PartiallyShipped",
                FulfillmentChannels="MFN",
            ),
        ),
        Case("second page", 200, get_orders_v0_page_two),
        Case("no marketplaces", 400, get_orders_v0(CreatedAfter=EPOCH)),
        Case("no after", 400, get_orders_v0(MarketplaceIds="ATVPDKIKX0DER")),
        Case(
            "bad status",
            400,
            get_orders_v0(CreatedAfter=EPOCH, MarketplaceIds="ATVPDKIKX0DER", OrderStatuses="Lost"),
        ),
        Case("bad token header", 403, unauthenticated(get_orders_v0(CreatedAfter=EPOCH))),
        Case(
            "503 fault",
            503,
            with_fault("ordersV0.getOrders", "503", get_orders_v0(CreatedAfter=EPOCH)),
        ),
    ],
    "ordersV0.getOrder": [
        *(Case(kind, 200, v0_order(kind)) for kind in KINDS),
        Case("malformed id", 400, v0_order(None, order_id="TEST_CASE_400")),
        Case("unknown", 404, v0_order(None, order_id=UNKNOWN_ORDER)),
        Case("bad token header", 403, unauthenticated(v0_order("pending"))),
    ],
    "ordersV0.getOrderItems": [
        *(Case(kind, 200, v0_order(kind, "/orderItems")) for kind in KINDS),
        Case("unknown", 404, v0_order(None, "/orderItems", order_id=UNKNOWN_ORDER)),
        Case(
            "500 fault",
            500,
            with_fault("ordersV0.getOrderItems", "500", v0_order("pending", "/orderItems")),
        ),
    ],
    "ordersV0.confirmShipment": [
        Case("new package", 204, confirm()),
        Case("the same package again (an edit)", 204, confirm(twice=True)),
        Case(
            "carrier Other with a name",
            204,
            confirm(
                edit=lambda b: b["packageDetail"].update(carrierCode="Other", carrierName="Acme")
            ),
        ),
        Case("shipDate not ISO 8601", 400, confirm(edit=set_detail(shipDate="02/21/2022"))),
        Case("no packageDetail", 400, confirm(edit=drop("packageDetail"))),
        Case("no carrierCode", 400, confirm(edit=drop("carrierCode"))),
        Case(
            "packageReferenceId not numeric", 400, confirm(edit=set_detail(packageReferenceId="A"))
        ),
        Case("more than ordered", 400, confirm(edit=too_many)),
        Case("Amazon-fulfilled order", 400, confirm("afn_prime")),
        Case("cancelled order", 400, confirm("cancelled")),
        Case("pending order", 400, confirm("pending")),
        Case("malformed id", 400, confirm_on("TEST_CASE_400")),
        Case("unknown", 404, confirm_on("999-9999999-9999999")),
        Case("bad token header", 403, unauthenticated(confirm())),
        Case("429 fault", 429, with_fault("ordersV0.confirmShipment", "429", confirm())),
        Case("500 fault", 500, with_fault("ordersV0.confirmShipment", "500", confirm())),
    ],
    "feeds.createFeedDocument": [
        Case("xml", 201, create_document({"contentType": XML})),
        Case(
            "flat file",
            201,
            create_document({"contentType": "text/tab-separated-values; charset=UTF-8"}),
        ),
        Case("no contentType", 400, create_document({})),
        Case("bad token header", 403, unauthenticated(create_document({"contentType": XML}))),
        Case(
            "503 fault",
            503,
            with_fault("feeds.createFeedDocument", "503", create_document({"contentType": XML})),
        ),
    ],
    "feeds.createFeed": [
        Case("uploaded document", 202, create_feed()),
        Case("unknown document", 400, create_feed(inputFeedDocumentId="badDocumentId")),
        Case("no feedType", 400, create_feed(feedType=None)),
        Case("foreign marketplace", 400, create_feed(marketplaceIds=["A1VC38T7YXB528"])),
        Case(
            "bad token header",
            403,
            unauthenticated(create_feed(inputFeedDocumentId="badDocumentId")),
        ),
        Case("429 fault", 429, with_fault("feeds.createFeed", "429", create_feed())),
    ],
    "feeds.getFeed": [
        Case("in queue", 200, get_feed(submit)),
        Case("done", 200, get_feed(processed)),
        Case("fatal", 200, get_feed(lambda w: processed(w, feed_type="POST_PRODUCT_DATA"))),
        Case(
            "done, not XML",
            200,
            get_feed(lambda w: processed(w, content=b"this is not XML")),
        ),
        Case("malformed id", 400, get_feed(lambda w: "badFeedId1")),
        Case("unknown", 404, get_feed(lambda w: "99999999999")),
        Case("500 fault", 500, with_fault("feeds.getFeed", "500", get_feed(submit))),
    ],
    "feeds.getFeeds": [
        Case(
            "by type and status",
            200,
            get_feeds(
                feedTypes="POST_ORDER_ACKNOWLEDGEMENT_DATA,POST_ORDER_FULFILLMENT_DATA",
                processingStatuses="IN_QUEUE,DONE,FATAL",
                marketplaceIds="ATVPDKIKX0DER",
                createdSince=EPOCH,
                pageSize=100,
            ),
        ),
        Case("second page", 200, get_feeds_page_two),
        Case("no feedTypes", 400, get_feeds(pageSize=10)),
        Case(
            "nextToken with others",
            400,
            get_feeds(nextToken="x", feedTypes="POST_ORDER_FULFILLMENT_DATA"),
        ),
        Case(
            "bad status",
            400,
            get_feeds(feedTypes="POST_PRODUCT_DATA", processingStatuses="BAD_VALUE,DONE"),
        ),
        Case(
            "429 fault",
            429,
            with_fault("feeds.getFeeds", "429", get_feeds(feedTypes="POST_PRODUCT_DATA")),
        ),
    ],
    "feeds.cancelFeed": [
        Case("in queue", 200, cancel_feed(submit)),
        Case("already done", 400, cancel_feed(processed)),
        Case("unknown", 404, cancel_feed(lambda w: "99999999999")),
        Case(
            "bad token header",
            403,
            unauthenticated(cancel_feed(lambda w: "50001000001")),
        ),
    ],
    "feeds.getFeedDocument": [
        Case("result document", 200, result_document()),
        Case("gzipped result document", 200, result_document(gzipped=True)),
        Case(
            "gzipped, content encoding on the URL",
            200,
            result_document(gzipped=True, enableContentEncodingUrlHeader="true"),
        ),
        Case("unknown", 404, feed_document_of("badDocumentId1")),
        Case(
            "bad flag",
            400,
            result_document(enableContentEncodingUrlHeader="maybe"),
        ),
        Case(
            "503 fault",
            503,
            with_fault("feeds.getFeedDocument", "503", feed_document_of("badDocumentId1")),
        ),
    ],
    "financesV0.listFinancialEvents": [
        Case("shipments and refunds", 200, finances(EVENTS, PostedAfter=DAY)),
        Case(
            "a closed window",
            200,
            finances(EVENTS, PostedAfter=DAY, PostedBefore=ago(minutes=3), MaxResultsPerPage=5),
        ),
        Case(
            "second page",
            200,
            second_page(finances(EVENTS, PostedAfter=DAY, MaxResultsPerPage=1), EVENTS),
        ),
        Case(
            "second page, the same arguments again",
            200,
            second_page(
                finances(EVENTS, PostedAfter=ago(days=2), MaxResultsPerPage=2),
                EVENTS,
                PostedAfter=ago(days=2),
                MaxResultsPerPage=2,
            ),
        ),
        Case("more than 180 days apart: empty", 200, finances(EVENTS, PostedAfter=ago(days=181))),
        Case("no PostedAfter", 400, finances(EVENTS, MaxResultsPerPage=10)),
        Case("PostedBefore alone", 400, finances(EVENTS, PostedBefore=DAY)),
        Case(
            "PostedBefore not later",
            400,
            finances(EVENTS, PostedAfter=DAY, PostedBefore=ago(days=2)),
        ),
        Case("PostedAfter within two minutes", 400, finances(EVENTS, PostedAfter=ago(seconds=30))),
        Case(
            "PostedBefore within two minutes",
            400,
            finances(EVENTS, PostedAfter=DAY, PostedBefore=ago(seconds=30)),
        ),
        Case("page size 0", 400, finances(EVENTS, PostedAfter=DAY, MaxResultsPerPage=0)),
        Case("page size 101", 400, finances(EVENTS, PostedAfter=DAY, MaxResultsPerPage=101)),
        Case("not a date", 400, finances(EVENTS, PostedAfter="last week")),
        Case("bad token", 400, finances(EVENTS, NextToken="nonsense")),
        Case("bad token header", 403, unauthenticated(finances(EVENTS, PostedAfter=DAY))),
        Case(
            "429 fault",
            429,
            with_fault("financesV0.listFinancialEvents", "429", finances(EVENTS, PostedAfter=DAY)),
        ),
        Case(
            "503 fault",
            503,
            with_fault("financesV0.listFinancialEvents", "503", finances(EVENTS, PostedAfter=DAY)),
        ),
    ],
    "financesV0.listFinancialEventsByOrderId": [
        Case("shipped and refunded", 200, finances(order_events("shipped_multi"))),
        Case("confirmed in part", 200, finances(order_events("confirmed"))),
        Case("fulfilled by Amazon", 200, finances(order_events("afn_prime"))),
        Case("refunded in another currency", 200, finances(order_events("refunded_uk"))),
        Case("nothing shipped", 200, finances(order_events("mfn_unshipped"))),
        Case("unknown order: empty", 200, finances(order_events(None, UNKNOWN_ORDER))),
        Case(
            "second page",
            200,
            second_page(
                finances(order_events("shipped_multi"), MaxResultsPerPage=1),
                order_events("shipped_multi"),
            ),
        ),
        Case("malformed id", 400, finances(order_events(None, "TEST_CASE_400"))),
        Case("page size", 400, finances(order_events("shipped_multi"), MaxResultsPerPage=101)),
        Case("bad token header", 403, unauthenticated(finances(order_events("shipped_multi")))),
        Case(
            "500 fault",
            500,
            with_fault(
                "financesV0.listFinancialEventsByOrderId",
                "500",
                finances(order_events("shipped_multi")),
            ),
        ),
    ],
    "financesV0.listFinancialEventsByGroupId": [
        Case("the open group", 200, finances(group_events())),
        Case("the open group, a window", 200, finances(group_events(), PostedAfter=DAY)),
        Case("the open group of GBP", 200, finances(group_events("GBP"))),
        Case(
            "second page",
            200,
            second_page(finances(group_events(), MaxResultsPerPage=2), group_events()),
        ),
        Case("unknown group", 400, finances(f"{GROUPS}/BADID/{EVENTS}")),
        Case("PostedBefore alone", 400, finances(group_events(), PostedBefore=DAY)),
        Case("bad token header", 403, unauthenticated(finances(group_events()))),
        Case(
            "503 fault",
            503,
            with_fault("financesV0.listFinancialEventsByGroupId", "503", finances(group_events())),
        ),
    ],
    "financesV0.listFinancialEventGroups": [
        Case("open groups", 200, finances(GROUPS, FinancialEventGroupStartedAfter=ago(days=30))),
        Case(
            "second page",
            200,
            second_page(
                finances(GROUPS, FinancialEventGroupStartedAfter=ago(days=30), MaxResultsPerPage=1),
                GROUPS,
            ),
        ),
        Case(
            "more than 180 days apart: empty",
            200,
            finances(GROUPS, FinancialEventGroupStartedAfter=ago(days=200)),
        ),
        Case("no StartedAfter", 400, finances(GROUPS, MaxResultsPerPage=10)),
        Case(
            "StartedBefore not later",
            400,
            finances(
                GROUPS,
                FinancialEventGroupStartedAfter=ago(days=3),
                FinancialEventGroupStartedBefore=ago(days=4),
            ),
        ),
        Case(
            "StartedAfter within two minutes",
            400,
            finances(GROUPS, FinancialEventGroupStartedAfter=ago(seconds=10)),
        ),
        Case(
            "page size",
            400,
            finances(GROUPS, FinancialEventGroupStartedAfter=DAY, MaxResultsPerPage=0),
        ),
        Case(
            "bad token header",
            403,
            unauthenticated(finances(GROUPS, FinancialEventGroupStartedAfter=DAY)),
        ),
        Case(
            "429 fault",
            429,
            with_fault(
                "financesV0.listFinancialEventGroups",
                "429",
                finances(GROUPS, FinancialEventGroupStartedAfter=DAY),
            ),
        ),
    ],
    **REPORT_CASES,
    **NOTIFICATION_CASES,
}
