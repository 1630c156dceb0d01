"""Signed pagination tokens: opaque to the caller, carrying the query, the position and when
they were issued, so later pages need nothing else and a forged or day-old token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from infra.amazon.sandbox.errors import SandboxError
from infra.amazon.sandbox.state.clock import iso, parse_iso

PAGINATION_TOKEN_LIFETIME = timedelta(hours=24)


class PaginationSigner:
    """Signs tokens with a key of its own: new for every fresh sandbox, so tokens never carry
    over to another; kept with a saved state, so they survive its restart."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(16)

    @property
    def key(self) -> bytes:
        """The signing key, kept with a saved state so tokens issued before a restart hold."""
        return self._key

    def make(self, payload: dict[str, Any], now: datetime) -> str:
        """An opaque, signed token carrying the query, the position and when it was issued."""
        body = dict(payload, issued=iso(now))
        raw = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
        mac = hmac.new(self._key, raw, hashlib.sha256).digest()[:12]
        return raw.decode().rstrip("=") + "." + base64.urlsafe_b64encode(mac).decode()

    def read(self, token: str, now: datetime) -> dict[str, Any]:
        """The payload of a token this sandbox issued; ``SandboxError`` if forged or expired."""
        try:
            raw_text, mac_text = token.split(".", 1)
            raw = raw_text.encode() + b"=" * (-len(raw_text) % 4)
            mac = base64.urlsafe_b64decode(mac_text.encode())
            expected = hmac.new(self._key, raw, hashlib.sha256).digest()[:12]
            if not hmac.compare_digest(mac, expected):
                raise ValueError("bad signature")
            payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(raw))
            issued = parse_iso(payload["issued"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SandboxError("Invalid pagination token") from exc
        if now - issued > PAGINATION_TOKEN_LIFETIME:
            raise SandboxError("The pagination token has expired")
        return payload
