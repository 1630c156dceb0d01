"""Every refusal of the web process reads ``{"errors": [{"field": ..., "reason": ...}]}``, also
one raised in a dependency (``Refused``), a parameter FastAPI refused (a path id), a path or a
method the API does not have, where FastAPI's own would read ``{"detail": ...}``. An answer
lists at most the first 50 errors; a last entry, field ``errors``, says how many more there
were (``workers.doors.limits.capped``)."""

from __future__ import annotations

import re

from fastapi import FastAPI, Request, Response, routing
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from domain.fulfilments import FieldError
from workers.doors.limits import capped, printable
from workers.doors.refusals import param_errors
from workers.web.guard import Guard


class Refused(Exception):
    """Raised where a response cannot be returned (a dependency): answered by ``install``'s
    handler with the status, the errors and the headers."""

    def __init__(
        self, status: int, *errors: FieldError, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.status = status
        self.errors = errors
        self.headers = headers


def errors_response(
    status: int, *errors: FieldError, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"errors": [{"field": e.field, "reason": e.reason} for e in capped(errors)]}
    return JSONResponse(body, status_code=status, headers=headers)


async def _answer_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return errors_response(exc.status, *exc.errors, headers=exc.headers)


async def _answer_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return errors_response(422, *param_errors(exc.errors()))


async def _answer_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = FieldError("path", f"no such resource: {printable(request.url.path)}")
    elif exc.status_code == 405:
        error = FieldError("method", f"{request.method} is not allowed here")
    else:
        error = FieldError("request", str(exc.detail))
    headers = dict(exc.headers) if exc.headers else {}
    allowed = _allowed(request.app, request.url.path) if exc.status_code == 405 else None
    if allowed:  # else a mount's own answer (the docs' assets: GET, HEAD)
        headers["Allow"] = ", ".join(sorted(allowed))
    return errors_response(exc.status_code, error, headers=headers or None)


def _allowed(app: FastAPI, path: str) -> set[str]:
    """Every method some route of the path answers: Starlette's 405 names only the first
    route's, and ``GET /v1/refunds`` and ``POST /v1/refunds`` are two routes."""
    table: list[tuple[re.Pattern[str], set[str]]] | None = getattr(app.state, "methods", None)
    if table is None:
        table = [
            (compile_path(context.path)[0], set(context.methods or ()))
            for context in routing.iter_route_contexts(app.routes)
            if context.path is not None and context.methods
        ]
        app.state.methods = table
    return {method for regex, methods in table if regex.match(path) for method in methods}


def install(app: FastAPI) -> None:
    """Answer ``Refused`` and FastAPI's own refusals in the channel's error shape, and put the
    guard (request id, body cap, the 500 of an unexpected error) around every request."""
    app.add_exception_handler(Refused, _answer_refused)
    app.add_exception_handler(RequestValidationError, _answer_invalid)
    app.add_exception_handler(HTTPException, _answer_http)
    app.add_middleware(Guard)
