"""The platform's refunds: ``POST /v1/refunds`` takes one in, ``GET /v1/refunds/{refund_id}``
shows where it stands, ``GET /v1/refunds?...`` pages through them. The cancellations' routes
(``workers.web.cancellations``) are these with the other kind.

A POST carries an ``Idempotency-Key``: the same key with the same body returns the first answer
(status and body, marked ``Idempotent-Replayed: true``); with another body it is a 409. A refused
request (422, 409) keeps no answer, so the platform can fix the body and send it again under the
same key. The key is claimed in the request's own transaction: a second request with a key that
is running waits for the first and then replays its answer.

The body is read here, not by FastAPI, with its numbers as ``Decimal`` (an amount is never a
float): the key is claimed on the body as sent, and only then is it validated with the door's
model (the same model and reasons as the queue and the CLI), which also gives the OpenAPI
document its schema.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from domain.refunds import RefundKind
from domain.shared import FieldError, Rejected
from infra.db.idempotency import KeyStatus, request_hash
from workers import bootstrap
from workers.doors import refunds as door
from workers.doors.fulfilments.queueing import TaskSender, default_sender
from workers.doors.limits import (
    BIGINT_MAX,
    DEPTH_REASON,
    ID_RANGE,
    ascii_id,
    text_problem,
)
from workers.doors.limits import too_deep as nested_too_deep
from workers.doors.refunds.intake import accept, queue_flush, refund_store
from workers.doors.refunds.listing import MAX_LIMIT, PARAMETERS, page, read_listing
from workers.doors.refusals import refused
from workers.doors.stand_ins import read_stand_in_items
from workers.web.auth import hides
from workers.web.errors import errors_response
from workers.web.guard import BODY_LIMIT
from workers.web.query import query_of
from workers.web.schemas import ErrorsOut, RefundListOut, RefundOut, json_body, refund_out

SCOPE = {RefundKind.REFUND: "refunds", RefundKind.CANCELLATION: "cancellations"}
NOT_JSON = FieldError("body", "not valid JSON")


def refund_id_of(value: Any) -> Any:
    """A path id in ASCII digits within the id column's range."""
    if isinstance(value, str):
        number = ascii_id(value.strip())
        if number is None:
            raise refused(f"must be an id: {ID_RANGE}")
        return number
    return value


RefundId = Annotated[
    int,
    BeforeValidator(refund_id_of),
    Path(ge=1, le=BIGINT_MAX, description="The channel's refund id."),
]


def flush_sender() -> TaskSender:
    """Where the batcher's flush is queued after an accept (a dependency: tests give their
    own)."""
    return default_sender()


def conflict_responses(what: str, platform_id: str) -> dict[int | str, dict[str, Any]]:
    return {
        409: {
            "model": ErrorsOut,
            "description": f"The Idempotency-Key came with another body, or the {platform_id} "
            f"is taken by a different {what}.",
        },
        413: {"model": ErrorsOut, "description": f"The body is larger than {BODY_LIMIT} bytes."},
        415: {"model": ErrorsOut, "description": "The body is sent as something other than JSON."},
        422: {"model": ErrorsOut, "description": f"The {what} cannot be accepted: see why."},
    }


IDEMPOTENCY_KEY = Header(
    alias="Idempotency-Key", description="Required. The same key and body return the first answer."
)


def _not_json(constant: str) -> Any:
    """``NaN`` and the infinities: Python's parser takes them, JSON has no such numbers."""
    raise ValueError(constant)


def create(
    raw: bytes, idempotency_key: str | None, sender: TaskSender, kind: RefundKind
) -> JSONResponse:
    """A POST's body taken in under its idempotency key (run in a worker thread)."""
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        return errors_response(
            422, FieldError("Idempotency-Key", "required header: 1 to 200 characters")
        )
    problem = text_problem(key)
    if problem is not None:
        return errors_response(422, FieldError("Idempotency-Key", problem))
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_not_json)
    except RecursionError:  # nested deeper than the parser goes
        return errors_response(422, FieldError("body", DEPTH_REASON))
    except ValueError:
        return errors_response(422, NOT_JSON)
    if nested_too_deep(data):  # before it is hashed, stored or validated
        return errors_response(422, FieldError("body", DEPTH_REASON))
    read_stand_in_items(data)  # an order from an order report: Amazon's item ids first
    clock = bootstrap.container().clock
    # The key, the refund and the answer commit together; a refusal rolls the key back.
    with refund_store().keyed_intake(SCOPE[kind], key, request_hash({"body": data})) as keyed:
        claim = keyed.claim
        if claim.status is KeyStatus.MISMATCH:
            return errors_response(
                409, FieldError("Idempotency-Key", "already used with a different body")
            )
        if claim.status is KeyStatus.REPLAY:
            assert claim.response_code is not None
            return JSONResponse(
                claim.response_body,
                status_code=claim.response_code,
                headers={"Idempotent-Replayed": "true"},
            )
        try:
            command = (
                door.read_cancellation(data)
                if kind is RefundKind.CANCELLATION
                else door.read_refund(data)
            )
        except door.RefundRequestRefused as exc:
            return errors_response(422, *door.every_reason(data, exc, kind, keyed))
        result = accept(command, keyed, clock)
        if isinstance(result, Rejected):
            return errors_response(409 if result.conflict else 422, *result.errors)
        code = 201 if result.created else 200
        body = refund_out(result.refund)
        keyed.answer(code, body)
    queue_flush(result, sender)  # after the commit
    return JSONResponse(body, status_code=code)


