"""The platform's cancellations: ``POST /v1/cancellations`` takes one in (the units stop, and
what they charged goes back), ``GET /v1/cancellations/{cancellation_id}`` shows where it stands,
``GET /v1/cancellations?...`` pages through them. Idempotency, the body's reading and the
listing's parameters are the refunds' (``workers.web.refunds``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from domain.refunds import RefundKind
from workers.doors import refunds as door
from workers.doors.fulfilments.queueing import TaskSender
from workers.doors.limits import BIGINT_MAX
from workers.web.refunds import (
    IDEMPOTENCY_KEY,
    conflict_responses,
    create,
    flush_sender,
    list_description,
    listing,
    refund_id_of,
    show,
)
from workers.web.schemas import CancellationListOut, CancellationOut, ErrorsOut, json_body

CancellationId = Annotated[
    int,
    BeforeValidator(refund_id_of),
    Path(ge=1, le=BIGINT_MAX, description="The channel's cancellation id."),
]

router = APIRouter(tags=["cancellations"])


@router.post(
    "/cancellations",
    status_code=201,
    response_model=None,
    summary="Cancel an Amazon order's unshipped units on Amazon",
    description=(
        "Checks the cancellation against the order (units not shipped yet) and what was "
        "refunded before, stores it with the refund of what the units charged, and queues it "
        "for Amazon's order acknowledgement (a whole order) or adjustment feed. 201: accepted "
        "now; 200: the same cancellation was accepted before. Follow its state with GET."
    ),
    responses={
        201: {"model": CancellationOut, "description": "Accepted."},
        200: {"model": CancellationOut, "description": "Accepted before (same body)."},
        **conflict_responses("cancellation", "platform_cancellation_id"),
    },
    openapi_extra=json_body(door.CancellationRequest),
)
async def create_cancellation(
    request: Request,
    sender: Annotated[TaskSender, Depends(flush_sender)],
    idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None,
) -> JSONResponse:
    raw = await request.body()
    return await run_in_threadpool(create, raw, idempotency_key, sender, RefundKind.CANCELLATION)


@router.get(
    "/cancellations/{cancellation_id}",
    response_model=None,
    summary="A cancellation and where it stands",
    responses={
        200: {"model": CancellationOut, "description": "The cancellation."},
        404: {"model": ErrorsOut, "description": "No such cancellation."},
        422: {"model": ErrorsOut, "description": "The path holds no cancellation id."},
    },
)
def get_cancellation(cancellation_id: CancellationId, request: Request) -> JSONResponse:
    return show(cancellation_id, RefundKind.CANCELLATION, request)


@router.get(
    "/cancellations",
    response_model=None,
    summary="Cancellations, a page at a time",
    description=list_description("cancellations"),
    responses={
        200: {"model": CancellationListOut, "description": "A page of cancellations."},
        422: {"model": ErrorsOut, "description": "A parameter refused: see why."},
    },
)
def list_cancellations(
    request: Request,
    account: str | None = None,
    amazon_order_id: str | None = None,
    state: str | None = None,
    after: str | None = None,
    limit: str | None = None,
) -> JSONResponse:
    return listing(request, RefundKind.CANCELLATION)
