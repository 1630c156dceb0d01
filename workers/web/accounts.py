"""The seller accounts and their connection to Amazon, for the platform: ``GET /accounts`` lists
them with their status, ``POST .../disable`` and ``.../enable`` stop and resume one,
``POST .../disconnect`` stops everything towards Amazon, ``GET .../reconnect-plan`` shows what
reconnecting would send (and changes nothing), ``POST .../reconnect`` connects again and makes
every held refund and cancellation wait for approval, ``POST .../approvals`` approves or
rejects them. The same steps and the same plan as the CLI's
``accounts list|disable|enable|disconnect|reconnect|approve``.

No held refund is sent by reconnecting: a refund of an order that shipped meanwhile would give
money back for goods the buyer has, so each waits for a person (``domain.refunds.reconnect``).
Every route is safe to call twice: the second call changes nothing.

An account is named in the path by its name or its id, checked as the bodies' ``account`` is
(text the store can hold; digits are an id within bigint). Bodies are read here, not by
FastAPI, so that every refusal names its field in the channel's words
(``workers.doors.refusals``); their models also give the OpenAPI document its schemas.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, TypeVar

from annotated_types import Ge, Le
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from domain.refunds.reconnect import Approval, approve, reconnect_plan
from domain.shared import FieldError, row_id
from infra.db.accounts import AccountError, AccountView, get_account, list_accounts, set_connected
from infra.db.accounts_changes import set_enabled
from workers import bootstrap
from workers.doors.fulfilments.queueing import TaskSender
from workers.doors.limits import (
    BIGINT_MAX,
    DEPTH_REASON,
    ID_RANGE,
    ascii_id,
    shown,
    text_problem,
    too_deep,
)
from workers.doors.refunds import enqueue_flush
from workers.doors.refunds.fields import ACCOUNT_ID
from workers.doors.refusals import refused, validated
from workers.web.errors import errors_response
from workers.web.guard import BODY_LIMIT
from workers.web.refunds import flush_sender
from workers.web.schemas import (
    AccountOut,
    ApprovalOut,
    ErrorsOut,
    PlanOut,
    ReconnectOut,
    account_out,
    approval_out,
    json_body,
    plan_out,
    reconnect_out,
)

M = TypeVar("M", bound=BaseModel)
NAME_LIMIT = 100  # the longest account name a request may give (as the bodies' ``account``)
MAX_IDS = 1000  # refund ids in one approval
NOT_JSON = FieldError("body", "not valid JSON")
NOTHING_ASKED = "nothing to do: give all_safe: true, refund_ids or reject_ids"
REQUIRED = "required: a JSON object with all_safe, refund_ids or reject_ids"


# --- the account in the path ----------------------------------------------------------------


def account_ref_of(value: Any) -> Any:
    """The path's account: a name or an id, as text the store can hold (``"²"`` is a digit to
    Python but no id)."""
    if not isinstance(value, str):
        return value
    ref = value.strip()
    problem = text_problem(ref)
    if problem is not None:
        raise refused(problem)
    if not ref:
        raise refused("required: the seller account's name or id")
    if len(ref) > NAME_LIMIT:
        raise refused(f"longer than {NAME_LIMIT} characters")
    if ref.isdigit() and ascii_id(ref) is None:
        raise refused(ACCOUNT_ID)
    return ref


AccountRef = Annotated[
    str,
    BeforeValidator(account_ref_of),
    Path(max_length=NAME_LIMIT, description="The seller account's name, or its id."),
]


def _found(ref: str) -> AccountView | JSONResponse:
    try:
        return get_account(bootstrap.container().sessions, ref)
    except AccountError:
        return _no_account(ref)


def _no_account(ref: str) -> JSONResponse:
    return errors_response(404, FieldError("account", f"no seller account {shown(ref)}"))


# --- the bodies -----------------------------------------------------------------------------


def _absent_is(default: Any) -> Any:
    """null reads as the field not given."""

    def read(value: Any) -> Any:
        return default if value is None else value

    return BeforeValidator(read)


def _refund_ids(value: Any) -> Any:
    if value is None:
        return []
    if not isinstance(value, list):
        raise refused("must be a list of refund ids")
    if len(value) > MAX_IDS:
        raise refused(f"at most {MAX_IDS} refund ids at once")
    return value


def _refund_id(value: Any) -> Any:
    """A JSON integer (never a boolean, a float or a string) within the id column's range."""
    if isinstance(value, bool) or not isinstance(value, int) or row_id(value) is None:
        raise refused(f"must be a refund id: {ID_RANGE}")
    return value


