"""Seller accounts: add, list, look up. Refresh tokens are stored, never logged or printed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.shared import row_id
from infra.db.tables import SellerAccount
from infra.settings import Region


class AccountError(ValueError):
    """An account that cannot be added or found; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    name: str
    selling_partner_id: str
    region: str
    marketplace_ids: tuple[str, ...]
    lwa_client_id: str | None
    lwa_refresh_token: str
    active: bool

    def __repr__(self) -> str:  # the refresh token stays out of logs and tracebacks
        return f"AccountView(id={self.id}, name={self.name!r}, region={self.region!r})"


def _view(row: SellerAccount) -> AccountView:
    return AccountView(
        id=row.id,
        name=row.name,
        selling_partner_id=row.selling_partner_id,
        region=row.region,
        marketplace_ids=tuple(row.marketplace_ids),
        lwa_client_id=row.lwa_client_id,
        lwa_refresh_token=row.lwa_refresh_token,
        active=row.active,
    )


def account_matches(ref: str) -> ColumnElement[bool]:
    """The condition "this account, by id or by name" (``domain.shared.row_id`` says which)."""
    account_id = row_id(ref)
    if account_id is None:
        return SellerAccount.name == ref
    return (SellerAccount.id == account_id) | (SellerAccount.name == ref)


def add_account(
    sessions: sessionmaker[Session],
    *,
    name: str,
    selling_partner_id: str,
    region: str,
    marketplace_ids: list[str],
    refresh_token: str,
    client_id: str | None = None,
) -> AccountView:
    if not name.strip():
        raise AccountError("name: must not be empty")
    if region not in set(Region):
        raise AccountError(f"region: must be one of {', '.join(Region)}, got {region!r}")
    if not marketplace_ids:
        raise AccountError("marketplace_ids: at least one marketplace is needed")
    if not refresh_token.startswith("Atzr|"):
        raise AccountError("refresh_token: a Login with Amazon refresh token starts with 'Atzr|'")
    row = SellerAccount(
        name=name.strip(),
        selling_partner_id=selling_partner_id,
        region=region,
        marketplace_ids=marketplace_ids,
        lwa_client_id=client_id,
        lwa_refresh_token=refresh_token,
    )
    try:
        with sessions.begin() as session:
            session.add(row)
            session.flush()
            return _view(row)
    except IntegrityError as exc:
        raise AccountError(f"name: an account called {name!r} exists already") from exc


def list_accounts(
    sessions: sessionmaker[Session], *, active_only: bool = False
) -> list[AccountView]:
    with sessions() as session:
        query = select(SellerAccount).order_by(SellerAccount.id)
        if active_only:
            query = query.where(SellerAccount.active.is_(True))
        return [_view(row) for row in session.scalars(query)]


def get_account(sessions: sessionmaker[Session], ref: str | int) -> AccountView:
    """By id or by name."""
    with sessions() as session:
        account_id = row_id(ref)
        if account_id is not None:
            row = session.get(SellerAccount, account_id)
        else:
            row = session.scalars(select(SellerAccount).where(SellerAccount.name == ref)).first()
        if row is None:
            raise AccountError(f"account: no account {ref!r}")
        return _view(row)
