"""Bearer tokens from ``API_TOKENS``: ``require_token`` is a dependency of the ``/v1`` router
(``workers.web.app.api_router``), so a route added to it cannot forget to ask for one."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.fulfilments import FieldError
from workers import bootstrap
from workers.web.errors import Refused
from workers.web.schemas import ErrorsOut

_bearer = HTTPBearer(auto_error=False, description="One of the channel's API_TOKENS.")

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorsOut, "description": "No bearer token, or not one of ours."}
}


def valid_token(given: str) -> bool:
    """Is ``given`` one of the tokens? The one question every door asks (the API's bearer
    header, the operator page's sign-in)."""
    tokens = bootstrap.container().settings.api_token_list()
    # Every token is compared (no early exit), in constant time per comparison.
    matches = [secrets.compare_digest(given.encode(), token.encode()) for token in tokens]
    return bool(given) and any(matches)


async def require_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse the request (401) unless it carries one of the tokens. Async: it only compares
    strings, so it runs on the event loop instead of taking a thread for it."""
    if valid_token(credentials.credentials if credentials is not None else ""):
        return
    raise Refused(
        401,
        FieldError("Authorization", "a valid bearer token is required"),
        headers={"WWW-Authenticate": "Bearer"},
    )
