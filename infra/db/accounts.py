"""Seller accounts: add, list, look up, disconnect and reconnect. Refresh tokens are stored,
never logged or printed.

A disconnected account (``connected`` false) has nothing sent to Amazon: no sync, no shipment
confirmation, no feed. What the platform asks meanwhile is accepted and held; reconnecting lets
the sync catch up from its watermark and shows a plan of what would be sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.fulfilments import FulfilmentState
from domain.shared import row_id
from infra.db.tables import Fulfilment, SellerAccount
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
    connected: bool = True
    disconnected_at: datetime | None = None

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
        connected=row.connected,
        disconnected_at=row.disconnected_at,
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
    sessions: sessionmaker[Session], *, active_only: bool = False, connected_only: bool = False
) -> list[AccountView]:
    with sessions() as session:
        query = select(SellerAccount).order_by(SellerAccount.id)
        if active_only:
            query = query.where(SellerAccount.active.is_(True))
        if connected_only:
            query = query.where(SellerAccount.connected.is_(True))
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


def set_connected(sessions: sessionmaker[Session], ref: str | int, connected: bool) -> AccountView:
    """Disconnect (``connected`` False) or reconnect the account, by id or by name. Doing it
    twice changes nothing the second time (the first time is kept)."""
    account = get_account(sessions, ref)
    stamp = SellerAccount.disconnected_at if not connected else SellerAccount.reconnected_at
    with sessions.begin() as session:
        changed = session.execute(
            update(SellerAccount)
            .where(SellerAccount.id == account.id, SellerAccount.connected.is_(not connected))
            .values({SellerAccount.connected: connected, stamp: func.now()})
            .returning(SellerAccount.id)
        ).first()
        if connected and changed is not None:
            # What waited while disconnected is due now: the sweeper sends it on its next round.
            session.execute(
                update(Fulfilment)
                .where(
                    Fulfilment.account_id == account.id,
                    Fulfilment.state == FulfilmentState.ACCEPTED.value,
                )
                .values(next_attempt_at=func.now())
            )
    return get_account(sessions, account.id)
