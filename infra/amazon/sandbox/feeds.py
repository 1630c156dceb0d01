"""The Feeds API 2021-06-30 in the sandbox, and what the three XML order feeds do to orders.

The SP-API handlers (``operations``) call the functions here under ``state.lock``; refusals are
``SandboxError`` (400, or 404 for an unknown feed or document), which the handlers turn into
Amazon's ``errors`` body. The presigned URLs are served by the control API (``control``):

- ``createFeedDocument`` gives ``{base}/_sandbox/uploads/{feedDocumentId}?expires=<epoch>``; a
  plain PUT there (no SP-API token, no rate bucket) stores the document. Its Content-Type must
  equal the declared ``contentType`` (case and blanks aside), else 400; after five minutes of
  sandbox time the URL answers 403, as S3 does. A document can be used for two days.
- ``getFeedDocument`` gives ``{base}/_sandbox/downloads/{feedDocumentId}?expires=<epoch>`` (also
  for input documents). Reports are stored gzipped, with ``compressionAlgorithm: GZIP``, while
  ``state.gzip_feed_results`` is on (``POST /_sandbox/feed-settings``); with
  ``enableContentEncodingUrlHeader=true`` that URL answers ``Content-Encoding: gzip`` instead.

Status progression, deterministic: a feed moves IN_QUEUE -> IN_PROGRESS -> DONE (or FATAL) by
whichever comes first of (a) getFeed calls: the first shows IN_QUEUE, the second IN_PROGRESS,
the third the outcome; (b) sandbox time: IN_PROGRESS from 30 s after creation, finished from
60 s (``POST /_sandbox/clock/advance``). Reads (getFeeds, cancelFeed, the control views) apply
rule (b) only; ``POST /_sandbox/feeds/{feedId}/process`` finishes a feed at once. The document
is applied to orders at the moment the feed finishes, never before. Only an IN_QUEUE feed can
be cancelled, and a cancelled feed applies nothing.

FATAL: a feed type other than the three below, or an input document never uploaded. The feed
still gets a result document: a report with one error for the whole document.

Parse rules: UTF-8 XML, no DOCTYPE (refused: Amazon feeds carry none, and it shuts the door on
entity tricks), no namespaces expected (any are ignored by matching local names). The envelope
needs ``Header/MerchantIdentifier``, a ``MessageType`` matching the feed type
(``OrderFulfillment``, ``OrderAcknowledgement``, ``OrderAdjustment``) and at least one
``Message``. A document that is not well-formed XML, or whose envelope is wrong, is DONE (as
Amazon does) with a report of zero messages processed and one ``Result`` for ``MessageID`` 0:
ResultMessageCode 5000 (not XML) or 5001 (not the envelope). Each ``Message`` needs a unique
positive ``MessageID``, an optional ``OperationType`` of ``Update`` and the element named by
``MessageType``. Unknown elements are ignored. Only Amazon's ids are supported
(``AmazonOrderID``, ``AmazonOrderItemCode``); ``MerchantOrderID`` / ``MerchantOrderItemID`` are
a message error. Messages are applied in document order, each wholly or not at all.

- POST_ORDER_FULFILLMENT_DATA: each message is one package, checked and applied exactly like
  ``confirmShipment`` (``shipments``), with ``MerchantFulfillmentID`` as the package reference
  (a resend edits the package; without it a new package gets the next free number).
  ``FulfillmentData`` needs ``CarrierCode`` or ``CarrierName`` (alone it means ``Other``);
  ``ShipperTrackingNumber`` is optional as in the XSD. No ``Item``: every unshipped unit; an
  ``Item`` without ``Quantity``: every unshipped unit of that item.
- POST_ORDER_ACKNOWLEDGEMENT_DATA: ``StatusCode`` ``Success`` changes nothing; ``Failure``
  cancels the whole order (no ``Item``; refused once anything shipped) or the unshipped units
  of the listed items, with their ``CancelReason`` (none given: GeneralAdjustment is recorded).
  Cancelling what is already cancelled is a warning, not an error, so a resent feed is harmless.
- POST_PAYMENT_ADJUSTMENT_DATA: each ``AdjustedItem`` (``AmazonOrderItemCode``,
  ``AdjustmentReason``, ``ItemPriceAdjustments/Component{Type, Amount currency}``, optional
  ``QuantityCancelled`` and ``MerchantAdjustmentItemID``) is recorded on the item
  (``SandboxItem.adjustments``). Refused: a pending order; an unknown item; a missing or
  unknown reason or type; another currency; a negative amount other than ``RestockingFee``; a
  refund of Principal, Shipping, Tax or ShippingTax beyond what was charged for it less what
  was refunded before (so a second full refund fails); more credited in all than the line's
  total; more units cancelled than remain unshipped.

The report (the result document, ``text/xml; charset=UTF-8``) is Amazon's ProcessingReport:
``DocumentTransactionID`` = feedId, ``StatusCode`` Complete, ``ProcessingSummary`` counts
(warnings count as successful too), and one ``Result`` per failed or warned message with the
MessageID echoed, ``ResultCode`` Error|Warning, ``ResultMessageCode``, ``ResultDescription``
and ``AdditionalInfo/AmazonOrderID`` when known. ResultMessageCodes: 5000 and 5001 as Amazon
uses them for XML and schema errors; the others are the sandbox's own (Amazon's numbers are not
documented): 18000 order not found, 18001 the order's state refuses the message, 18002 a value
is invalid for the order, 18003 nothing left to do (a warning), 90000 unsupported feed (FATAL).
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import QueryParams

from infra.amazon.sandbox.render import shipping_tax
from infra.amazon.sandbox.shipments import (
    PackageConfirmation,
    ShipmentRefused,
    check_package_reference_id,
    confirm_package,
    next_package_reference_id,
    parse_ship_date,
)
from infra.amazon.sandbox.state import (
    FEED_PROCESSING_STATUSES,
    FeedResult,
    SandboxAdjustment,
    SandboxError,
    SandboxFeed,
    SandboxFeedDocument,
    SandboxItem,
    SandboxOrder,
    SandboxState,
    iso,
    parse_iso,
    settle_fulfillment,
    whole_seconds,
)

# Feed type -> the MessageType its document must carry.
FEED_MESSAGE_TYPES = {
    "POST_ORDER_FULFILLMENT_DATA": "OrderFulfillment",
    "POST_ORDER_ACKNOWLEDGEMENT_DATA": "OrderAcknowledgement",
    "POST_PAYMENT_ADJUSTMENT_DATA": "OrderAdjustment",
}
FEED_STEP = timedelta(seconds=30)  # sandbox time per status step (module docstring)
UPLOAD_URL_LIFETIME = timedelta(minutes=5)
DOWNLOAD_URL_LIFETIME = timedelta(minutes=5)
DOCUMENT_LIFETIME = timedelta(days=2)
FEED_RETENTION = timedelta(days=90)
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_MARKETPLACES = 25
REPORT_CONTENT_TYPE = "text/xml; charset=UTF-8"
FEED_ID = re.compile(r"^[0-9]{1,20}$")

CODE_XML = 5000
CODE_SCHEMA = 5001
CODE_ORDER_NOT_FOUND = 18000
CODE_ORDER_STATE = 18001
CODE_INVALID = 18002
CODE_NOTHING_TO_DO = 18003
CODE_UNSUPPORTED = 90000

CANCEL_REASONS = (
    "NoInventory",
    "ShippingAddressUndeliverable",
    "CustomerExchange",
    "BuyerCanceled",
    "GeneralAdjustment",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "CustomerReturn",
    "MerchandiseNotReceived",
)
ADJUSTMENT_REASONS = (
    "NoInventory",
    "CustomerReturn",
    "GeneralAdjustment",
    "CouldNotShip",
    "DifferentItem",
    "Abandoned",
    "CustomerCancel",
    "PriceError",
    "ProductOutofStock",
    "CustomerAddressIncorrect",
    "Exchange",
    "Other",
    "CarrierCreditDecision",
    "RiskAssessmentInformationNotValid",
    "CarrierCoverageFailure",
    "TransactionRecord",
    "Undeliverable",
    "RefusedDelivery",
    "BuyerCanceled",
)
# Components refunded against a charge of their own; the rest only against the line's total.
CHARGED_COMPONENTS = ("Principal", "Shipping", "Tax", "ShippingTax", "GiftWrap", "GiftWrapTax")
COMPONENT_TYPES = (*CHARGED_COMPONENTS, "RestockingFee", "ReturnShipping", "Goodwill", "Other")


# -- the API -----------------------------------------------------------------------------------


def _normal_content_type(value: str) -> str:
    return re.sub(r"\s+", "", value).lower()


def _url(base_url: str, kind: str, document_id: str, expires: datetime, extra: str = "") -> str:
    return f"{base_url}/_sandbox/{kind}/{document_id}?expires={int(expires.timestamp())}{extra}"


def create_feed_document(
    state: SandboxState, seller_id: str, body: Any, base_url: str
) -> dict[str, Any]:
    """``createFeedDocument``: reserve a document and hand out its upload URL."""
    if not isinstance(body, dict):
        raise SandboxError("The request body must be a CreateFeedDocumentSpecification object")
    content_type = body.get("contentType")
    if not isinstance(content_type, str) or not content_type.strip():
        raise SandboxError("contentType is required")
    now = state.now()
    document = SandboxFeedDocument(
        document_id=state.new_document_id(),
        seller_id=seller_id,
        content_type=content_type.strip(),
        created_at=whole_seconds(now),
    )
    state.add_feed_document(document)
    return {
        "feedDocumentId": document.document_id,
        "url": _url(base_url, "uploads", document.document_id, now + UPLOAD_URL_LIFETIME),
    }


def create_feed(state: SandboxState, seller_id: str, body: Any) -> dict[str, Any]:
    """``createFeed``: queue a feed over an uploaded document (its content is taken now)."""
    if not isinstance(body, dict):
        raise SandboxError("The request body must be a CreateFeedSpecification object")
    feed_type = body.get("feedType")
    if not isinstance(feed_type, str) or not feed_type.strip():
        raise SandboxError("feedType is required")
    marketplace_ids = body.get("marketplaceIds")
    if not isinstance(marketplace_ids, list) or not marketplace_ids:
        raise SandboxError("marketplaceIds is required (a list of 1 to 25 marketplace ids)")
    if len(marketplace_ids) > MAX_MARKETPLACES:
        raise SandboxError(f"marketplaceIds accepts at most {MAX_MARKETPLACES} values")
    seller = state.seller(seller_id)
    for marketplace_id in marketplace_ids:
        if marketplace_id not in seller.marketplace_ids:
            raise SandboxError(
                f"marketplaceIds: {marketplace_id!r} is not a marketplace of this seller"
            )
    options = body.get("feedOptions", {})
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise SandboxError("feedOptions must be an object of string values")
    document_id = body.get("inputFeedDocumentId")
    if not isinstance(document_id, str) or not document_id:
        raise SandboxError("inputFeedDocumentId is required")
    document = state.feed_documents.get(document_id)
    if document is None or document.seller_id != seller_id or document.feed_id is not None:
        raise SandboxError(f"inputFeedDocumentId {document_id!r} is not a feed document of yours")
    now = state.now()
    if now - document.created_at > DOCUMENT_LIFETIME:
        raise SandboxError(f"inputFeedDocumentId {document_id!r} has expired (2 days)")
    feed = SandboxFeed(
        feed_id=state.new_feed_id(),
        seller_id=seller_id,
        feed_type=feed_type.strip(),
        marketplace_ids=tuple(marketplace_ids),
        input_document_id=document_id,
        feed_options=dict(options),
        created_at=whole_seconds(now),
        content=document.content,
        content_type=document.content_type,
    )
    state.add_feed(feed)
    return {"feedId": feed.feed_id}


def _own_feed(state: SandboxState, seller_id: str, feed_id: str) -> SandboxFeed:
    if not FEED_ID.match(feed_id):
        raise SandboxError(f"Invalid feedId {feed_id!r}")
    feed = state.feeds.get(feed_id)
    if feed is None or feed.seller_id != seller_id:
        raise SandboxError(f"Feed {feed_id} was not found", status=404)
    return feed


def feed_json(feed: SandboxFeed) -> dict[str, Any]:
    """The model's ``Feed``."""
    drawn: dict[str, Any] = {
        "feedId": feed.feed_id,
        "feedType": feed.feed_type,
        "marketplaceIds": list(feed.marketplace_ids),
        "createdTime": iso(feed.created_at),
        "processingStatus": feed.status,
    }
    if feed.started_at is not None:
        drawn["processingStartTime"] = iso(feed.started_at)
    if feed.ended_at is not None:
        drawn["processingEndTime"] = iso(feed.ended_at)
    if feed.result_document_id is not None:
        drawn["resultFeedDocumentId"] = feed.result_document_id
    return drawn


