"""API tokens for the platform's producers: created (shown once), listed, revoked, and the one a
request carries found.

A token is 32 random bytes (``secrets.token_urlsafe``) behind a ``acp_`` prefix (so a secret
scanner can spot one); the store keeps its SHA-256 only. No slow hash (bcrypt, scrypt, argon2):
those make guessing a *low-entropy* password expensive, but nobody guesses 256 random bits,
whatever the hash's speed, and a slow hash would cost every request tens of milliseconds. The
row is found by its hash (a unique index), and the hashes are then compared in constant time
(``hmac.compare_digest``), so neither step tells an attacker anything about the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.shared import FieldError
from infra.db.accounts import AccountError, get_account
from infra.db.tables import ApiToken

TOKEN_PREFIX = "acp_"  # noqa: S105 (a prefix, not a secret)
NAME_MAX = 100


@dataclass(frozen=True, slots=True)
class TokenView:
    name: str
    account_ids: tuple[int, ...] | None  # None: every account
    created_at: datetime
    revoked_at: datetime | None

    @property
    def limited(self) -> bool:
        return self.account_ids is not None

    def allows(self, account_id: int) -> bool:
        return self.account_ids is None or account_id in self.account_ids


@dataclass(frozen=True, slots=True)
class CreatedToken:
    view: TokenView
    token: str = ""  # the token itself: shown once, never stored

    def __repr__(self) -> str:
        return f"CreatedToken(name={self.view.name!r})"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _view(row: ApiToken) -> TokenView:
    ids = None if row.account_ids is None else tuple(row.account_ids)
    return TokenView(row.name, ids, row.created_at, row.revoked_at)


def create_token(
    sessions: sessionmaker[Session], name: str, accounts: Sequence[str] = ()
) -> CreatedToken:
    """A new token called ``name``, limited to ``accounts`` (names or ids; none: every
    account). ``AccountError`` names the field refused (a name taken, an unknown account)."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise AccountError.of("name", f"a token's name is 1 to {NAME_MAX} characters")
    ids = [get_account(sessions, ref).id for ref in accounts] if accounts else None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name,
        token_hash=token_hash(token),
        account_ids=sorted(set(ids)) if ids is not None else None,
    )
    try:
        with sessions.begin() as session:
            session.add(row)
            session.flush()
            session.refresh(row)
            return CreatedToken(_view(row), token)
    except IntegrityError as exc:
        raise AccountError.of(
            "name", f"a token called {name!r} exists already (revoked ones keep their name)"
        ) from exc


def list_tokens(sessions: sessionmaker[Session]) -> list[TokenView]:
    with sessions() as session:
        return [_view(r) for r in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(sessions: sessionmaker[Session], name: str) -> tuple[TokenView, bool]:
    """Revoke the token called ``name``: it opens nothing from the next request on. False when
    it was revoked already (the first time is kept)."""
    with sessions.begin() as session:
        revoked = session.execute(
            update(ApiToken)
            .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
            .values(revoked_at=func.now())
            .returning(ApiToken.id)
        ).first()
        row = session.scalars(select(ApiToken).where(ApiToken.name == name)).first()
        if row is None:
            raise AccountError([FieldError("name", f"no token called {name!r}")])
        return _view(row), revoked is not None


def token_for(sessions: sessionmaker[Session], given: str) -> TokenView | None:
    """The live token ``given`` is, or None (unknown or revoked)."""
    if not given.startswith(TOKEN_PREFIX):
        return None
    digest = token_hash(given)
    with sessions() as session:
        row = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
        ).first()
        if row is None or not hmac.compare_digest(row.token_hash, digest):
            return None
        return _view(row)