RefundIds = Annotated[
    list[Annotated[int, Ge(1), Le(BIGINT_MAX), BeforeValidator(_refund_id)]],
    BeforeValidator(_refund_ids),
    Field(max_length=MAX_IDS),
]


class ReconnectRequest(BaseModel):
    """Optional: without a body, nothing is approved."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    approve_safe: Annotated[
        bool,
        _absent_is(False),
        Field(description="Also approve every item the plan calls safe."),
    ] = False


class ApprovalRequest(BaseModel):
    """Approve or reject what was held while the account was disconnected (at least one of
    the three)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    all_safe: Annotated[
        bool,
        _absent_is(False),
        Field(description="Approve every item the reconnect plan calls safe."),
    ] = False
    refund_ids: Annotated[
        RefundIds,
        Field(description="Approve these one by one, on purpose (a shipped order's refund too)."),
    ] = []
    reject_ids: Annotated[
        RefundIds,
        Field(description="Reject these: they fail, and are never sent."),
    ] = []


def read_body(raw: bytes, model: type[M]) -> M | tuple[FieldError, ...]:
    """The body as ``model``, or its refusals (a tuple of ``FieldError``). An empty body is an
    empty object."""
    if not raw.strip():
        data: Any = {}
    else:
        try:
            data = json.loads(raw, parse_constant=_not_json)
        except RecursionError:  # nested deeper than the parser goes
            return (FieldError("body", DEPTH_REASON),)
        except ValueError:
            return (NOT_JSON,)
        if too_deep(data):
            return (FieldError("body", DEPTH_REASON),)
    return validated(model, data, root="body")


def read_approval(raw: bytes) -> ApprovalRequest | tuple[FieldError, ...]:
    """An approval's body, or every refusal: an empty one asks nothing, and an id cannot be
    both approved and rejected."""
    found = read_body(raw, ApprovalRequest)
    if isinstance(found, tuple):
        return found
    if not (found.all_safe or found.refund_ids or found.reject_ids):
        return (FieldError("body", NOTHING_ASKED if raw.strip() else REQUIRED),)
    approving = set(found.refund_ids)
    both = [
        FieldError(
            f"reject_ids[{i}]", f"refund {refund_id} is also in refund_ids: one or the other"
        )
        for i, refund_id in enumerate(found.reject_ids)
        if refund_id in approving
    ]
    return tuple(both) if both else found


def _not_json(constant: str) -> Any:
    """``NaN`` and the infinities: Python's parser takes them, JSON has no such numbers."""
    raise ValueError(constant)


# --- the use cases --------------------------------------------------------------------------


def _approved(account_id: int, approval: Approval, sender: TaskSender) -> None:
    """After the commit: what was approved is due now; the batcher is told at once (the
    periodic flush takes it otherwise)."""
    if approval.approved:
        enqueue_flush(account_id, app=sender)


def _disconnect(ref: str) -> JSONResponse:
    try:
        view = set_connected(bootstrap.container().sessions, ref, False)
    except AccountError:
        return _no_account(ref)
    return JSONResponse(account_out(view))


def _plan(ref: str) -> JSONResponse:
    found = _found(ref)
    if isinstance(found, JSONResponse):
        return found
    plan = reconnect_plan(found.id, found.connected, bootstrap.container().refund_store)
    return JSONResponse(plan_out(found, plan))


