"""The web process's outer guard, a pure ASGI middleware around every request: a request id
(the ``X-Request-Id`` header of every answer, and ``request_id`` on every line logged while the
request is answered, uvicorn's access line included), a body size cap, and a 500 in the channel's
error shape for any exception nothing else answered, logged with its traceback and that id.

A body labelled as anything but JSON is answered 415 before it is read, except under
``FORMS_UNDER``: the operator page's forms (``workers.web.operator``) post HTML forms.

The cap is checked before the body is read: a ``Content-Length`` over it is answered 413 at
once, and a body without one (chunked) is counted as it streams and stops being read as soon
as it passes the cap.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.fulfilments import FieldError
from infra.logging import bound_request

log = logging.getLogger(__name__)

BODY_LIMIT = 1024 * 1024  # bytes: a fulfilment of 100 lines is a few kilobytes
REQUEST_ID = "X-Request-Id"
FORMS_UNDER = "/ops/"


class _BodyTooLarge(Exception):
    """Raised into the app from ``receive`` when the streamed body passes the cap."""


def too_large(limit: int) -> FieldError:
    return FieldError("body", f"larger than {limit} bytes")


class Guard:
    def __init__(self, app: ASGIApp, body_limit: int = BODY_LIMIT) -> None:
        self.app = app
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope["state"] = {**scope.get("state", {}), "request_id": request_id}
        with bound_request(request_id):
            await self._guarded(scope, receive, send, request_id)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append(REQUEST_ID, request_id)
            await send(message)

        declared = _content_length(scope)
        if declared is None:
            await _answer(send_with_id, 400, FieldError("Content-Length", "must be a number"))
            return
        if declared > self.body_limit:
            await _answer(send_with_id, 413, too_large(self.body_limit))
            return
        if _labelled_not_json(scope, declared) and not scope["path"].startswith(FORMS_UNDER):
            await _answer(send_with_id, 415, NOT_JSON_LABEL)
            return
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.body_limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, capped_receive, send_with_id)
        except _BodyTooLarge:
            if started:
                raise
            await _answer(send_with_id, 413, too_large(self.body_limit))
        except Exception as exc:
            log.error(
                "request %s failed: %s %s",
                request_id,
                scope.get("method"),
                scope.get("path"),
                exc_info=exc,
                extra={"request_id": request_id},
            )
            if started:  # too late for an answer: the server drops the connection
                raise
            reason = f"an error on our side, not in the request; its request id is {request_id}"
            await _answer(send_with_id, 500, FieldError("request", reason))


NOT_JSON_LABEL = FieldError("Content-Type", "must be application/json")


def _labelled_not_json(scope: Scope, declared: int) -> bool:
    """A body sent as something other than JSON (a form, text): the API reads JSON only. No
    ``Content-Type`` is read as JSON, and so is an empty body whatever its label (``curl -X
    POST -d ''`` labels nothing as a form)."""
    label = _header(scope, b"content-type")
    if label is None or (declared == 0 and _header(scope, b"transfer-encoding") is None):
        return False
    media = label.split(";", 1)[0].strip().lower()
    return not (media == "application/json" or media.endswith("+json"))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _content_length(scope: Scope) -> int | None:
    """The declared length (0 when none is declared), or None when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not (text.isascii() and text.isdigit()):
                return None
            return int(text) if len(text) <= 18 else 10**18  # past any cap either way
    return 0


async def _answer(send: Send, status: int, *errors: FieldError) -> None:
    body = json.dumps({"errors": [{"field": e.field, "reason": e.reason} for e in errors]})
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status in (400, 413, 415):  # the rest of the body is not read: the connection is done
        headers.append((b"connection", b"close"))
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body.encode()})
