"""The platform's fulfilments: ``POST /v1/fulfilments`` takes one in,
``GET /v1/fulfilments/{fulfilment_id}`` shows its state, ``GET /v1/fulfilments?...`` pages
through them (the refunds' listing, ``workers.web.refunds``, with the fulfilments' filters).

A POST carries an ``Idempotency-Key``: the same key with the same body returns the first answer
(status and body, marked ``Idempotent-Replayed: true``); with another body it is a 409. A refused
request (422, 409) keeps no answer, so the platform can fix the body and send it again under the
same key. The key is claimed in the request's own transaction: a second request with a key that
is running waits for the first and then replays its answer.

The body is read here, not by FastAPI: the key is claimed on the body as sent, and only then is
it validated, with the door's ``FulfilmentRequest`` (the same model and reasons as the queue and
the CLI), which also gives the OpenAPI document its schema.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator
from starlette.concurrency import run_in_threadpool

from domain.fulfilments import FieldError, InvalidRequest, Rejected, accept_fulfilment
from infra.db.idempotency import KeyStatus, request_hash
from workers import bootstrap
from workers.doors import fulfilments as door
from workers.doors.fulfilments.listing import PARAMETERS, STATES, page, read_listing
from workers.doors.limits import (
    BIGINT_MAX,
    DEPTH_REASON,
    ID_RANGE,
    ascii_id,
    text_problem,
    too_deep,
)
from workers.doors.paging import MAX_LIMIT
from workers.doors.refusals import refused
from workers.doors.stand_ins import read_stand_in_items
from workers.web.auth import hides
from workers.web.errors import errors_response
from workers.web.guard import BODY_LIMIT
from workers.web.query import query_of
from workers.web.schemas import (
    ErrorsOut,
    FulfilmentListOut,
    FulfilmentOut,
    fulfilment_out,
    json_body,
)

IDEMPOTENCY_SCOPE = "fulfilments"
NOT_JSON = FieldError("body", "not valid JSON")


def _fulfilment_id(value: Any) -> Any:
    """A path id in ASCII digits within the id column's range (``"²"`` is a digit to Python
    but no number; a number past bigint is no id the store can look up)."""
    if isinstance(value, str):
        number = ascii_id(value.strip())
        if number is None:
            raise refused(f"must be a fulfilment id: {ID_RANGE}")
        return number
    return value


FulfilmentId = Annotated[
    int,
    BeforeValidator(_fulfilment_id),
    Path(ge=1, le=BIGINT_MAX, description="The channel's fulfilment id."),
]


def confirmation_sender() -> door.TaskSender:
    """Where accepted fulfilments are queued (a dependency: tests give their own)."""
    return door.default_sender()


_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorsOut,
        "description": "The Idempotency-Key came with another body, or the "
        "platform_fulfilment_id is taken by a different fulfilment.",
    },
    413: {"model": ErrorsOut, "description": f"The body is larger than {BODY_LIMIT} bytes."},
    415: {"model": ErrorsOut, "description": "The body is sent as something other than JSON."},
    422: {"model": ErrorsOut, "description": "The fulfilment cannot be accepted: see the reasons."},
}

router = APIRouter(tags=["fulfilments"])


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
        **_CONFLICT,
    },
    openapi_extra=json_body(door.FulfilmentRequest),
)
async def create_fulfilment(
    request: Request,
    sender: Annotated[door.TaskSender, Depends(confirmation_sender)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Required. The same key and body return the first answer.",
        ),
    ] = None,
) -> JSONResponse:
    raw = await request.body()
    return await run_in_threadpool(_create, raw, idempotency_key, sender)


def _create(raw: bytes, idempotency_key: str | None, sender: door.TaskSender) -> JSONResponse:
    key = (idempotency_key or "").strip()
    if not key or len(key) > 200:
        return errors_response(
            422, FieldError("Idempotency-Key", "required header: 1 to 200 characters")
        )
    problem = text_problem(key)
    if problem is not None:
        return errors_response(422, FieldError("Idempotency-Key", problem))
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except RecursionError:  # nested deeper than the parser goes
        return errors_response(422, FieldError("body", DEPTH_REASON))
    except ValueError:
        return errors_response(422, NOT_JSON)
    if too_deep(data):  # before it is hashed, stored or validated
        return errors_response(422, FieldError("body", DEPTH_REASON))
    read_stand_in_items(data)  # an order from an order report: Amazon's item ids first
    clock = bootstrap.container().clock
    # The key, the fulfilment and the answer commit together; a refusal rolls the key back.
    with door.fulfilment_store().keyed_intake(
        IDEMPOTENCY_SCOPE, key, request_hash({"body": data})
    ) as keyed:
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
            command = door.read_request(data)
        except InvalidRequest as exc:
            return errors_response(422, *door.every_reason(data, exc, keyed, clock))
        result = accept_fulfilment(command, keyed, clock)
        if isinstance(result, Rejected):
            return errors_response(409 if result.conflict else 422, *result.errors)
        code = 201 if result.created else 200
        body = fulfilment_out(result.fulfilment)
        keyed.answer(code, body)
    door.queue_confirmation(result, clock, sender)  # after the commit
    return JSONResponse(body, status_code=code)


def _not_json(constant: str) -> Any:
    """``NaN`` and the infinities: Python's parser takes them, JSON has no such numbers."""
    raise ValueError(constant)


