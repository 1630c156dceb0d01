"""The platform's API: fulfilments in (``POST /v1/fulfilments``) and their state out.

Every call carries a bearer token from ``API_TOKENS``. A POST carries an ``Idempotency-Key``: the
same key with the same body returns the first answer (status and body, marked
``Idempotent-Replayed: true``); with another body it is a 409. A refused request (422, 409)
keeps no answer, so the platform can fix the body and send it again under the same key. The key
is claimed in the request's own transaction: a second request with a key that is running waits
for the first and then replays its answer.

Errors always read ``{"errors": [{"field": ..., "reason": ...}]}``. The body is parsed by the
domain (the same rules and reasons as the queue and the CLI), not by FastAPI's model validation;
the models below document it in the OpenAPI schema (``/docs``).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from domain.fulfilments import (
    FieldError,
    Fulfilment,
    InvalidRequest,
    Rejected,
    accept_fulfilment,
    parse_request,
)
from infra.clock import SystemClock
from infra.db.fulfilments import KeyStatus, request_hash
from workers import compose, producer

IDEMPOTENCY_SCOPE = "fulfilments"
_bearer = HTTPBearer(auto_error=False, description="One of the channel's API_TOKENS.")


def confirmation_sender() -> producer.TaskSender:
    """Where accepted fulfilments are queued (a dependency: tests give their own)."""
    from workers.celery_app import app

    sender: producer.TaskSender = app
    return sender


class Line(BaseModel):
    order_item_id: str | None = Field(None, description="Amazon's order item id, or ...")
    sku: str | None = Field(None, description="... the seller's SKU (one item of the order).")
    quantity: int = Field(ge=1)


class FailureOut(BaseModel):
    code: str | None
    reason: str | None


class FulfilmentOut(BaseModel):
    fulfilment_id: int
    package_reference_id: str = Field(description="What Amazon knows this package by.")
    account_id: int
    amazon_order_id: str
    platform_fulfilment_id: str
    state: Literal["accepted", "sending", "confirmed", "failed"]
    shipped_at: datetime
    carrier_code: str
    carrier_name: str | None
    shipping_method: str | None
    tracking_number: str
    lines: list[Line]
    buyer_notified_by: Literal["amazon"] = Field(
        "amazon", description="Amazon notifies the buyer; the platform must not."
    )
    failure: FailureOut | None = None


class ErrorOut(BaseModel):
    field: str
    reason: str


class ErrorsOut(BaseModel):
    errors: list[ErrorOut]


def _errors(
    status: int, *errors: FieldError, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"errors": [{"field": e.field, "reason": e.reason} for e in errors]}
    return JSONResponse(body, status_code=status, headers=headers)


def fulfilment_out(fulfilment: Fulfilment) -> dict[str, Any]:
    failure = None
    if fulfilment.failure_code is not None or fulfilment.failure_reason is not None:
        failure = FailureOut(code=fulfilment.failure_code, reason=fulfilment.failure_reason)
    out = FulfilmentOut(
        fulfilment_id=fulfilment.id,
        package_reference_id=fulfilment.package_reference_id,
        account_id=fulfilment.account_id,
        amazon_order_id=fulfilment.amazon_order_id,
        platform_fulfilment_id=fulfilment.platform_fulfilment_id,
        state=fulfilment.state.value,
        shipped_at=fulfilment.shipped_at,
        carrier_code=fulfilment.carrier_code,
        carrier_name=fulfilment.carrier_name,
        shipping_method=fulfilment.shipping_method,
        tracking_number=fulfilment.tracking_number,
        lines=[
            Line(order_item_id=line.order_item_id, sku=line.sku, quantity=line.quantity)
            for line in fulfilment.lines
        ],
        failure=failure,
    )
    return out.model_dump(mode="json")


def _unauthorized(credentials: HTTPAuthorizationCredentials | None) -> JSONResponse | None:
    tokens = compose.container().settings.api_token_list()
    given = credentials.credentials if credentials is not None else ""
    # Every token is compared (no early exit), in constant time per comparison.
    matches = [secrets.compare_digest(given.encode(), token.encode()) for token in tokens]
    if given and any(matches):
        return None
    return _errors(
        401,
        FieldError("Authorization", "a valid bearer token is required"),
        headers={"WWW-Authenticate": "Bearer"},
    )


_ERRORS_DOC: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorsOut, "description": "No bearer token, or not one of ours."},
    409: {
        "model": ErrorsOut,
        "description": "The Idempotency-Key came with another body, or the "
        "platform_fulfilment_id is taken by a different fulfilment.",
    },
    422: {"model": ErrorsOut, "description": "The fulfilment cannot be accepted: see the reasons."},
}

router = APIRouter(prefix="/v1", tags=["fulfilments"])


@router.post(
    "/fulfilments",
    status_code=201,
    response_model=None,
    summary="Confirm a store fulfilment on Amazon",
    description=(
        "Stores the fulfilment (one package, one tracking number) and queues its shipment "
        "confirmation on Amazon, with the store's ship date. 201: accepted now; 200: the same "
        "fulfilment was accepted before. Follow its state with GET."
    ),
    responses={
        201: {"model": FulfilmentOut, "description": "Accepted."},
        200: {"model": FulfilmentOut, "description": "Accepted before (same body)."},
        **_ERRORS_DOC,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": producer.REQUEST_SCHEMA}},
        }
    },
)
async def create_fulfilment(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    sender: Annotated[producer.TaskSender, Depends(confirmation_sender)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Required. The same key and body return the first answer.",
        ),
    ] = None,
) -> JSONResponse:
    raw = await request.body()
    return await run_in_threadpool(_create, raw, credentials, idempotency_key, sender)


def _create(
    raw: bytes,
    credentials: HTTPAuthorizationCredentials | None,
    idempotency_key: str | None,
    sender: producer.TaskSender,
) -> JSONResponse:
    refused = _unauthorized(credentials)
    if refused is not None:
        return refused
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        return _errors(422, FieldError("Idempotency-Key", "required header: 1 to 200 characters"))
    try:
        data = json.loads(raw)
    except ValueError:
        return _errors(422, FieldError("body", "not valid JSON"))
    clock = SystemClock()
    # The key, the fulfilment and the answer commit together; a refusal rolls the key back.
    with producer.fulfilment_store().keyed_intake(
        IDEMPOTENCY_SCOPE, key, request_hash({"body": data})
    ) as keyed:
        claim = keyed.claim
        if claim.status is KeyStatus.MISMATCH:
            return _errors(409, FieldError("Idempotency-Key", "already used with a different body"))
        if claim.status is KeyStatus.REPLAY:
            assert claim.response_code is not None
            return JSONResponse(
                claim.response_body,
                status_code=claim.response_code,
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            command = parse_request(data)
        except InvalidRequest as exc:
            return _errors(422, *exc.errors)
        result = accept_fulfilment(command, keyed, clock)
        if isinstance(result, Rejected):
            return _errors(409 if result.conflict else 422, *result.errors)
        code = 201 if result.created else 200
        body = fulfilment_out(result.fulfilment)
        keyed.answer(code, body)
    producer.queue_confirmation(result, clock, sender)  # after the commit
    return JSONResponse(body, status_code=code)


@router.get(
    "/fulfilments/{fulfilment_id}",
    response_model=None,
    summary="A fulfilment and where it stands",
    responses={
        200: {"model": FulfilmentOut, "description": "The fulfilment."},
        401: _ERRORS_DOC[401],
        404: {"model": ErrorsOut, "description": "No such fulfilment."},
    },
)
def get_fulfilment(
    fulfilment_id: int,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> JSONResponse:
    refused = _unauthorized(credentials)
    if refused is not None:
        return refused
    fulfilment = producer.fulfilment_store().get(fulfilment_id)
    if fulfilment is None:
        return _errors(404, FieldError("fulfilment_id", f"no fulfilment {fulfilment_id}"))
    return JSONResponse(fulfilment_out(fulfilment))