def get_feed(state: SandboxState, seller_id: str, feed_id: str) -> dict[str, Any]:
    """``getFeed``: the feed as it is, then one step on (module docstring)."""
    feed = _own_feed(state, seller_id, feed_id)
    advance(state, feed, polled=True)
    return feed_json(feed)


def cancel_feed(state: SandboxState, seller_id: str, feed_id: str) -> None:
    feed = _own_feed(state, seller_id, feed_id)
    advance(state, feed)
    if feed.status != "IN_QUEUE":
        raise SandboxError(f"Feed {feed_id} is {feed.status}; only IN_QUEUE feeds can be cancelled")
    feed.status = "CANCELLED"


def _list(query: QueryParams, name: str) -> list[str]:
    values: list[str] = []
    for raw in query.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values


def _query_time(query: QueryParams, name: str) -> datetime | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        return parse_iso(raw)
    except ValueError as exc:
        raise SandboxError(f"{name} is not a valid ISO 8601 date-time: {raw!r}") from exc


_GET_FEEDS_PARAMETERS = (
    "feedTypes",
    "marketplaceIds",
    "pageSize",
    "processingStatuses",
    "createdSince",
    "createdUntil",
)


def get_feeds(
    state: SandboxState, seller_id: str, operation: str, query: QueryParams
) -> dict[str, Any]:
    """``getFeeds``: newest first; ``nextToken`` must come alone (as the model says)."""
    token = query.get("nextToken")
    if token:
        others = [name for name in _GET_FEEDS_PARAMETERS if name in query]
        if others:
            raise SandboxError(f"nextToken must be the only parameter (also sent: {others})")
        payload = state.read_pagination_token(token)  # a SandboxError (400) when forged/old
        if payload.get("op") != operation or payload.get("seller") != seller_id:
            raise SandboxError("Invalid nextToken")
        wanted: dict[str, Any] = payload["q"]
        position: list[str] | None = payload["pos"]
    else:
        feed_types = _list(query, "feedTypes")
        if not feed_types:
            raise SandboxError("Either feedTypes or nextToken is required")
        marketplaces = _list(query, "marketplaceIds")
        if len(feed_types) > 10 or len(marketplaces) > 10:
            raise SandboxError("feedTypes and marketplaceIds accept at most 10 values")
        statuses = _list(query, "processingStatuses")
        bad = [s for s in statuses if s not in FEED_PROCESSING_STATUSES]
        if bad:
            raise SandboxError(f"Invalid value(s) for processingStatuses: {', '.join(bad)}")
        raw_size = query.get("pageSize") or "10"
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= 100:
            raise SandboxError("pageSize must be an integer between 1 and 100")
        now = state.now()
        since = _query_time(query, "createdSince") or now - FEED_RETENTION
        until = _query_time(query, "createdUntil") or now
        if until < since:
            raise SandboxError("createdUntil must be equal to or after createdSince")
        wanted = {
            "types": feed_types,
            "marketplaces": marketplaces,
            "statuses": statuses,
            "since": since.isoformat(),
            "until": until.isoformat(),
            "size": int(raw_size),
        }
        position = None

    since, until = parse_iso(wanted["since"]), parse_iso(wanted["until"])
    found: list[SandboxFeed] = []
    for feed in state.feeds.values():
        if feed.seller_id != seller_id:
            continue
        advance(state, feed)
        if (
            feed.feed_type in wanted["types"]
            and (not wanted["statuses"] or feed.status in wanted["statuses"])
            and (
                not wanted["marketplaces"]
                or set(wanted["marketplaces"]) & set(feed.marketplace_ids)
            )
            and since <= feed.created_at <= until
        ):
            found.append(feed)
    found.sort(key=lambda f: (f.created_at, int(f.feed_id)), reverse=True)
    if position is not None:
        mark = (parse_iso(position[0]), int(position[1]))
        found = [f for f in found if (f.created_at, int(f.feed_id)) < mark]
    size = int(wanted["size"])
    page = found[:size]
    body: dict[str, Any] = {"feeds": [feed_json(f) for f in page]}
    if len(found) > size:
        last = page[-1]
        body["nextToken"] = state.make_pagination_token(
            {
                "op": operation,
                "seller": seller_id,
                "q": wanted,
                "pos": [last.created_at.isoformat(), last.feed_id],
            }
        )
    return body


