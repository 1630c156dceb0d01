"""The sandbox's refusals, one small tree that every part of it raises from.

::

    Exception
    ├── SandboxError      a request the sandbox's state or rules refuse; ``status`` is the HTTP
    │   │                 status (the control API answers ``{"error": ...}``, an SP-API handler
    │   │                 turns it into Amazon's ``errors`` body)
    │   └── ShipmentRefused   (``rules.shipments``) a package confirmation Amazon would refuse
    ├── LwaError          a token request Login with Amazon refuses (OAuth 2.0 error body)
    └── ApiError          an SP-API answer with Amazon's ``errors`` body (400, 404, ...)

The feed processing has one more, ``feeds.MessageError``: one feed message that failed, which
ends up in the processing report and never in an HTTP answer.
"""

from __future__ import annotations

from typing import Any


class SandboxError(Exception):
    """A control request the state refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class LwaError(Exception):
    """A token request Login with Amazon refuses (OAuth 2.0 ``error`` code and description)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class ApiError(Exception):
    """An SP-API error answer: ``{"errors": [{"code", "message", "details"}]}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidInput", message)


def error_body(code: str, message: str) -> dict[str, Any]:
    """Amazon's ``ErrorList``, as every SP-API error answer carries it."""
    return {"errors": [{"code": code, "message": message, "details": ""}]}