def show(refund_id: int, kind: RefundKind, request: Request) -> JSONResponse:
    """One refund or cancellation by id; one of the other kind is not found here (with a
    pointer to where it is), nor one of an account the request's token is not for."""
    found = refund_store().get(refund_id)
    field = f"{kind.value}_id"
    if found is None or hides(request, found.account_id):
        return errors_response(404, FieldError(field, f"no {kind.value} {refund_id}"))
    if found.kind is not kind:
        where = f"/v1/{SCOPE[found.kind]}/{refund_id}"
        return errors_response(
            404, FieldError(field, f"no {kind.value} {refund_id}: it is a {found.kind} ({where})")
        )
    return JSONResponse(refund_out(found))


def listing(request: Request, kind: RefundKind) -> JSONResponse:
    """A page of one kind, its query refused with every parameter's reason."""
    params, errors = query_of(request, PARAMETERS)
    query = read_listing(kind, params)
    if isinstance(query, Rejected):
        errors.extend(query.errors)
    if errors:
        return errors_response(422, *errors)
    assert not isinstance(query, Rejected)
    found = page(query, refund_store())
    if isinstance(found, Rejected):
        return errors_response(422, *found.errors)
    refunds = [refund_out(refund) for refund in found.refunds]
    return JSONResponse({SCOPE[kind]: refunds, "next_after": found.next_after})


def list_description(what: str) -> str:
    return (
        f"Oldest first, at most ``limit`` (1 to {MAX_LIMIT}, 50 when not given). Filters: "
        "``account`` (name or id), ``amazon_order_id``, ``state``. ``next_after`` is the cursor "
        f"of the next page (pass it as ``after``); null: the last page of {what}."
    )


router = APIRouter(tags=["refunds"])


@router.post(
    "/refunds",
    status_code=201,
    response_model=None,
    summary="Refund an Amazon order's lines on Amazon",
    description=(
        "Checks the refund against the order and everything refunded before, stores it, and "
        "queues it for Amazon's adjustment feed. 201: accepted now; 200: the same refund was "
        "accepted before. Follow its state with GET."
    ),
    responses={
        201: {"model": RefundOut, "description": "Accepted."},
        200: {"model": RefundOut, "description": "Accepted before (same body)."},
        **conflict_responses("refund", "platform_refund_id"),
    },
    openapi_extra=json_body(door.RefundRequest),
)
async def create_refund(
    request: Request,
    sender: Annotated[TaskSender, Depends(flush_sender)],
    idempotency_key: Annotated[str | None, IDEMPOTENCY_KEY] = None,
) -> JSONResponse:
    raw = await request.body()
    return await run_in_threadpool(create, raw, idempotency_key, sender, RefundKind.REFUND)


@router.get(
    "/refunds/{refund_id}",
    response_model=None,
    summary="A refund and where it stands",
    responses={
        200: {"model": RefundOut, "description": "The refund."},
        404: {"model": ErrorsOut, "description": "No such refund."},
        422: {"model": ErrorsOut, "description": "The path holds no refund id."},
    },
)
def get_refund(refund_id: RefundId, request: Request) -> JSONResponse:
    return show(refund_id, RefundKind.REFUND, request)


@router.get(
    "/refunds",
    response_model=None,
    summary="Refunds, a page at a time",
    description=list_description("refunds"),
    responses={
        200: {"model": RefundListOut, "description": "A page of refunds."},
        422: {"model": ErrorsOut, "description": "A parameter refused: see why."},
    },
)
def list_refunds(
    request: Request,
    account: str | None = None,
    amazon_order_id: str | None = None,
    state: str | None = None,
    after: str | None = None,
    limit: str | None = None,
) -> JSONResponse:
    # The parameters are declared for the OpenAPI document; they are read (and refused) from
    # the query itself, with the listing's rules that the CLI shares.
    return listing(request, RefundKind.REFUND)
