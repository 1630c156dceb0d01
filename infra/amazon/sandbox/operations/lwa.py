"""Login with Amazon: ``POST /auth/o2/token`` (form-encoded), the ``refresh_token`` grant (a
seller's token) and the ``client_credentials`` grant with a ``scope`` (a grantless token).

Refusals are OAuth 2.0 bodies (``{"error", "error_description"}``), not SP-API's ``errors``.
"""

from __future__ import annotations

import logging
import uuid
from urllib.parse import parse_qs

from starlette.responses import JSONResponse

from infra.amazon.sandbox.errors import LwaError
from infra.amazon.sandbox.state import SandboxState

log = logging.getLogger(__name__)

LWA_TOKEN_PATH = "/auth/o2/token"  # noqa: S105 (a path, not a secret)


def lwa_token(state: SandboxState, body: str) -> JSONResponse:
    """The answer to one token request with this form body."""
    form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    grant = form.get("grant_type", "")
    try:
        if grant == "client_credentials":
            return _grantless(state, form, headers)
        if grant != "refresh_token":
            raise LwaError(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
        missing = [
            name for name in ("refresh_token", "client_id", "client_secret") if not form.get(name)
        ]
        if missing:
            raise LwaError(400, "invalid_request", f"missing parameter(s): {', '.join(missing)}")
        token, lifetime = state.issue_access_token(
            form["refresh_token"], form["client_id"], form["client_secret"]
        )
    except LwaError as exc:
        return _refused(exc, headers)
    return JSONResponse(
        {
            "access_token": token,
            "refresh_token": form["refresh_token"],
            "token_type": "bearer",
            "expires_in": lifetime,
        },
        headers=headers,
    )


def _refused(exc: LwaError, headers: dict[str, str]) -> JSONResponse:
    log.info("sandbox LWA refused a token request: %s", exc.error)
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
    )


def _grantless(state: SandboxState, form: dict[str, str], headers: dict[str, str]) -> JSONResponse:
    """A ``client_credentials`` grant: no refresh token in the answer (there is none)."""
    try:
        missing = [name for name in ("scope", "client_id", "client_secret") if not form.get(name)]
        if missing:
            raise LwaError(400, "invalid_request", f"missing parameter(s): {', '.join(missing)}")
        token, lifetime = state.issue_grantless_token(
            form["client_id"], form["client_secret"], form["scope"]
        )
    except LwaError as exc:
        return _refused(exc, headers)
    return JSONResponse(
        {
            "access_token": token,
            "scope": form["scope"],
            "token_type": "bearer",
            "expires_in": lifetime,
        },
        headers=headers,
    )
