"""The sandbox's HTTP face: Login with Amazon, the SP-API operations, the control API.

Every SP-API call goes through the same steps, in Amazon's order:

1. ``x-amz-access-token`` must be an unexpired LWA token; otherwise 403 ``Unauthorized``. A
   grantless operation (the Notifications API's destinations, a subscription by id) takes only
   a ``client_credentials`` token of scope ``sellingpartnerapi::notifications``, and every other
   operation only a seller's token: the other kind is 403 too. A grantless call's bucket is the
   application's.
2. A queued fault for this operation, seller and order (``/_sandbox/faults``) is taken:
   400/429/500/503 answer at once without applying the request; ``latency`` sleeps, then serves;
   ``drop`` ends the connection without applying; ``lose_response`` applies, then ends the
   connection halfway through the response; ``504_after_apply`` applies, then answers 504 (a gateway
   that gave up waiting: the request took effect, the client cannot know it).
3. The seller's token bucket for the operation (Amazon's usage plan x ``rate_factor``) must
   hold a token; otherwise 429 ``QuotaExceeded``.
4. The operation's handler (``operations.SERVED_OPERATIONS``) answers.

Every answer carries ``x-amzn-RequestId``; all but 429s also carry ``x-amzn-RateLimit-Limit``
(the 429 in Amazon's models declares only the request id). Every call lands in the call log.

A path or method the sandbox does not serve answers as Amazon does, ``{"errors": [...]}`` with
``x-amzn-RequestId`` (404 ``NotFound``, 405 ``InvalidInput``): FastAPI's ``{"detail": ...}``
would reach a client as a JSON object it could take for a payload. The control API under
``/_sandbox/`` keeps FastAPI's own answers.

The URLs the sandbox hands out (feed documents) start with the ``base_url`` it was created
with, never with the request's ``Host`` header: a client that sends a wrong Host must still be
sent to the sandbox.

An SP-API call does not go through FastAPI's router: ``SpApiRoutes`` (an ASGI middleware inside
FastAPI's error, telemetry and body-limit middleware) matches the operation's method and path
with Starlette's own path regex and awaits the same endpoint. FastAPI's routing, dependency
solving and exception middleware cost more CPU than the operations they wrapped. The operations
stay mounted on the router too, so whatever the fast path does not take (HEAD, a method the
path does not serve, a ``root_path``) gets the router's answer, Amazon-shaped as above.
Around both, ``MarksChanges`` tells the state that a request may have changed it (the keeper
then saves it).

How a connection is "lost": the ASGI server offers no way to close a socket without answering,
so the app starts the response (status, headers with the full ``content-length``) and returns
before the body is complete. uvicorn then closes the connection and logs "ASGI callable
returned without completing response"; clients see a transport error (httpx raises
``RemoteProtocolError``), never a status they could trust.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC
from email.utils import format_datetime
from re import Pattern
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.convertors import Convertor
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra.amazon.models import operations
from infra.amazon.sandbox import control
from infra.amazon.sandbox.delivery import install_notifier
from infra.amazon.sandbox.errors import ApiError, SandboxError, error_body
from infra.amazon.sandbox.operations import (
    GRANTLESS_OPERATIONS,
    LWA_TOKEN_PATH,
    NOTIFICATIONS_SCOPE,
    SERVED_OPERATIONS,
    Call,
    Handler,
    lwa_token,
)
from infra.amazon.sandbox.state import SandboxState

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_sandbox"

UNAUTHORIZED = error_body("Unauthorized", "Access to the resource is forbidden")
QUOTA_EXCEEDED = error_body("QuotaExceeded", "You exceeded your quota for the requested resource.")
FAULT_BODIES: dict[str, tuple[int, dict[str, Any]]] = {
    "400": (
        400,
        error_body("InvalidInput", "The request was refused (a fault queued in the sandbox)"),
    ),
    "429": (429, QUOTA_EXCEEDED),
    "500": (
        500,
        error_body("InternalFailure", "We encountered an internal error. Please try again."),
    ),
    "503": (503, error_body("ServiceUnavailable", "Service temporarily unavailable. Try again.")),
}
GATEWAY_TIMEOUT = error_body("GatewayTimeout", "Endpoint request timed out")


class LostResponse(Response):
    """A response whose connection dies: headers promise a body that never fully arrives."""

    def __init__(self, status_code: int, body: bytes, headers: dict[str, str]) -> None:
        super().__init__(content=body, status_code=status_code, headers=headers)
        self._full = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        # Half of the body (at least one byte short), then return without finishing.
        partial = self._full[: len(self._full) // 2]
        await send({"type": "http.response.body", "body": partial, "more_body": True})


Endpoint = Callable[[Request], Awaitable[Response]]


class SpApiRoutes:
    """ASGI middleware: a request whose method and path are an operation's goes straight to its
    endpoint (see the module docstring); anything else goes on to ``app``."""

    def __init__(self, app: ASGIApp, routes: Sequence[tuple[str, str, Endpoint]]) -> None:
        self.app = app
        self._routes: dict[str, list[tuple[Pattern[str], dict[str, Convertor[Any]], Endpoint]]]
        self._routes = {}
        for method, path, endpoint in routes:
            regex, _format, convertors = compile_path(path)
            self._routes.setdefault(method, []).append((regex, convertors, endpoint))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            path = scope["path"]
            for regex, convertors, endpoint in self._routes.get(scope["method"], ()):
                match = regex.match(path)
                if match is None:
                    continue
                scope["path_params"] = {
                    name: convertors[name].convert(value)
                    for name, value in match.groupdict().items()
                }
                try:
                    response = await endpoint(Request(scope, receive, send))
                except SandboxError as exc:  # what the app's exception handler answers
                    response = _sandbox_error(exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# Control API reads that change nothing (``GET /_sandbox/feeds`` moves feeds on, so it counts).
_PURE_READS = frozenset(
    f"{CONTROL_PREFIX}/{name}" for name in ("state", "calls", "clock", "docs", "openapi.json")
)


class MarksChanges:
    """ASGI middleware: after every request that may have changed the state (all but the
    control API's pure reads), ``state.mark_changed()``, so the keeper saves it."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] in ("GET", "HEAD") and scope["path"] in _PURE_READS
        ):
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.state.mark_changed()