def get_feed_document(
    state: SandboxState, seller_id: str, document_id: str, base_url: str, query: QueryParams
) -> dict[str, Any]:
    """``getFeedDocument``: where to download a document (a report, or an input document)."""
    raw_flag = query.get("enableContentEncodingUrlHeader")
    if raw_flag is not None and raw_flag.lower() not in ("true", "false"):
        raise SandboxError("enableContentEncodingUrlHeader must be true or false")
    document = state.feed_documents.get(document_id)
    if document is None or document.seller_id != seller_id:
        raise SandboxError(f"Feed document {document_id} was not found", status=404)
    encoding = ""
    if document.compression == "GZIP" and (raw_flag or "").lower() == "true":
        encoding = "&contentEncoding=gzip"
    drawn: dict[str, Any] = {
        "feedDocumentId": document.document_id,
        "url": _url(
            base_url, "downloads", document_id, state.now() + DOWNLOAD_URL_LIFETIME, encoding
        ),
    }
    if document.compression is not None:
        drawn["compressionAlgorithm"] = document.compression
    return drawn


# -- the presigned URLs (served by ``control``) -----------------------------------------------


def _check_expiry(state: SandboxState, expires: str | None) -> None:
    try:
        deadline = int(expires or "")
    except ValueError:
        raise SandboxError("Request has expired", status=403) from None
    if state.now().timestamp() > deadline:
        raise SandboxError("Request has expired", status=403)


