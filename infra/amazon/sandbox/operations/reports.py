"""The Reports API 2021-06-30: settlement reports listed, read and downloaded; createReport.

The sandbox's reports are the settlement reports Amazon makes on its own when a financial event
group closes (``reports``); every answer here first makes those of groups that closed since
(``settle``). Rules, as the model states them:

- ``getReports``: newest first. ``reportTypes`` (1-10) is required unless ``nextToken`` is
  sent, and ``nextToken`` must come alone (any other parameter with it is refused);
  ``processingStatuses`` (the model's enum), ``marketplaceIds`` (1-10, a report matches when
  it covers any of them), ``createdSince`` (default 90 days ago; reports are kept 90 days),
  ``createdUntil`` (default now), ``pageSize`` 1-100 (default 10).
- ``getReport``: the report of the caller (another seller's does not exist for it).
- ``getReportDocument``: a ``url`` the sandbox serves itself that expires five minutes of
  sandbox time later (403 after), and ``compressionAlgorithm: GZIP`` when the document is
  stored gzipped; with ``enableContentEncodingUrlHeader=true`` that URL answers
  ``Content-Encoding: gzip``.
- ``createReport``: settlement reports cannot be requested; Amazon answers 400 ``InvalidInput``
  "Request for report type 1118 is not allowed at this time" (1118 is its number for the V2
  flat file). The order report ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL`` is
  made from the sandbox's orders (``reports.orders``): its data window is ``dataStartTime``
  (default 30 days ago) to ``dataEndTime`` (default, and at most, now; not before the start),
  and it goes ``IN_QUEUE`` -> ``IN_PROGRESS`` -> ``DONE`` on the sandbox clock
  (``reports.process``), or ``CANCELLED`` when no order was updated in it. Any other type is
  accepted (202) and, since the sandbox has no data of that kind, the report is ``CANCELLED``,
  as Amazon cancels a report with nothing to report.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from starlette.datastructures import QueryParams

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.feeds import DOWNLOAD_URL_LIFETIME, document_url
from infra.amazon.sandbox.operations.call import Call, json_body, refusals
from infra.amazon.sandbox.reports import UNREQUESTABLE, process, process_all, settle
from infra.amazon.sandbox.reports.orders import ORDERS_REPORT_TYPE
from infra.amazon.sandbox.rules.pagination import newest_first_page
from infra.amazon.sandbox.rules.query import listed, query_time
from infra.amazon.sandbox.state import SandboxState, iso, parse_iso, whole_seconds
from infra.amazon.sandbox.state.reports import REPORT_PROCESSING_STATUSES, SandboxReport

REPORT_RETENTION = timedelta(days=90)
ORDER_REPORT_DEFAULT_SPAN = timedelta(days=30)
REPORT_ID = re.compile(r"^[0-9]{1,20}$")
MAX_LISTED = 10
DOWNLOADS = "report-downloads"
_GET_REPORTS_PARAMETERS = (
    "reportTypes",
    "processingStatuses",
    "marketplaceIds",
    "pageSize",
    "createdSince",
    "createdUntil",
)


def report_json(report: SandboxReport) -> dict[str, Any]:
    """The Reports API model's ``Report``."""
    drawn: dict[str, Any] = {
        "reportId": report.report_id,
        "reportType": report.report_type,
        "marketplaceIds": list(report.marketplace_ids),
        "dataStartTime": iso(report.data_start),
        "dataEndTime": iso(report.data_end),
        "createdTime": iso(report.created_at),
        "processingStatus": report.processing_status,
    }
    if report.processing_status in ("DONE", "FATAL", "CANCELLED"):
        drawn["processingStartTime"] = iso(report.created_at)
        drawn["processingEndTime"] = iso(report.created_at)
    elif report.processing_status == "IN_PROGRESS":
        drawn["processingStartTime"] = iso(report.created_at)
    if report.document_id:
        drawn["reportDocumentId"] = report.document_id
    return drawn


def _first_query(state: SandboxState, query: QueryParams) -> dict[str, Any]:
    report_types = listed(query, "reportTypes")
    if not report_types:
        raise SandboxError("Either reportTypes or nextToken is required")
    marketplaces = listed(query, "marketplaceIds")
    if len(report_types) > MAX_LISTED or len(marketplaces) > MAX_LISTED:
        raise SandboxError("reportTypes and marketplaceIds accept at most 10 values")
    statuses = listed(query, "processingStatuses")
    bad = [s for s in statuses if s not in REPORT_PROCESSING_STATUSES]
    if bad:
        raise SandboxError(f"Invalid value(s) for processingStatuses: {', '.join(bad)}")
    raw_size = query.get("pageSize") or "10"
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= 100:
        raise SandboxError("pageSize must be an integer between 1 and 100")
    now = state.now()
    since = query_time(query, "createdSince") or now - REPORT_RETENTION
    until = query_time(query, "createdUntil") or now
    if until < since:
        raise SandboxError("createdUntil must be equal to or after createdSince")
    return {
        "types": report_types,
        "marketplaces": marketplaces,
        "statuses": statuses,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "size": int(raw_size),
    }


def _matches(report: SandboxReport, wanted: dict[str, Any]) -> bool:
    return (
        report.report_type in wanted["types"]
        and (not wanted["statuses"] or report.processing_status in wanted["statuses"])
        and (
            not wanted["marketplaces"]
            or bool(set(wanted["marketplaces"]) & set(report.marketplace_ids))
        )
        and parse_iso(wanted["since"]) <= report.created_at <= parse_iso(wanted["until"])
    )


