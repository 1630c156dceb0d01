"""Signing in to the operator page: one of the API's bearer tokens, given once in a form, is
exchanged for a session cookie; POSTs carry a CSRF token tied to that session.

- The cookie holds no token: only a random session id and its start, signed with
  itsdangerous's ``URLSafeTimedSerializer`` (HMAC-SHA1 over a key derived from the session key
  with the salt below; the time in it bounds a session to ``OPERATOR_SESSION_HOURS``). It is
  ``Secure``, ``HttpOnly``, ``SameSite=Strict``, and sent only under ``/ops``. A browser keeps a
  ``Secure`` cookie from ``http://127.0.0.1`` and ``localhost`` (trustworthy origins), so the
  page works under ``make run``; anywhere else serve it over HTTPS.
- The key is ``OPERATOR_SESSION_KEY``, or else one generated once and kept in the data folder
  (``operator-session.key``, readable by its owner only), so every web process of a run
  reads the same key and sessions survive a restart. Changing or deleting it signs everyone
  out.
- CSRF: each form carries an HMAC-SHA256 of the session id (the synchronizer token pattern,
  without a server-side store); a POST whose token does not match is refused, and so is one
  whose ``Origin`` is another site's. ``SameSite=Strict`` already keeps the cookie off
  cross-site requests: the token is the second lock.
- The one question "is this token valid" is ``workers.web.auth.valid_token``: whatever decides
  that for the API decides it here.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from workers import bootstrap

COOKIE = "ac_operator"
COOKIE_PATH = "/ops"
KEY_FILE = "operator-session.key"
SALT = "amazon-channel operator session"


class NotSignedIn(Exception):
    """Raised by ``signed_in``: the app answers with the sign-in page (``workers.web.operator``)."""


class BadForm(Exception):
    """A POST without the session's CSRF token, or from another site's page."""


@dataclass(frozen=True, slots=True)
class OperatorSession:
    session_id: str

    @property
    def csrf(self) -> str:
        """The token every form of this session carries."""
        key = _key()
        return hmac.new(key, f"csrf:{self.session_id}".encode(), hashlib.sha256).hexdigest()


def _key() -> bytes:
    settings = bootstrap.container().settings
    given = settings.operator_session_key.get_secret_value()
    if given:
        return given.encode()
    return _kept_key(settings.data_dir / KEY_FILE)


def _kept_key(path: Path) -> bytes:
    """The key in ``path``, written there first if there is none: written whole to a temporary
    file and linked into place, so two web processes starting at once agree on one key."""
    with contextlib.suppress(FileNotFoundError):
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".operator-key-")
    try:
        with os.fdopen(fd, "wb") as file:  # mkstemp's file is the owner's only (0600)
            file.write(secrets.token_urlsafe(48).encode())
        with contextlib.suppress(FileExistsError):  # another process linked its key first
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_bytes().strip()


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        _key(), salt=SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def _max_age_s() -> int:
    return int(bootstrap.container().settings.operator_session_hours * 3600)


def start_session(response: Response) -> None:
    """Set a new session's cookie on ``response`` (after a valid token was given)."""
    value = _serializer().dumps({"sid": secrets.token_urlsafe(24)})
    response.set_cookie(
        COOKIE,
        value,
        max_age=_max_age_s(),
        path=COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=True, httponly=True, samesite="strict")


def current_session(request: Request) -> OperatorSession | None:
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        data = _serializer().loads(value, max_age=_max_age_s())
    except BadSignature:  # tampered, signed with another key, or expired
        return None
    sid = data.get("sid") if isinstance(data, dict) else None
    return OperatorSession(sid) if isinstance(sid, str) and sid else None


def signed_in(request: Request) -> OperatorSession:
    """A dependency of every page but the sign-in: the operator's session, or the sign-in page."""
    session = current_session(request)
    if session is None:
        raise NotSignedIn
    return session


def same_site(request: Request) -> bool:
    """A POST from one of our own pages: no ``Origin`` (an older browser), or ours."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    given = urlsplit(origin)
    return (given.scheme, given.netloc) == (request.url.scheme, request.url.netloc)


def check_form(request: Request, session: OperatorSession, token: str) -> None:
    """Refuse a POST that did not come from a page of this session."""
    if not same_site(request) or not hmac.compare_digest(token.encode(), session.csrf.encode()):
        raise BadForm


def sign(message: str) -> str:
    """A message for the next page, signed so that no link can make the page say something."""
    return _serializer().dumps(message, salt=f"{SALT} flash")


def unsigned(value: str | None) -> str | None:
    if not value:
        return None
    try:
        message = _serializer().loads(value, salt=f"{SALT} flash", max_age=300)
    except BadSignature:
        return None
    return message if isinstance(message, str) else None