def upload(
    state: SandboxState,
    document_id: str,
    content_type: str | None,
    content: bytes,
    expires: str | None,
) -> None:
    """A PUT to an upload URL: S3's part of the flow, without S3's signature."""
    with state.lock:
        document = state.feed_documents.get(document_id)
        if document is None or document.feed_id is not None:
            raise SandboxError(f"No upload is expected for {document_id}", status=404)
        _check_expiry(state, expires)
        if _normal_content_type(content_type or "") != _normal_content_type(document.content_type):
            raise SandboxError(
                f"Content-Type {content_type!r} does not match the document's contentType "
                f"{document.content_type!r}"
            )
        if len(content) > MAX_DOCUMENT_BYTES:
            raise SandboxError("The document is larger than 10 MB", status=413)
        document.content = content
        document.uploaded_at = whole_seconds(state.now())


@dataclass(frozen=True, slots=True)
class Download:
    content: bytes
    content_type: str
    content_encoding: str | None


def download(
    state: SandboxState, document_id: str, expires: str | None, content_encoding: str | None
) -> Download:
    with state.lock:
        document = state.feed_documents.get(document_id)
        if document is None or document.content is None:
            raise SandboxError(f"No such document {document_id}", status=404)
        _check_expiry(state, expires)
        gzipped = document.compression == "GZIP" and content_encoding == "gzip"
        return Download(document.content, document.content_type, "gzip" if gzipped else None)


# -- progression -------------------------------------------------------------------------------


def advance(state: SandboxState, feed: SandboxFeed, *, polled: bool = False) -> None:
    """Move a feed on by the rules of the module docstring (caller holds ``state.lock``)."""
    if feed.finished:
        return
    if polled:
        feed.polls += 1
    age = state.now() - feed.created_at
    by_clock = 2 if age >= 2 * FEED_STEP else 1 if age >= FEED_STEP else 0
    step = min(2, max(feed.polls - 1, by_clock))
    if step >= 1 and feed.status == "IN_QUEUE":
        feed.status = "IN_PROGRESS"
        feed.started_at = whole_seconds(state.now())
    if step >= 2 and feed.status == "IN_PROGRESS":
        process(state, feed)


def finish(state: SandboxState, feed: SandboxFeed) -> None:
    """Process a queued or running feed now (the control API's shortcut)."""
    if feed.finished:
        return
    if feed.status == "IN_QUEUE":
        feed.status = "IN_PROGRESS"
        feed.started_at = whole_seconds(state.now())
    process(state, feed)


# -- processing --------------------------------------------------------------------------------