@router.get(
    "/fulfilments/{fulfilment_id}",
    response_model=None,
    summary="A fulfilment and where it stands",
    responses={
        200: {"model": FulfilmentOut, "description": "The fulfilment."},
        404: {"model": ErrorsOut, "description": "No such fulfilment."},
        422: {"model": ErrorsOut, "description": "The path holds no fulfilment id."},
    },
)
def get_fulfilment(fulfilment_id: FulfilmentId, request: Request) -> JSONResponse:
    fulfilment = door.fulfilment_store().get(fulfilment_id)
    if fulfilment is None or hides(request, fulfilment.account_id):
        return errors_response(404, FieldError("fulfilment_id", f"no fulfilment {fulfilment_id}"))
    return JSONResponse(fulfilment_out(fulfilment))


@router.get(
    "/fulfilments",
    response_model=None,
    summary="Fulfilments, a page at a time",
    description=(
        f"Oldest first, at most ``limit`` (1 to {MAX_LIMIT}, 50 when not given). Filters: "
        f"``account`` (name or id), ``amazon_order_id``, ``state`` ({STATES}), "
        "``created_since`` and ``created_until`` (when the channel took it in: ISO 8601, a date "
        "or a time without a zone read as UTC; since inclusive, until exclusive). "
        "``next_after`` is the cursor of the next page (pass it as ``after``); null: the last "
        "page."
    ),
    responses={
        200: {"model": FulfilmentListOut, "description": "A page of fulfilments."},
        422: {"model": ErrorsOut, "description": "A parameter refused: see why."},
    },
)
def list_fulfilments(
    request: Request,
    account: str | None = None,
    amazon_order_id: str | None = None,
    state: str | None = None,
    created_since: str | None = None,
    created_until: str | None = None,
    after: str | None = None,
    limit: str | None = None,
) -> JSONResponse:
    # The parameters are declared for the OpenAPI document; they are read (and refused) from
    # the query itself, with the listing's rules that the CLI shares.
    params, errors = query_of(request, PARAMETERS)
    query = read_listing(params)
    if isinstance(query, Rejected):
        errors.extend(query.errors)
    if errors:
        return errors_response(422, *errors)
    assert not isinstance(query, Rejected)
    found = page(query, door.fulfilment_store())
    if isinstance(found, Rejected):
        return errors_response(422, *found.errors)
    fulfilments = [fulfilment_out(fulfilment) for fulfilment in found.fulfilments]
    return JSONResponse({"fulfilments": fulfilments, "next_after": found.next_after})
