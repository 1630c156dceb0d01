"""Login with Amazon in the sandbox: the sellers it knows and the access tokens it issued.

A seller is reached by one application's credentials (``SellerAccount``); a ``refresh_token``
grant with them gets an access token that lives an hour of sandbox time. A ``client_credentials``
grant (the application's own credentials and a ``scope``) gets a grantless token, which speaks
for the application, not for a seller: Amazon takes it only on grantless operations of its scope
(the Notifications API's destinations with ``sellingpartnerapi::notifications``), and takes a
seller's token on none of those. The caller (``SandboxState``) holds the lock and passes the
sandbox's now.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from infra.amazon.sandbox.errors import LwaError, SandboxError
from infra.amazon.sandbox.state.records import MARKETPLACES, SellerAccount

ACCESS_TOKEN_LIFETIME_S = 3600
# Amazon's grantless scopes (LWA refuses any other with ``invalid_scope``).
GRANTLESS_SCOPES = (
    "sellingpartnerapi::notifications",
    "sellingpartnerapi::client_credential:rotation",
)


class Credentials:
    """Sellers by id and the access tokens issued for them (token -> (seller id, expiry))."""

    def __init__(self) -> None:
        self.sellers: dict[str, SellerAccount] = {}
        self.access_tokens: dict[str, tuple[str, datetime]] = {}
        # token -> (the application's client id, scope, expiry)
        self.grantless_tokens: dict[str, tuple[str, str, datetime]] = {}

    def add_seller(self, seller: SellerAccount) -> None:
        unknown = [m for m in seller.marketplace_ids if m not in MARKETPLACES]
        if unknown or not seller.marketplace_ids:
            raise SandboxError(f"unknown or missing marketplace ids: {unknown}")
        if seller.seller_id in self.sellers:
            raise SandboxError(f"seller {seller.seller_id} exists", status=409)
        if any(s.refresh_token == seller.refresh_token for s in self.sellers.values()):
            raise SandboxError("that refresh token belongs to another seller", status=409)
        self.sellers[seller.seller_id] = seller

    def seller(self, seller_id: str) -> SellerAccount:
        found = self.sellers.get(seller_id)
        if found is None:
            raise SandboxError(f"unknown seller {seller_id}", status=404)
        return found

    def issue_access_token(
        self, refresh_token: str, client_id: str, client_secret: str, now: datetime
    ) -> tuple[str, int]:
        """An LWA ``refresh_token`` grant: a new access token and its lifetime in seconds."""
        seller = next((s for s in self.sellers.values() if s.refresh_token == refresh_token), None)
        if seller is None:
            raise LwaError(400, "invalid_grant", "The request has an invalid grant parameter")
        if not (
            hmac.compare_digest(seller.client_id, client_id)
            and hmac.compare_digest(seller.client_secret, client_secret)
        ):
            raise LwaError(401, "invalid_client", "Client authentication failed")
        token = "Atza|" + secrets.token_urlsafe(48)
        self.access_tokens[token] = (
            seller.seller_id,
            now + timedelta(seconds=ACCESS_TOKEN_LIFETIME_S),
        )
        return token, ACCESS_TOKEN_LIFETIME_S

    def issue_grantless_token(
        self, client_id: str, client_secret: str, scope: str, now: datetime
    ) -> tuple[str, int]:
        """An LWA ``client_credentials`` grant: a token for the application itself."""
        if scope not in GRANTLESS_SCOPES:
            raise LwaError(400, "invalid_scope", f"The scope {scope!r} is not valid")
        known = any(
            hmac.compare_digest(s.client_id, client_id)
            and hmac.compare_digest(s.client_secret, client_secret)
            for s in self.sellers.values()
        )
        if not known:
            raise LwaError(401, "invalid_client", "Client authentication failed")
        token = "Atc|" + secrets.token_urlsafe(48)
        self.grantless_tokens[token] = (
            client_id,
            scope,
            now + timedelta(seconds=ACCESS_TOKEN_LIFETIME_S),
        )
        return token, ACCESS_TOKEN_LIFETIME_S

    def application_for_grantless_token(
        self, token: str | None, scope: str, now: datetime
    ) -> str | None:
        """The client id an unexpired grantless token of ``scope`` speaks for, or None."""
        entry = self.grantless_tokens.get(token or "")
        if entry is None:
            return None
        client_id, granted, expires = entry
        if now >= expires:
            del self.grantless_tokens[token or ""]
            return None
        return client_id if granted == scope else None

    def seller_for_access_token(self, token: str | None, now: datetime) -> str | None:
        """The seller an unexpired access token speaks for, or None (Amazon then says 403)."""
        if not token:
            return None
        entry = self.access_tokens.get(token)
        if entry is None:
            return None
        seller_id, expires = entry
        if now >= expires:
            del self.access_tokens[token]
            return None
        return seller_id

    def clear(self) -> None:
        self.sellers.clear()
        self.access_tokens.clear()
        self.grantless_tokens.clear()