class MessageError(Exception):
    """One message (or, with ``message_id`` 0, the whole document) that failed or warned."""

    def __init__(
        self, code: int, description: str, *, warning: bool = False, order_id: str | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.warning = warning
        self.order_id = order_id


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    found = _children(element, name)
    return found[0] if found else None


def _text(element: ET.Element | None, name: str) -> str | None:
    """The stripped text of the first child ``name``, None when absent or blank."""
    if element is None:
        return None
    child = _child(element, name)
    if child is None or child.text is None or not child.text.strip():
        return None
    return child.text.strip()


def _required(element: ET.Element, name: str, path: str) -> str:
    value = _text(element, name)
    if value is None:
        raise MessageError(CODE_SCHEMA, f"{path}/{name} is required")
    return value


def _positive_int(raw: str, path: str) -> int:
    if not raw.isdigit() or int(raw) <= 0:
        raise MessageError(CODE_SCHEMA, f"{path} must be a positive integer, not {raw!r}")
    return int(raw)


def parse_envelope(content: bytes, message_type: str) -> tuple[str, list[ET.Element]]:
    """(MerchantIdentifier, Message elements) of a feed document; ``MessageError`` with
    ``message_id`` 0 semantics (code 5000/5001) when the document as a whole is unusable."""
    if re.search(rb"<!DOCTYPE", content, re.IGNORECASE):
        raise MessageError(CODE_XML, "XML Parsing Error: DOCTYPE declarations are not allowed")
    try:
        root = ET.fromstring(content)  # noqa: S314 (DOCTYPE refused above)
    except ET.ParseError as exc:
        line, column = exc.position
        raise MessageError(
            CODE_XML, f"XML Parsing Error at Line {line}, Column {column}: {exc}"
        ) from None
    if _local(root.tag) != "AmazonEnvelope":
        raise MessageError(
            CODE_SCHEMA, f"The root element must be AmazonEnvelope, not {_local(root.tag)}"
        )
    merchant = _text(_child(root, "Header"), "MerchantIdentifier")
    if merchant is None:
        raise MessageError(CODE_SCHEMA, "AmazonEnvelope/Header/MerchantIdentifier is required")
    sent_type = _text(root, "MessageType")
    if sent_type != message_type:
        raise MessageError(
            CODE_SCHEMA,
            f"AmazonEnvelope/MessageType is {sent_type!r}; this feed type expects {message_type}",
        )
    messages = _children(root, "Message")
    if not messages:
        raise MessageError(CODE_SCHEMA, "AmazonEnvelope has no Message")
    return merchant, messages


def process(state: SandboxState, feed: SandboxFeed) -> None:
    """Apply the feed's document to the seller's orders and write the processing report."""
    message_type = FEED_MESSAGE_TYPES.get(feed.feed_type)
    results: list[FeedResult] = []
    feed.status = "DONE"
    if message_type is None:
        feed.status = "FATAL"
        feed.fatal_reason = f"Feed type {feed.feed_type} is not supported by the sandbox"
        results.append(FeedResult(0, "Error", CODE_UNSUPPORTED, feed.fatal_reason))
    elif feed.content is None:
        feed.status = "FATAL"
        feed.fatal_reason = f"The input feed document {feed.input_document_id} was never uploaded"
        results.append(FeedResult(0, "Error", CODE_UNSUPPORTED, feed.fatal_reason))
    else:
        try:
            _, messages = parse_envelope(feed.content, message_type)
        except MessageError as exc:
            results.append(FeedResult(0, "Error", exc.code, exc.description))
        else:
            seen: set[int] = set()
            for message in messages:
                result = _process_message(state, feed, message_type, message, seen)
                if result is not None:
                    results.append(result)
    feed.results = results
    feed.ended_at = whole_seconds(state.now())
    _write_report(state, feed)


def _process_message(
    state: SandboxState,
    feed: SandboxFeed,
    message_type: str,
    message: ET.Element,
    seen: set[int],
) -> FeedResult | None:
    feed.messages_processed += 1
    raw_id = _text(message, "MessageID") or ""
    message_id = int(raw_id) if raw_id.isdigit() else 0
    order_id: str | None = None
    try:
        if message_id <= 0:
            raise MessageError(
                CODE_SCHEMA, f"Message/MessageID must be a positive integer, not {raw_id!r}"
            )
        if message_id in seen:
            raise MessageError(CODE_SCHEMA, f"MessageID {message_id} is used by an earlier Message")
        seen.add(message_id)
        operation = _text(message, "OperationType") or "Update"
        if operation != "Update":
            raise MessageError(
                CODE_SCHEMA, f"OperationType {operation} is not supported for {message_type}"
            )
        body = _child(message, message_type)
        if body is None:
            raise MessageError(CODE_SCHEMA, f"Message/{message_type} is required")
        order_id = _text(body, "AmazonOrderID")
        outcome = _APPLIERS[message_type](state, feed, body, message_id)
    except MessageError as exc:
        order_id = exc.order_id or order_id
        feed.messages.append(
            {
                "message_id": message_id,
                "amazon_order_id": order_id,
                "result": "Warning" if exc.warning else "Error",
                "description": exc.description,
            }
        )
        info = (("AmazonOrderID", order_id),) if order_id else ()
        if exc.warning:
            feed.messages_successful += 1
            feed.messages_with_warning += 1
        else:
            feed.messages_with_error += 1
        return FeedResult(
            message_id, "Warning" if exc.warning else "Error", exc.code, exc.description, info
        )
    feed.messages_successful += 1
    feed.messages.append(
        {"message_id": message_id, "amazon_order_id": order_id, "result": "Success", **outcome}
    )
    return None


def _order_of(state: SandboxState, feed: SandboxFeed, body: ET.Element, path: str) -> SandboxOrder:
    order_id = _text(body, "AmazonOrderID")
    if order_id is None:
        if _text(body, "MerchantOrderID") is not None:
            raise MessageError(
                CODE_SCHEMA, f"{path}/MerchantOrderID is not supported; send AmazonOrderID"
            )
        raise MessageError(CODE_SCHEMA, f"{path}/AmazonOrderID is required")
    order = state.orders.get(order_id)
    if order is None or order.seller_id != feed.seller_id:
        raise MessageError(
            CODE_ORDER_NOT_FOUND,
            f"Order {order_id} was not found for this seller",
            order_id=order_id,
        )
    if order.marketplace_id not in feed.marketplace_ids:
        raise MessageError(
            CODE_ORDER_STATE,
            f"Order {order_id} belongs to marketplace {order.marketplace_id}, which this feed "
            "was not submitted for",
            order_id=order_id,
        )
    return order


def _item_id(element: ET.Element, path: str) -> str:
    item_id = _text(element, "AmazonOrderItemCode")
    if item_id is None:
        if _text(element, "MerchantOrderItemID") is not None:
            raise MessageError(
                CODE_SCHEMA,
                f"{path}/MerchantOrderItemID is not supported; send AmazonOrderItemCode",
            )
        raise MessageError(CODE_SCHEMA, f"{path}/AmazonOrderItemCode is required")
    return item_id


def _item(order: SandboxOrder, item_id: str, path: str) -> SandboxItem:
    for item in order.items:
        if item.order_item_id == item_id:
            return item
    raise MessageError(
        CODE_INVALID,
        f"{path}/AmazonOrderItemCode {item_id} is not an item of order {order.order_id}",
        order_id=order.order_id,
    )


# -- POST_ORDER_FULFILLMENT_DATA ---------------------------------------------------------------


def _fulfil(
    state: SandboxState, feed: SandboxFeed, body: ET.Element, message_id: int
) -> dict[str, Any]:
    path = "OrderFulfillment"
    order = _order_of(state, feed, body, path)
    try:
        reference = _text(body, "MerchantFulfillmentID")
        if reference is not None:
            check_package_reference_id(reference, f"{path}/MerchantFulfillmentID")
        else:
            reference = next_package_reference_id(order)
        ship_date = parse_ship_date(_text(body, "FulfillmentDate"), f"{path}/FulfillmentDate")
        data = _child(body, "FulfillmentData")
        carrier_code = _text(data, "CarrierCode")
        carrier_name = _text(data, "CarrierName")
        if carrier_code is None and carrier_name is None:
            raise MessageError(
                CODE_SCHEMA, f"{path}/FulfillmentData/CarrierCode (or CarrierName) is required"
            )
        if carrier_code is None:
            carrier_code = "Other"  # the XSD's choice: a CarrierName alone is an unlisted carrier
        if carrier_code == "Other" and carrier_name is None:
            raise MessageError(
                CODE_SCHEMA,
                f'{path}/FulfillmentData/CarrierName is required for CarrierCode "Other"',
            )
        items: list[tuple[str, int | None]] = []
        for index, element in enumerate(_children(body, "Item")):
            where = f"{path}/Item[{index}]"
            raw_quantity = _text(element, "Quantity")
            quantity = (
                None if raw_quantity is None else _positive_int(raw_quantity, f"{where}/Quantity")
            )
            items.append((_item_id(element, where), quantity))
        confirmation = PackageConfirmation(
            package_reference_id=reference,
            carrier_code=carrier_code,
            carrier_name=carrier_name,
            shipping_method=_text(data, "ShippingMethod"),
            tracking_number=_text(data, "ShipperTrackingNumber"),
            ship_date=ship_date,
            items=tuple(items) if items else None,
            ship_from_supply_source_id=_text(body, "ShipFromSupplySourceId"),
            field_prefix=f"{path}/",
            item_field="Item",
            item_id_field="AmazonOrderItemCode",
        )
        edited = any(p.package_reference_id == reference for p in order.packages)
        package = confirm_package(state, order, confirmation)
    except ShipmentRefused as exc:
        code = CODE_ORDER_STATE if exc.order_state else CODE_INVALID
        raise MessageError(code, exc.message, order_id=order.order_id) from None
    except MessageError as exc:
        exc.order_id = order.order_id
        raise
    return {
        "package_reference_id": package.package_reference_id,
        "edited": edited,
        "items": [{"order_item_id": i, "quantity": q} for i, q in package.items],
    }


# -- POST_ORDER_ACKNOWLEDGEMENT_DATA -----------------------------------------------------------


def _acknowledge(
    state: SandboxState, feed: SandboxFeed, body: ET.Element, message_id: int
) -> dict[str, Any]:
    path = "OrderAcknowledgement"
    order = _order_of(state, feed, body, path)
    oid = order.order_id
    status_code = _text(body, "StatusCode")
    if status_code not in ("Success", "Failure"):
        raise MessageError(
            CODE_SCHEMA,
            f"{path}/StatusCode must be Success or Failure, not {status_code!r}",
            order_id=oid,
        )
    listed: list[tuple[SandboxItem, str | None]] = []
    for index, element in enumerate(_children(body, "Item")):
        where = f"{path}/Item[{index}]"
        try:
            item = _item(order, _item_id(element, where), where)
        except MessageError as exc:
            exc.order_id = oid
            raise
        reason = _text(element, "CancelReason")
        if reason is not None and reason not in CANCEL_REASONS:
            raise MessageError(
                CODE_SCHEMA,
                f"{where}/CancelReason {reason!r} is not one of {list(CANCEL_REASONS)}",
                order_id=oid,
            )
        listed.append((item, reason))
    if status_code == "Success":
        return {"acknowledged": True}
    if order.fulfilled_by != "MERCHANT":
        raise MessageError(
            CODE_ORDER_STATE,
            f"Order {oid} is fulfilled by Amazon and cannot be cancelled",
            order_id=oid,
        )
    if not listed:
        if order.status == "CANCELLED":
            raise MessageError(
                CODE_NOTHING_TO_DO, f"Order {oid} is already cancelled", warning=True, order_id=oid
            )
        if any(i.quantity_shipped for i in order.items):
            raise MessageError(
                CODE_ORDER_STATE,
                f"Order {oid} has shipped units and cannot be cancelled as a whole; cancel the "
                "unshipped items instead",
                order_id=oid,
            )
        listed = [(item, None) for item in order.items]
    to_cancel: list[tuple[SandboxItem, str | None]] = []
    for item, reason in listed:
        if item.quantity_open > 0:
            to_cancel.append((item, reason))
        elif not item.quantity_cancelled:
            raise MessageError(
                CODE_ORDER_STATE,
                f"Order item {item.order_item_id} has shipped in full and cannot be cancelled",
                order_id=oid,
            )
    if not to_cancel:
        raise MessageError(
            CODE_NOTHING_TO_DO,
            f"The listed items of order {oid} are already cancelled",
            warning=True,
            order_id=oid,
        )
    cancelled = []
    for item, reason in to_cancel:
        units = item.quantity_open
        item.quantity_cancelled += units
        item.seller_cancel_reason = reason or "GeneralAdjustment"
        cancelled.append({"order_item_id": item.order_item_id, "quantity": units, "reason": reason})
    settle_fulfillment(order)
    state.touch(order)
    return {"cancelled": cancelled, "order_status": order.status}


# -- POST_PAYMENT_ADJUSTMENT_DATA --------------------------------------------------------------


def charged(item: SandboxItem, currency: str) -> dict[str, Decimal]:
    """What the buyer paid for the line, by adjustment component type."""
    ship_tax = shipping_tax(item, currency)
    return {
        "Principal": item.unit_price * item.quantity,
        "Shipping": item.shipping_price,
        "Tax": item.tax - ship_tax,
        "ShippingTax": ship_tax,
        "GiftWrap": Decimal(0),
        "GiftWrapTax": Decimal(0),
    }


def _refunded(item: SandboxItem) -> dict[str, Decimal]:
    done: dict[str, Decimal] = {}
    for adjustment in item.adjustments:
        for kind, amount in adjustment.components:
            done[kind] = done.get(kind, Decimal(0)) + amount
    return done


def _adjust(
    state: SandboxState, feed: SandboxFeed, body: ET.Element, message_id: int
) -> dict[str, Any]:
    path = "OrderAdjustment"
    order = _order_of(state, feed, body, path)
    try:
        return _adjust_order(state, feed, order, body, message_id, path)
    except MessageError as exc:
        exc.order_id = order.order_id
        raise


def _adjust_order(
    state: SandboxState,
    feed: SandboxFeed,
    order: SandboxOrder,
    body: ET.Element,
    message_id: int,
    path: str,
) -> dict[str, Any]:
    if order.pending:
        raise MessageError(
            CODE_ORDER_STATE, f"Order {order.order_id} is pending: nothing was charged to adjust"
        )
    action = _text(body, "ActionType")
    if action is not None and action not in ("Refund", "Cancel"):
        raise MessageError(
            CODE_SCHEMA, f"{path}/ActionType must be Refund or Cancel, not {action!r}"
        )
    elements = _children(body, "AdjustedItem")
    if not elements:
        raise MessageError(CODE_SCHEMA, f"{path}/AdjustedItem is required")
    # Check every AdjustedItem first: a message is applied wholly or not at all.
    planned: list[tuple[SandboxItem, SandboxAdjustment]] = []
    in_message: dict[str, dict[str, Decimal]] = {}
    cancelling: dict[str, int] = {}
    now = whole_seconds(state.now())
    for index, element in enumerate(elements):
        where = f"{path}/AdjustedItem[{index}]"
        item = _item(order, _item_id(element, where), where)
        reason = _text(element, "AdjustmentReason")
        if reason is None:
            raise MessageError(CODE_SCHEMA, f"{where}/AdjustmentReason is required")
        if reason not in ADJUSTMENT_REASONS:
            raise MessageError(
                CODE_SCHEMA,
                f"{where}/AdjustmentReason {reason!r} is not one of {list(ADJUSTMENT_REASONS)}",
            )
        prices = _child(element, "ItemPriceAdjustments")
        if prices is None:
            raise MessageError(CODE_SCHEMA, f"{where}/ItemPriceAdjustments is required")
        components = _components(prices, order.currency, f"{where}/ItemPriceAdjustments")
        quantity = 0
        raw_quantity = _text(element, "QuantityCancelled")
        if raw_quantity is not None:
            quantity = _positive_int(raw_quantity, f"{where}/QuantityCancelled")
            open_units = item.quantity_open - cancelling.get(item.order_item_id, 0)
            if quantity > open_units:
                raise MessageError(
                    CODE_INVALID,
                    f"{where}/QuantityCancelled {quantity} is more than the {open_units} unshipped "
                    f"unit(s) of order item {item.order_item_id}",
                )
            cancelling[item.order_item_id] = cancelling.get(item.order_item_id, 0) + quantity
        _check_amounts(item, order.currency, components, in_message, where)
        planned.append(
            (
                item,
                SandboxAdjustment(
                    feed_id=feed.feed_id,
                    message_id=message_id,
                    reason=reason,
                    currency=order.currency,
                    components=components,
                    quantity_cancelled=quantity,
                    merchant_adjustment_item_id=_text(element, "MerchantAdjustmentItemID"),
                    posted_at=now,
                ),
            )
        )
    for item, adjustment in planned:
        item.adjustments.append(adjustment)
        if adjustment.quantity_cancelled:
            item.quantity_cancelled += adjustment.quantity_cancelled
            item.seller_cancel_reason = adjustment.reason
    if cancelling:
        settle_fulfillment(order)
        state.touch(order)
    return {
        "adjusted": [
            {
                "order_item_id": item.order_item_id,
                "reason": adjustment.reason,
                "total": str(adjustment.total),
                "quantity_cancelled": adjustment.quantity_cancelled,
            }
            for item, adjustment in planned
        ],
        "order_status": order.status,
    }


def _components(prices: ET.Element, currency: str, path: str) -> tuple[tuple[str, Decimal], ...]:
    found: list[tuple[str, Decimal]] = []
    for index, component in enumerate(_children(prices, "Component")):
        where = f"{path}/Component[{index}]"
        kind = _text(component, "Type")
        if kind is None:
            raise MessageError(CODE_SCHEMA, f"{where}/Type is required")
        if kind not in COMPONENT_TYPES:
            raise MessageError(
                CODE_SCHEMA, f"{where}/Type {kind!r} is not one of {list(COMPONENT_TYPES)}"
            )
        if any(kind == seen for seen, _ in found):
            raise MessageError(CODE_SCHEMA, f"{where}/Type {kind} appears twice")
        amount_element = _child(component, "Amount")
        raw = _text(component, "Amount")
        if amount_element is None or raw is None:
            raise MessageError(CODE_SCHEMA, f"{where}/Amount is required")
        sent_currency = amount_element.get("currency")
        if sent_currency != currency:
            raise MessageError(
                CODE_INVALID,
                f"{where}/Amount currency {sent_currency!r} is not the order's {currency}",
            )
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            raise MessageError(CODE_SCHEMA, f"{where}/Amount {raw!r} is not a decimal") from None
        if not amount.is_finite():
            raise MessageError(CODE_SCHEMA, f"{where}/Amount {raw!r} is not a decimal")
        found.append((kind, amount))
    if not found:
        raise MessageError(CODE_SCHEMA, f"{path}/Component is required")
    return tuple(found)


def _check_amounts(
    item: SandboxItem,
    currency: str,
    components: tuple[tuple[str, Decimal], ...],
    in_message: dict[str, dict[str, Decimal]],
    where: str,
) -> None:
    """Refunds within what was charged (per charged component, and in all for the line)."""
    paid = charged(item, currency)
    before = _refunded(item)
    pending = in_message.setdefault(item.order_item_id, {})
    for kind, amount in components:
        if kind == "RestockingFee":
            if amount > 0:
                raise MessageError(
                    CODE_INVALID, f"{where}: a RestockingFee is kept back, so it must be negative"
                )
        elif amount < 0:
            raise MessageError(
                CODE_INVALID,
                f"{where}: {kind} {amount} is negative; refunds are credits to the buyer",
            )
        if kind in paid and amount > 0:
            done = before.get(kind, Decimal(0)) + pending.get(kind, Decimal(0))
            left = paid[kind] - done
            if amount > left:
                raise MessageError(
                    CODE_INVALID,
                    f"{where}: refund of {kind} {amount} {currency} exceeds the "
                    f"{max(left, Decimal(0))} {currency} left to refund (charged {paid[kind]}, "
                    f"refunded {done})",
                )
    net = sum((amount for _, amount in components), Decimal(0))
    if net < 0:
        raise MessageError(
            CODE_INVALID, f"{where}: the net adjustment {net} is not a credit to the buyer"
        )
    line_total = item.unit_price * item.quantity + item.shipping_price + item.tax
    credited = sum(before.values(), Decimal(0)) + sum(pending.values(), Decimal(0)) + net
    if credited > line_total:
        raise MessageError(
            CODE_INVALID,
            f"{where}: {credited} {currency} credited in all would exceed the line's total of "
            f"{line_total} {currency}",
        )
    for kind, amount in components:
        pending[kind] = pending.get(kind, Decimal(0)) + amount


# MessageType -> what one message of it does; returns what it did, for the control view.
Applier = Callable[[SandboxState, SandboxFeed, ET.Element, int], dict[str, Any]]
_APPLIERS: dict[str, Applier] = {
    "OrderFulfillment": _fulfil,
    "OrderAcknowledgement": _acknowledge,
    "OrderAdjustment": _adjust,
}


# -- the processing report ---------------------------------------------------------------------


def processing_report(feed: SandboxFeed) -> bytes:
    """Amazon's XML ProcessingReport for a processed feed (module docstring)."""
    root = ET.Element(
        "AmazonEnvelope",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "amzn-envelope.xsd",
        },
    )
    header = ET.SubElement(root, "Header")
    ET.SubElement(header, "DocumentVersion").text = "1.02"
    ET.SubElement(header, "MerchantIdentifier").text = feed.seller_id
    ET.SubElement(root, "MessageType").text = "ProcessingReport"
    message = ET.SubElement(root, "Message")
    ET.SubElement(message, "MessageID").text = "1"
    report = ET.SubElement(message, "ProcessingReport")
    ET.SubElement(report, "DocumentTransactionID").text = feed.feed_id
    ET.SubElement(report, "StatusCode").text = "Complete"
    summary = ET.SubElement(report, "ProcessingSummary")
    for count_name, count in (
        ("MessagesProcessed", feed.messages_processed),
        ("MessagesSuccessful", feed.messages_successful),
        ("MessagesWithError", feed.messages_with_error),
        ("MessagesWithWarning", feed.messages_with_warning),
    ):
        ET.SubElement(summary, count_name).text = str(count)
    for result in feed.results:
        element = ET.SubElement(report, "Result")
        ET.SubElement(element, "MessageID").text = str(result.message_id)
        ET.SubElement(element, "ResultCode").text = result.result_code
        ET.SubElement(element, "ResultMessageCode").text = str(result.message_code)
        ET.SubElement(element, "ResultDescription").text = result.description
        if result.additional_info:
            info = ET.SubElement(element, "AdditionalInfo")
            for name, value in result.additional_info:
                ET.SubElement(info, name).text = value
    ET.indent(root)
    report_bytes: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return report_bytes