def _get_reports(
    state: SandboxState, seller_id: str, operation: str, query: QueryParams
) -> dict[str, Any]:
    token = query.get("nextToken")
    position: list[str] | None = None
    if token:
        others = [name for name in _GET_REPORTS_PARAMETERS if name in query]
        if others:
            raise SandboxError(f"nextToken must be the only parameter (also sent: {others})")
        payload = state.read_pagination_token(token)  # a SandboxError (400) when forged/old
        if payload.get("op") != operation or payload.get("seller") != seller_id:
            raise SandboxError("Invalid nextToken")
        wanted: dict[str, Any] = payload["q"]
        position = payload["pos"]
    else:
        wanted = _first_query(state, query)
    settle(state)
    process_all(state, seller_id)
    retained = state.now() - REPORT_RETENTION  # older reports are gone, whatever the filters
    found = [
        r
        for r in state.reports.of_seller(seller_id)
        if r.created_at >= retained and _matches(r, wanted)
    ]
    return newest_first_page(
        state, operation, seller_id, wanted, position, found,
        created_at=lambda r: r.created_at, id_of=lambda r: r.report_id,
        render=report_json, key="reports",
    )  # fmt: skip


def _own_report(state: SandboxState, seller_id: str, report_id: str) -> SandboxReport:
    if not REPORT_ID.match(report_id):
        raise SandboxError(f"Invalid reportId {report_id!r}")
    settle(state)
    report = state.reports.reports.get(report_id)
    if report is None or report.seller_id != seller_id:
        raise SandboxError(f"Report {report_id} was not found", status=404)
    return process(state, report)


def _get_report_document(
    state: SandboxState, seller_id: str, document_id: str, base_url: str, query: QueryParams
) -> dict[str, Any]:
    raw_flag = query.get("enableContentEncodingUrlHeader")
    if raw_flag is not None and raw_flag.lower() not in ("true", "false"):
        raise SandboxError("enableContentEncodingUrlHeader must be true or false")
    settle(state)
    process_all(state, seller_id)
    report = state.reports.document(seller_id, document_id)
    if report is None:
        raise SandboxError(f"Report document {document_id} was not found", status=404)
    encoding = ""
    if report.compression == "GZIP" and (raw_flag or "").lower() == "true":
        encoding = "&contentEncoding=gzip"
    expires = state.now() + DOWNLOAD_URL_LIFETIME
    drawn: dict[str, Any] = {
        "reportDocumentId": document_id,
        "url": document_url(base_url, DOWNLOADS, document_id, expires, encoding),
    }
    if report.compression is not None:
        drawn["compressionAlgorithm"] = report.compression
    return drawn


def _create_report(state: SandboxState, seller_id: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SandboxError("The request body must be a CreateReportSpecification object")
    report_type = body.get("reportType")
    if not isinstance(report_type, str) or not report_type.strip():
        raise SandboxError("reportType is required")
    marketplace_ids = body.get("marketplaceIds")
    if not isinstance(marketplace_ids, list) or not marketplace_ids:
        raise SandboxError("marketplaceIds is required (a list of 1 to 25 marketplace ids)")
    seller = state.seller(seller_id)
    for marketplace_id in marketplace_ids:
        if marketplace_id not in seller.marketplace_ids:
            raise SandboxError(
                f"marketplaceIds: {marketplace_id!r} is not a marketplace of this seller"
            )
    number = UNREQUESTABLE.get(report_type.strip())
    if number is not None:
        raise SandboxError(f"Request for report type {number} is not allowed at this time")
    now = whole_seconds(state.now())
    ordered = report_type.strip() == ORDERS_REPORT_TYPE
    start, end = (now - ORDER_REPORT_DEFAULT_SPAN if ordered else now), now
    for name in ("dataStartTime", "dataEndTime"):
        raw = body.get(name)
        if raw is None:
            continue
        try:
            moment = parse_iso(str(raw))
        except ValueError:
            raise SandboxError(f"{name} is not a valid ISO 8601 date-time: {raw!r}") from None
        if name == "dataStartTime":
            start = moment
        else:
            end = moment
    if ordered:
        end = min(end, now)
        if end < start:
            raise SandboxError("dataEndTime must be equal to or after dataStartTime")
    report = SandboxReport(
        report_id=state.reports.new_report_id(),
        report_type=report_type.strip(),
        seller_id=seller_id,
        marketplace_ids=tuple(marketplace_ids),
        data_start=start,
        data_end=end,
        created_at=now,
        # An order report is made by ``process``; any other: nothing of the kind to report.
        processing_status="IN_QUEUE" if ordered else "CANCELLED",
        document_id="",
        content=b"",
        compression=None,
        settlement_id="",
        currency="",
        group_id="",
        total=Decimal(0),
        rows=0,
    )
    state.reports.reports[report.report_id] = report
    state.notifier.report_finished(report)  # cancelled at once: REPORT_PROCESSING_FINISHED
    return {"reportId": report.report_id}


# -- the handlers ------------------------------------------------------------------------------


def get_reports(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, refusals():
        return 200, _get_reports(call.state, call.seller_id, call.operation, call.query)


def get_report(call: Call) -> tuple[int, dict[str, Any] | None]:
    with call.state.lock, refusals():
        report = _own_report(call.state, call.seller_id, call.path_params["reportId"])
        return 200, report_json(report)


def get_report_document(call: Call) -> tuple[int, dict[str, Any] | None]:
    document_id = call.path_params["reportDocumentId"]
    with call.state.lock, refusals():
        return 200, _get_report_document(
            call.state, call.seller_id, document_id, call.base_url, call.query
        )


def create_report(call: Call) -> tuple[int, dict[str, Any] | None]:
    body = json_body(call)
    with call.state.lock, refusals():
        return 202, _create_report(call.state, call.seller_id, body)