class DatedByItsClock:
    """ASGI middleware: every answer's ``Date`` is the sandbox's own time, as Amazon's answers
    carry Amazon's (a client measures the clocks' difference by it, see the feeds gateway); the
    server's own ``Date`` is off (``date_header=False``), else a moved sandbox clock would not
    show."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                now = format_datetime(self.state.now().astimezone(UTC), usegmt=True)
                message = {**message, "headers": [*headers, (b"date", now.encode("latin-1"))]}
            await send(message)

        await self.app(scope, receive, dated)


def _sandbox_error(exc: SandboxError) -> JSONResponse:
    return JSONResponse({"error": exc.message}, status_code=exc.status)


def create_app(state: SandboxState, base_url: str) -> FastAPI:
    """An ASGI app playing SP-API and LWA over ``state`` (which tests may inspect directly).

    ``base_url`` is where clients reach the sandbox (``http://host:port``): the start of every
    URL it hands out.
    """
    base_url = base_url.rstrip("/")
    install_notifier(state)  # notifications to the subscribed queues (``delivery``)
    app = FastAPI(
        title="Amazon SP-API sandbox",
        description=control.__doc__ or "",
        openapi_url="/_sandbox/openapi.json",
        docs_url="/_sandbox/docs",
        redoc_url=None,
    )

    @app.exception_handler(SandboxError)
    async def _on_sandbox_error(request: Request, exc: SandboxError) -> JSONResponse:
        return _sandbox_error(exc)

    @app.exception_handler(HTTPException)
    async def _on_http_error(request: Request, exc: HTTPException) -> Response:
        path = request.url.path
        if path == CONTROL_PREFIX or path.startswith(f"{CONTROL_PREFIX}/"):
            return await http_exception_handler(request, exc)
        return _not_served(request, exc)

    @app.post(LWA_TOKEN_PATH, include_in_schema=False)
    async def token(request: Request) -> JSONResponse:
        return lwa_token(state, (await request.body()).decode("utf-8", "replace"))

    routes: list[tuple[str, str, Endpoint]] = []
    for key, handler in SERVED_OPERATIONS.items():
        operation = operations()[key]
        endpoint = _spapi_endpoint(state, key, handler, base_url)
        routes.append((operation.method, operation.path, endpoint))
        app.add_api_route(
            operation.path,
            endpoint,
            methods=[operation.method],
            name=key,
            include_in_schema=False,
        )

    app.include_router(control.control_router(state))
    app.add_middleware(SpApiRoutes, routes=routes)
    app.add_middleware(MarksChanges, state=state)  # outermost: after the fast path too
    app.add_middleware(DatedByItsClock, state=state)
    return app


def _not_served(request: Request, exc: HTTPException) -> JSONResponse:
    """Amazon's ``errors`` body for a path or method no operation serves (module docstring)."""
    if exc.status_code == 404:
        code, message = "NotFound", f"No resource is served at {request.url.path}"
    elif exc.status_code == 405:
        code = "InvalidInput"
        message = f"{request.method} is not a method served at {request.url.path}"
    else:
        code = "InvalidInput" if exc.status_code < 500 else "InternalFailure"
        message = str(exc.detail)
    headers = {**(exc.headers or {}), "x-amzn-RequestId": str(uuid.uuid4())}
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=headers)