def _write_report(state: SandboxState, feed: SandboxFeed) -> None:
    content = processing_report(feed)
    compression: str | None = None
    if state.gzip_feed_results:
        content = gzip.compress(content, mtime=0)
        compression = "GZIP"
    document = SandboxFeedDocument(
        document_id=state.new_document_id(),
        seller_id=feed.seller_id,
        content_type=REPORT_CONTENT_TYPE,
        created_at=whole_seconds(state.now()),
        content=content,
        compression=compression,
        uploaded_at=whole_seconds(state.now()),
        feed_id=feed.feed_id,
    )
    state.add_feed_document(document)
    feed.result_document_id = document.document_id


def feed_view(state: SandboxState, feed: SandboxFeed) -> dict[str, Any]:
    """Everything about a feed for ``GET /_sandbox/feeds/{feedId}``."""
    content = feed.content
    text = content.decode("utf-8", "replace") if content is not None else None
    report: str | None = None
    if feed.result_document_id is not None:
        stored = state.feed_documents[feed.result_document_id].content or b""
        if stored[:2] == b"\x1f\x8b":
            stored = gzip.decompress(stored)
        report = stored.decode("utf-8")
    return {
        "feed": feed_json(feed),
        "seller_id": feed.seller_id,
        "input_feed_document_id": feed.input_document_id,
        "feed_options": feed.feed_options,
        "content_type": feed.content_type,
        "document": text,
        "polls": feed.polls,
        "fatal_reason": feed.fatal_reason,
        "summary": {
            "messages_processed": feed.messages_processed,
            "messages_successful": feed.messages_successful,
            "messages_with_error": feed.messages_with_error,
            "messages_with_warning": feed.messages_with_warning,
        },
        "messages": feed.messages,
        "results": [
            {
                "message_id": r.message_id,
                "result_code": r.result_code,
                "result_message_code": r.message_code,
                "description": r.description,
                "additional_info": dict(r.additional_info),
            }
            for r in feed.results
        ],
        "report": report,
    }
