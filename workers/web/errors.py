"""Every refusal of the web process reads ``{"errors": [{"field": ..., "reason": ...}]}``, also
one raised in a dependency (``Refused``), where FastAPI's own would read ``{"detail": ...}``."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from domain.fulfilments import FieldError


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
    body = {"errors": [{"field": e.field, "reason": e.reason} for e in errors]}
    return JSONResponse(body, status_code=status, headers=headers)


async def _answer_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return errors_response(exc.status, *exc.errors, headers=exc.headers)


def install(app: FastAPI) -> None:
    """Answer ``Refused`` in the channel's error shape."""
    app.add_exception_handler(Refused, _answer_refused)