def _reconnect(ref: str, raw: bytes, sender: TaskSender) -> JSONResponse:
    body = read_body(raw, ReconnectRequest)
    if isinstance(body, tuple):
        return errors_response(422, *body)
    c = bootstrap.container()
    try:
        view = set_connected(c.sessions, ref, True)
    except AccountError:
        return _no_account(ref)
    c.refund_store.hold_for_approval(view.id)
    approval = None
    if body.approve_safe:
        approval = approve(view.id, c.refund_store, all_safe=True)
        _approved(view.id, approval, sender)
    plan = reconnect_plan(view.id, view.connected, c.refund_store)
    return JSONResponse(reconnect_out(view, plan, approval))


def _approve(ref: str, raw: bytes, sender: TaskSender) -> JSONResponse:
    body = read_approval(raw)
    if isinstance(body, tuple):
        return errors_response(422, *body)
    found = _found(ref)
    if isinstance(found, JSONResponse):
        return found
    if not found.connected:
        reason = f"disconnected: reconnect it first (POST /v1/accounts/{found.id}/reconnect)"
        return errors_response(409, FieldError("account", reason))
    store = bootstrap.container().refund_store
    reject_ids = list(dict.fromkeys(body.reject_ids))
    done = approve(
        found.id,
        store,
        refund_ids=list(dict.fromkeys(body.refund_ids)),
        all_safe=body.all_safe,
        reject_ids=reject_ids,
    )
    # A rejection that did not move (still held) is named too, never dropped.
    named = {*done.rejected, *(refund_id for refund_id, _ in done.refused)}
    left = tuple(
        (refund_id, "still held: reconnect the account first")
        for refund_id in reject_ids
        if refund_id not in named
    )
    done = Approval(done.approved, done.rejected, done.refused + left)
    _approved(found.id, done, sender)
    return JSONResponse(approval_out(done))


# --- the routes -----------------------------------------------------------------------------

router = APIRouter(prefix="/accounts", tags=["accounts"])

_NO_ACCOUNT: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorsOut, "description": "No seller account by this name or id."},
}
_BAD_PATH: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorsOut, "description": "The path names no account the store can hold."},
}
_BAD_BODY: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorsOut, "description": f"The body is larger than {BODY_LIMIT} bytes."},
    422: {"model": ErrorsOut, "description": "The path or the body refused: see why."},
}


def _optional(body: dict[str, Any]) -> dict[str, Any]:
    body["requestBody"]["required"] = False
    return body


@router.post(
    "/{account}/disconnect",
    response_model=None,
    summary="Stop everything towards Amazon for a seller account",
    description=(
        "No order sync, no shipment confirmation, no feed until it is reconnected. Fulfilments, "
        "refunds and cancellations that arrive meanwhile are accepted and held (refunds and "
        "cancellations in the state held). Disconnecting twice changes nothing."
    ),
    responses={
        200: {"model": AccountOut, "description": "The account, disconnected."},
        **_NO_ACCOUNT,
        **_BAD_PATH,
    },
)
def disconnect(account: AccountRef) -> JSONResponse:
    return _disconnect(account)


@router.get(
    "/{account}/reconnect-plan",
    response_model=None,
    summary="What reconnecting a seller account would send (changes nothing)",
    description=(
        "Every refund and cancellation held or awaiting approval, each with its verdict: safe "
        "(nothing of the order shipped), needs_approval (the order shipped: approve it by its "
        "id, on purpose) or cannot (it can no longer be done); the fulfilments sent once "
        "connected; where the order sync catches up from."
    ),
    responses={
        200: {"model": PlanOut, "description": "The plan."},
        **_NO_ACCOUNT,
        **_BAD_PATH,
    },
)
def get_reconnect_plan(account: AccountRef) -> JSONResponse:
    return _plan(account)


