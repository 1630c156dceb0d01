"""Bearer tokens: ``require_token`` is a dependency of the ``/v1`` router
(``workers.web.app.api_router``), so a route added to it cannot forget to ask for one.

Two kinds are accepted: ``API_TOKENS`` (a setting, for simple setups; every account), and the
producers' tokens made by ``amazon-channel tokens create`` (``infra.db.tokens``: hashed in the
store, revocable, optionally limited to some accounts).

A limited token is held to its accounts here, in the one place every request passes, from the
account the request names: the path's ``{account}`` (``/accounts/{account}/...``), the query's
``account`` (the listings), or the JSON body's ``account`` (a new fulfilment, refund or
cancellation). Another account's is 403 naming the field ``account``; a listing that names no
account is 403 too (it would show every account's). An account the store does not know is left
to the route, which refuses it as it always does. A read by the channel's own id
(``GET /v1/fulfilments/{id}``) is checked by the route once it knows the row's account
(``hides``): another account's answers 404, as an id that names nothing.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from domain.fulfilments import FieldError
from infra.db.accounts import AccountError, get_account
from infra.db.tokens import TOKEN_PREFIX, TokenView, token_for
from workers import bootstrap
from workers.web.errors import Refused
from workers.web.schemas import ErrorsOut

_bearer = HTTPBearer(
    auto_error=False,
    description="One of the channel's API_TOKENS, or a token of `amazon-channel tokens create`.",
)

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorsOut, "description": "No bearer token, or not one of ours."},
    403: {"model": ErrorsOut, "description": "The token is limited to other accounts."},
}
OTHER_ACCOUNT = "this token is limited to other accounts"
NAME_MAX = 100  # an account's name at most (``infra.db.accounts_checks``)
NO_ACCOUNT = "this token is limited to some accounts: name one (?account=)"


def valid_token(given: str) -> bool:
    """Is ``given`` one of the tokens (``API_TOKENS``, or a producer's token not revoked)? The
    operator page's sign-in asks it (blocking: a producer's token is a store lookup)."""
    if not given:
        return False
    if _is_setting_token(given):
        return True
    if given.startswith(TOKEN_PREFIX):
        return token_for(bootstrap.container().sessions, given) is not None
    return False


async def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse the request (401) unless it carries one of the tokens, and (403) a limited token's
    request for another account. ``API_TOKENS`` are compared on the event loop (strings only);
    a producer's token is looked up in a thread."""
    given = credentials.credentials if credentials is not None else ""
    if given and _is_setting_token(given):
        return
    token = None
    if given.startswith(TOKEN_PREFIX):
        token = await run_in_threadpool(token_for, bootstrap.container().sessions, given)
    if token is None:
        raise Refused(
            401,
            FieldError("Authorization", "a valid bearer token is required"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    if token.limited:
        request.state.limited_token = token  # a read by the channel's id checks it (``hides``)
        await _hold_to_its_accounts(request, token)


def hides(request: Request, account_id: int) -> bool:
    """A limited token's request for another account's fulfilment or refund read by the
    channel's own id: answered as not found (as if it did not exist; its id says nothing)."""
    token: TokenView | None = getattr(request.state, "limited_token", None)
    return token is not None and not token.allows(account_id)


def _is_setting_token(given: str) -> bool:
    tokens = bootstrap.container().settings.api_token_list()
    # Every token is compared (no early exit), in constant time per comparison.
    matches = [secrets.compare_digest(given.encode(), token.encode()) for token in tokens]
    return any(matches)


async def _hold_to_its_accounts(request: Request, token: TokenView) -> None:
    refs = [request.path_params.get("account"), request.query_params.get("account")]
    refs.append(await _body_account(request))
    named = [ref for ref in refs if isinstance(ref, str | int) and str(ref).strip()]
    if not named:
        if request.method == "GET" and not request.path_params:  # a listing of everything
            raise Refused(403, FieldError("account", NO_ACCOUNT))
        return
    for ref in named:
        account_id = await run_in_threadpool(_account_id, str(ref).strip())
        if account_id is not None and not token.allows(account_id):
            raise Refused(403, FieldError("account", OTHER_ACCOUNT))


async def _body_account(request: Request) -> Any:
    """The JSON body's ``account`` (None when there is no such body: the route judges it).
    Starlette keeps the body read, so the route reads the same bytes."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return None
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None
    return body.get("account") if isinstance(body, dict) else None


def _account_id(ref: str) -> int | None:
    if len(ref) > NAME_MAX or not ref.isprintable():  # not a name the store holds
        return None
    try:
        return get_account(bootstrap.container().sessions, ref).id
    except AccountError:
        return None
