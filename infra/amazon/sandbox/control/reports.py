"""Control API, settlements and reports: close a period now, the settings of the next
settlement documents, malformed rows for the next report, every report with its document, and
the "presigned" download URL that ``getReportDocument`` hands out.

- ``POST /_sandbox/settlements/close`` ``{"seller_id": "...", "currency"?: "USD"}``: closes the
  seller's open financial event group now (in that currency, or in every currency it has
  events in) and makes its settlement report; 201 ``{"reports": [...]}`` (each as
  ``GET /_sandbox/reports`` lists it). 404 for an unknown seller, 409 when no open group has
  events. Groups also close on their 14-day schedule (``state.finances``).
- ``POST /_sandbox/report-settings`` ``{"gzip"?: bool, "promotion_id"?: bool}`` (only what is
  sent changes; ``GET`` reads them): store the next documents gzipped (``getReportDocument``
  then says ``compressionAlgorithm: GZIP``); write the ``promotion-id`` column (24 columns,
  the default) or not (23).
- ``POST /_sandbox/settlements/malformed`` ``{"seller_id"?: ..., "kinds": ["amount", "date",
  "quantity", "settlement", "short"]}``: rows the reader must set aside, put after the summary
  of the seller's next settlement report (an amount or a date that is none, a quantity that
  is no number, another settlement's id, a row cut short).
- ``GET /_sandbox/reports?seller_id=``: every report (newest first) with its settlement id,
  currency, total, rows and group; ``GET /_sandbox/reports/{reportId}/document``: the document
  as text (gunzipped).
- ``GET /_sandbox/report-downloads/{reportDocumentId}?expires=[&contentEncoding=gzip]``: the
  download URL (no SP-API token, no rate bucket; 403 once expired).
"""

from __future__ import annotations

import gzip
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.operations.reports import report_json
from infra.amazon.sandbox.reports import close_now, settle
from infra.amazon.sandbox.state import DEMO_SELLER, SandboxState
from infra.amazon.sandbox.state.reports import MALFORMED_KINDS, SandboxReport

TSV = "text/tab-separated-values;charset=UTF-8"


class CloseIn(BaseModel):
    seller_id: str = Field(min_length=1)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")


class ReportSettingsIn(BaseModel):
    gzip: bool | None = None
    promotion_id: bool | None = None


class MalformedIn(BaseModel):
    seller_id: str = DEMO_SELLER.seller_id
    kinds: list[str] = Field(min_length=1, max_length=100)


def describe(report: SandboxReport) -> dict[str, Any]:
    return {
        **report_json(report),
        "seller_id": report.seller_id,
        "settlement_id": report.settlement_id or None,
        "currency": report.currency or None,
        "total": str(report.total) if report.settlement_id else None,
        "rows": report.rows,
        "group_id": report.group_id or None,
        "compression": report.compression,
    }


def document_text(report: SandboxReport) -> str:
    content = report.content
    if report.compression == "GZIP":
        content = gzip.decompress(content)
    return content.decode("utf-8")


def _check_expiry(state: SandboxState, expires: str | None) -> None:
    """As S3 answers a presigned URL past its time (the feed documents' rule)."""
    try:
        deadline = int(expires or "")
    except ValueError:
        raise SandboxError("Request has expired", status=403) from None
    if state.now().timestamp() > deadline:
        raise SandboxError("Request has expired", status=403)


def router(state: SandboxState) -> APIRouter:
    routes = APIRouter()

    @routes.post("/settlements/close", status_code=201)
    def close(body: CloseIn) -> dict[str, Any]:
        with state.lock:
            made = close_now(state, body.seller_id, body.currency)
            return {"reports": [describe(r) for r in made]}

    def settings() -> dict[str, Any]:
        return {"gzip": state.reports.gzip, "promotion_id": state.reports.promotion_id}

    @routes.get("/report-settings")
    def read_settings() -> dict[str, Any]:
        with state.lock:
            return settings()

    @routes.post("/report-settings")
    def change_settings(body: ReportSettingsIn) -> dict[str, Any]:
        with state.lock:
            if body.gzip is not None:
                state.reports.gzip = body.gzip
            if body.promotion_id is not None:
                state.reports.promotion_id = body.promotion_id
            return settings()

    @routes.post("/settlements/malformed", status_code=201)
    def malformed(body: MalformedIn) -> dict[str, Any]:
        bad = [kind for kind in body.kinds if kind not in MALFORMED_KINDS]
        if bad:
            raise SandboxError(f"kinds: {bad} are not among {list(MALFORMED_KINDS)}")
        with state.lock:
            state.seller(body.seller_id)
            queued = state.reports.malformed_next.setdefault(body.seller_id, [])
            queued.extend(body.kinds)
            return {"seller_id": body.seller_id, "next_report_malformed": list(queued)}

    @routes.get("/reports")
    def reports(seller_id: str | None = None) -> dict[str, Any]:
        with state.lock:
            settle(state)
            listed = [
                r
                for r in state.reports.reports.values()
                if seller_id is None or r.seller_id == seller_id
            ]
            listed.sort(key=lambda r: (r.created_at, int(r.report_id)), reverse=True)
            return {"reports": [describe(r) for r in listed]}

    @routes.get("/reports/{report_id}/document")
    def report_document(report_id: str) -> Response:
        with state.lock:
            settle(state)
            report = state.reports.reports.get(report_id)
            if report is None or not report.document_id:
                raise SandboxError(f"no report document for report {report_id}", status=404)
            return Response(document_text(report), media_type=TSV)

    @routes.get("/report-downloads/{document_id}")
    def download(
        document_id: str, expires: str | None = None, contentEncoding: str | None = None
    ) -> Response:
        with state.lock:
            report = state.reports.document(None, document_id)
            if report is None:
                raise SandboxError(f"No such document {document_id}", status=404)
            _check_expiry(state, expires)
            gzipped = report.compression == "GZIP" and contentEncoding == "gzip"
            headers = {"content-encoding": "gzip"} if gzipped else {}
            media = "application/octet-stream" if report.compression and not gzipped else TSV
            return Response(report.content, media_type=media, headers=headers)

    return routes
