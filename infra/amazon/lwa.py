"""Login with Amazon: trade a seller's refresh token for the access token SP-API calls carry,
or, for grantless operations, the application's own credentials and a ``scope`` for a token that
speaks for the application (``client_credentials``; ``grantless_credentials``).

An access token lives one hour. Every worker process of a seller can use the same one, so it is
cached in the process and, when a Redis client is given, in Redis under a hash of
client_id + refresh_token, or client_id + scope for a grantless token (the key names no
secret). It is refreshed ``refresh_margin_s`` before
it expires, so a request never leaves with a token that dies on the way. When Redis has none,
one process takes a short lock and refreshes while the others wait a moment for its result,
so twenty workers starting together make one token request, not twenty. The lock is redis-py's
``Lock``: its release compares the holder's token and deletes in one script, so a holder whose
lock expired while it waited on Amazon cannot release the lock a newer holder took since.

Tokens, client secrets and refresh tokens are never logged and never appear in a ``repr``. The
cached access token sits in Redis in clear for at most its lifetime; Redis is ours and private,
and a leaked access token is worth less than the refresh token we keep out of it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import redis
from pydantic import BaseModel, ConfigDict, SecretStr
from redis.exceptions import LockError
from redis.lock import Lock

from infra.amazon.errors import (
    AmazonAuthError,
    AmazonError,
    AmazonServerError,
    AmazonUnreachable,
    Throttled,
)

log = logging.getLogger(__name__)

OPERATION = "lwa.token"
CACHE_PREFIX = "amazon-channel:lwa"
# How long other processes wait for the one that holds the refresh lock before refreshing too.
LOCK_TTL_S = 15
LOCK_WAIT_S = 5.0
LOCK_POLL_S = 0.05

# Delete the shared token only if it is still the one we were told is bad (another process
# may already have stored a fresh one).
_DELETE_IF_SAME_LUA = """
if redis.call('HGET', KEYS[1], 'access_token') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class LwaCredentials(BaseModel):
    """An application's client id and secret, and one seller's refresh token.

    The secret and the refresh token are ``SecretStr``: they print as ``**********``.
    """

    model_config = ConfigDict(frozen=True)

    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr
    # A grantless token's scope (then ``refresh_token`` is empty and unused).
    scope: str | None = None

    def cache_id(self) -> str:
        """A stable name for this (application, seller) pair, or (application, scope) for a
        grantless token, that reveals neither secret."""
        if self.scope is not None:
            material = f"{self.client_id}\0scope\0{self.scope}".encode()
        else:
            material = f"{self.client_id}\0{self.refresh_token.get_secret_value()}".encode()
        return hashlib.sha256(material).hexdigest()


NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"


def grantless_credentials(
    client_id: str, client_secret: SecretStr, scope: str = NOTIFICATIONS_SCOPE
) -> LwaCredentials:
    """An application's credentials for a ``client_credentials`` grant of ``scope``."""
    return LwaCredentials(
        client_id=client_id, client_secret=client_secret, refresh_token=SecretStr(""), scope=scope
    )


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    expires_at: float  # epoch seconds (wall clock: shared with other processes through Redis)