@router.post(
    "/{account}/reconnect",
    response_model=None,
    summary="Reconnect a seller account; held refunds wait for approval",
    description=(
        "The order sync resumes from its watermark and waiting fulfilments are sent. No held "
        "refund or cancellation is sent by itself: each now awaits approval (POST .../approvals)"
        "; with approve_safe, every safe one is approved at once. Answers the plan of what still "
        "waits. Reconnecting twice changes nothing."
    ),
    responses={
        200: {"model": ReconnectOut, "description": "Connected: the plan of what waits."},
        **_NO_ACCOUNT,
        **_BAD_BODY,
    },
    openapi_extra=_optional(json_body(ReconnectRequest)),
)
async def post_reconnect(
    account: AccountRef,
    request: Request,
    sender: Annotated[TaskSender, Depends(flush_sender)],
) -> JSONResponse:
    raw = await request.body()
    return await run_in_threadpool(_reconnect, account, raw, sender)


@router.post(
    "/{account}/approvals",
    response_model=None,
    summary="Approve or reject refunds held while a seller account was disconnected",
    description=(
        "all_safe approves every item the reconnect plan calls safe; refund_ids approves those "
        "one by one, on purpose (a shipped order's refund too, never one that can no longer be "
        "done); reject_ids fails those. An id that cannot be approved or rejected is in refused "
        "with why. Approved ones are sent with the next feed. Safe to send twice."
    ),
    responses={
        200: {"model": ApprovalOut, "description": "What was approved, rejected and refused."},
        409: {"model": ErrorsOut, "description": "The account is disconnected: reconnect it."},
        **_NO_ACCOUNT,
        **_BAD_BODY,
    },
    openapi_extra=json_body(ApprovalRequest),
)
async def post_approvals(
    account: AccountRef,
    request: Request,
    sender: Annotated[TaskSender, Depends(flush_sender)],
) -> JSONResponse:
    raw = await request.body()
    return await run_in_threadpool(_approve, account, raw, sender)


# --- status: list, disable, enable (the CLI's ``accounts list|disable|enable``) ---------------


class AccountStatusOut(AccountOut):
    """A seller account with its status (its credentials never)."""

    status: str = Field(
        description="active, disabled, paused (Login with Amazon refused its credentials), "
        "disconnected or removed: only an active one is synced and sent for."
    )
    paused_reason: str | None = Field(description="Login with Amazon's answer, when paused.")
    paused_at: datetime | None = Field(description="When it was paused.")


class AccountsOut(BaseModel):
    accounts: list[AccountStatusOut]


def status_out(account: AccountView) -> dict[str, Any]:
    return {
        **account_out(account),
        "status": account.status.split(":")[0],
        "paused_reason": account.paused_reason,
        "paused_at": account.paused_at.isoformat() if account.paused_at else None,
    }


@router.get(
    "",
    response_model=None,
    summary="The seller accounts with their status",
    description="By id; removed accounts are left out. A paused account says why.",
    responses={200: {"model": AccountsOut, "description": "Every account not removed."}},
)
def get_accounts() -> JSONResponse:
    accounts = list_accounts(bootstrap.container().sessions)
    return JSONResponse({"accounts": [status_out(a) for a in accounts]})


def _set_enabled(ref: str, enabled: bool) -> JSONResponse:
    try:
        view = set_enabled(bootstrap.container().sessions, ref, enabled)
    except AccountError:
        return _no_account(ref)
    return JSONResponse(status_out(view))


@router.post(
    "/{account}/disable",
    response_model=None,
    summary="Stop syncing and sending for a seller account",
    description="Nothing is deleted; enabling it resumes the sync from its watermark. Twice "
    "changes nothing.",
    responses={
        200: {"model": AccountStatusOut, "description": "The account, disabled."},
        **_NO_ACCOUNT,
        **_BAD_PATH,
    },
)
def disable(account: AccountRef) -> JSONResponse:
    return _set_enabled(account, False)


@router.post(
    "/{account}/enable",
    response_model=None,
    summary="Sync a seller account again",
    description="Undoes a disable, or a pause on refused credentials (they are tried at the "
    "next sync). Twice changes nothing.",
    responses={
        200: {"model": AccountStatusOut, "description": "The account, enabled."},
        **_NO_ACCOUNT,
        **_BAD_PATH,
    },
)
def enable(account: AccountRef) -> JSONResponse:
    return _set_enabled(account, True)