def _spapi_endpoint(state: SandboxState, key: str, handler: Handler, base_url: str) -> Endpoint:
    """The route function for one operation: auth, fault, bucket, handler, log (module doc)."""

    async def endpoint(request: Request) -> Response:
        request_id = str(uuid.uuid4())
        limit = {"x-amzn-RateLimit-Limit": state.rate_limit_header(key)}
        token = request.headers.get("x-amz-access-token")
        client_id = ""
        if key in GRANTLESS_OPERATIONS:
            client_id = state.application_for_grantless_token(token, NOTIFICATIONS_SCOPE) or ""
            # The application is the caller: its log entry, faults and bucket are its own.
            seller_id: str | None = f"app:{client_id}" if client_id else None
        else:
            seller_id = state.seller_for_access_token(token)
        fault_kind: str | None = None

        def answer(status: int, body: dict[str, Any] | None, *, limited: bool = True) -> Response:
            state.record_call(request_id, key, seller_id, status, fault_kind)
            log.debug("sandbox %s seller=%s -> %s", key, seller_id, status)
            headers = {"x-amzn-RequestId": request_id, **(limit if limited else {})}
            if body is None:  # 204 No Content, or cancelFeed's empty 200
                return Response(status_code=status, headers=headers)
            return JSONResponse(body, status_code=status, headers=headers)

        if seller_id is None:
            return answer(403, UNAUTHORIZED)
        fault = state.take_fault(key, seller_id, request.path_params.get("orderId"))
        if fault is not None:
            fault_kind = fault.kind
            if fault.kind in FAULT_BODIES:
                status, body = FAULT_BODIES[fault.kind]
                return answer(status, body, limited=status != 429)
            if fault.kind == "latency":
                await asyncio.sleep(fault.latency_ms / 1000)
            elif fault.kind == "drop":
                state.record_call(request_id, key, seller_id, 0, fault_kind)
                return LostResponse(200, b" " * 64, {"x-amzn-RequestId": request_id})
        if not state.take_token(seller_id, key):
            return answer(429, QUOTA_EXCEEDED, limited=False)
        call = Call(
            state=state,
            operation=key,
            seller_id="" if client_id else seller_id,
            query=request.query_params,
            path_params=dict(request.path_params),
            body=await request.body(),
            base_url=base_url,
            client_id=client_id,
        )
        answered: dict[str, Any] | None
        try:
            status, answered = handler(call)
        except ApiError as exc:
            status, answered = exc.status, error_body(exc.code, exc.message)
        if fault_kind == "504_after_apply":
            # Applied, but the gateway answers for it: the log keeps the status applied.
            state.record_call(request_id, key, seller_id, status, fault_kind)
            return JSONResponse(
                GATEWAY_TIMEOUT, status_code=504, headers={"x-amzn-RequestId": request_id}
            )
        if fault_kind == "lose_response":
            state.record_call(request_id, key, seller_id, status, fault_kind)
            if answered is None:
                # No body to cut short (a 204 would arrive whole): promise one that never comes,
                # as a dropped connection does. The log keeps the status that was applied.
                return LostResponse(200, b" " * 64, {"x-amzn-RequestId": request_id})
            content = json.dumps(answered).encode()
            headers = {"x-amzn-RequestId": request_id, "content-type": "application/json"}
            return LostResponse(status, content, {**headers, **limit})
        return answer(status, answered)

    endpoint.__name__ = key.replace(".", "_")
    return endpoint