class LwaTokenProvider:
    """Hands out a valid access token, refreshing it early; safe to share between threads."""

    def __init__(
        self,
        token_url: str,
        credentials: LwaCredentials,
        http: httpx.Client,
        cache: redis.Redis | None = None,
        refresh_margin_s: float = 300.0,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.token_url = token_url
        self._credentials = credentials
        self._http = http
        self._cache = cache
        self.refresh_margin_s = refresh_margin_s
        self._clock = clock
        self._sleep = sleep
        self._token: _Token | None = None
        self._lock = threading.Lock()
        cache_id = credentials.cache_id()
        self._cache_key = f"{CACHE_PREFIX}:{cache_id}:token"
        self._lock_key = f"{CACHE_PREFIX}:{cache_id}:refresh-lock"
        self._delete_if_same = cache.register_script(_DELETE_IF_SAME_LUA) if cache else None

    def __repr__(self) -> str:
        return (
            f"LwaTokenProvider(token_url={self.token_url!r}, "
            f"client_id={self._credentials.client_id!r}, shared={self._cache is not None})"
        )

    def _fresh(self, token: _Token | None) -> bool:
        return token is not None and token.expires_at - self.refresh_margin_s > self._clock()

    def access_token(self) -> str:
        """A token valid for at least ``refresh_margin_s`` more seconds."""
        with self._lock:
            if self._token is not None and self._fresh(self._token):
                return self._token.value
            token = self._from_cache()
            if token is None:
                token = self._refresh_shared()
            self._token = token
            return token.value

    def invalidate(self, token: str | None = None) -> None:
        """Forget the token (Amazon said 403), so the next ``access_token()`` refreshes.

        With ``token`` given, the shared copy is dropped only if it is still that token: a
        process that got a 403 late must not throw away a fresh token another one just stored.
        """
        with self._lock:
            if token is None or (self._token is not None and self._token.value == token):
                self._token = None
            if self._cache is None or self._delete_if_same is None:
                return
            if token is None:
                self._cache.delete(self._cache_key)
            else:
                self._delete_if_same(keys=[self._cache_key], args=[token])

    # -- shared cache ------------------------------------------------------------------------

    def _from_cache(self) -> _Token | None:
        if self._cache is None:
            return None
        raw = self._cache.hgetall(self._cache_key)
        if not raw:
            return None
        fields = {_text(k): _text(v) for k, v in raw.items()}
        try:
            token = _Token(fields["access_token"], float(fields["expires_at"]))
        except (KeyError, ValueError):
            return None
        return token if self._fresh(token) else None

    def _store(self, token: _Token) -> None:
        if self._cache is None:
            return
        # The entry disappears when the token stops being usable to us.
        ttl = max(1, int(token.expires_at - self.refresh_margin_s - self._clock()))
        pipe = self._cache.pipeline()
        pipe.hset(
            self._cache_key, mapping={"access_token": token.value, "expires_at": token.expires_at}
        )
        pipe.expire(self._cache_key, ttl)
        pipe.execute()

    def _refresh_shared(self) -> _Token:
        """Refresh, letting one process do it while the others wait briefly for its result."""
        if self._cache is None:
            return self._request_token()
        lock = self._cache.lock(self._lock_key, timeout=LOCK_TTL_S, blocking=False)
        if lock.acquire():
            try:
                # Another process may have stored one between our miss and taking the lock.
                shared = self._from_cache()
                if shared is not None:
                    return shared
                fresh = self._request_token()
                self._store(fresh)
                return fresh
            finally:
                _release(lock)
        deadline = self._clock() + LOCK_WAIT_S
        while self._clock() < deadline:
            self._sleep(LOCK_POLL_S)
            shared = self._from_cache()
            if shared is not None:
                return shared
        # The lock holder is slow or died: refreshing twice is harmless, waiting forever is not.
        token = self._request_token()
        self._store(token)
        return token

    # -- the token endpoint ------------------------------------------------------------------

    def _request_token(self) -> _Token:
        credentials = self._credentials
        form = {
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret.get_secret_value(),
        }
        if credentials.scope is not None:
            form.update(grant_type="client_credentials", scope=credentials.scope)
        else:
            form.update(
                grant_type="refresh_token",
                refresh_token=credentials.refresh_token.get_secret_value(),
            )
        sent_at = self._clock()
        try:
            response = self._http.post(
                self.token_url,
                data=form,
                headers={"content-type": "application/x-www-form-urlencoded;charset=UTF-8"},
            )
        except httpx.TransportError as exc:
            # A token request has no side effect worth tracking: "sent" only informs the log.
            raise AmazonUnreachable(
                f"LWA token endpoint unreachable: {type(exc).__name__}",
                operation=OPERATION,
                request_sent=not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout),
            ) from None
        if response.status_code != 200:
            raise _token_error(response)
        try:
            body = response.json()
            value = body["access_token"]
            expires_in = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise AmazonServerError(
                "LWA token endpoint answered 200 without a usable token",
                operation=OPERATION,
                status_code=response.status_code,
            ) from None
        if not isinstance(value, str) or not value:
            raise AmazonServerError(
                "LWA token endpoint answered 200 without a usable token",
                operation=OPERATION,
                status_code=response.status_code,
            )
        log.info(
            "lwa access token refreshed",
            extra={
                "operation": OPERATION,
                "expires_in_s": expires_in,
                "grant": "client_credentials" if credentials.scope else "refresh_token",
            },
        )
        # Count the lifetime from when we asked: the token may have been issued a little later,
        # never earlier, so this errs on the early side.
        return _Token(value, sent_at + expires_in)


def _token_error(response: httpx.Response) -> AmazonError:
    """LWA answers ``{"error", "error_description"}``; 4xx means the credentials are bad."""
    code: str | None = None
    description: str | None = None
    try:
        body = response.json()
        if isinstance(body, dict):
            code = str(body.get("error")) if body.get("error") is not None else None
            raw_description = body.get("error_description")
            description = str(raw_description) if raw_description is not None else None
    except ValueError:
        pass
    message = f"LWA token request failed: {description or code or response.reason_phrase}"
    fields = {
        "operation": OPERATION,
        "status_code": response.status_code,
        "request_id": response.headers.get("x-amzn-RequestId"),
        "code": code,
    }
    if response.status_code == 429:
        return Throttled(message, **fields)
    if response.status_code >= 500:
        return AmazonServerError(message, **fields)
    return AmazonAuthError(message, **fields)


def _release(lock: Lock) -> None:
    """Release the refresh lock if it is still ours; if it expired, another holder keeps it."""
    try:
        lock.release()
    except LockError:
        log.info("lwa refresh lock expired before its release", extra={"operation": OPERATION})


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
