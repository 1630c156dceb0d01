"""Seller accounts: add, list, look up, disconnect and reconnect (``accounts_changes``: edit,
disable, enable, pause, remove; ``accounts_import``: many at once). Refresh tokens are stored
encrypted (``infra.secrets``: sealed here on the way in, opened only by the Amazon client's
build), never logged or printed.

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
from infra.db.accounts_checks import AccountError, NewAccount, checked
from infra.db.tables import Fulfilment, SellerAccount
from infra.secrets import Keyring, process_keyring

__all__ = [
    "AccountError",
    "AccountView",
    "account_matches",
    "add_account",
    "get_account",
    "list_accounts",
    "sealed_token",
    "set_connected",
    "view_of",
]


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    name: str
    selling_partner_id: str
    region: str
    marketplace_ids: tuple[str, ...]
    lwa_client_id: str | None
    # As stored: sealed (a Fernet token; ``Keyring.open`` gives the token), or clear in a row
    # written before secrets were encrypted, until ``secrets rotate``.
    lwa_refresh_token: str
    active: bool  # False: disabled by a person
    connected: bool = True
    disconnected_at: datetime | None = None
    paused_at: datetime | None = None
    paused_reason: str | None = None
    removed_at: datetime | None = None
    sync_since: datetime | None = None

    def __repr__(self) -> str:  # the refresh token stays out of logs and tracebacks
        return f"AccountView(id={self.id}, name={self.name!r}, region={self.region!r})"

    @property
    def reaches_amazon(self) -> bool:
        """Synced and sent for: connected, enabled, not paused, not removed."""
        return self.connected and self.active and self.paused_at is None and self.removed_at is None

    @property
    def status(self) -> str:
        """In words, the first that holds: removed, disabled, paused (with Amazon's reason),
        disconnected, active."""
        if self.removed_at is not None:
            return "removed"
        if not self.active:
            return "disabled"
        if self.paused_at is not None:
            return f"paused: {self.paused_reason or 'credentials refused'}"
        if not self.connected:
            return "disconnected"
        return "active"


def view_of(row: SellerAccount) -> AccountView:
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
        paused_at=row.paused_at,
        paused_reason=row.paused_reason,
        removed_at=row.removed_at,
        sync_since=row.sync_since,
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
    sync_since: datetime | None = None,
    app_client_id: str = "",
    keyring: Keyring | None = None,
) -> AccountView:
    """Check (``accounts_checks.checked``) and store one account, its refresh token sealed
    with ``keyring`` (this process's by default). ``app_client_id``: ``LWA_CLIENT_ID``, which
    a real region needs when the account names no client id."""
    new = checked(
        NewAccount(
            name=name,
            selling_partner_id=selling_partner_id,
            region=region,
            marketplace_ids=tuple(marketplace_ids),
            refresh_token=refresh_token,
            client_id=client_id,
            sync_since=sync_since,
        ),
        app_client_id=app_client_id,
    )
    row = _row(new, keyring)
    try:
        with sessions.begin() as session:
            session.add(row)
            session.flush()
            return view_of(row)
    except IntegrityError as exc:
        raise AccountError.of("name", f"an account called {new.name!r} exists already") from exc


def sealed_token(token: str, keyring: Keyring | None = None) -> str:
    """The refresh token as it is stored: sealed with the current key."""
    return (keyring or process_keyring()).seal(token)


def _row(new: NewAccount, keyring: Keyring | None) -> SellerAccount:
    return SellerAccount(
        name=new.name,
        selling_partner_id=new.selling_partner_id,
        region=new.region,
        marketplace_ids=list(new.marketplace_ids),
        lwa_client_id=new.client_id,
        lwa_refresh_token=sealed_token(new.refresh_token, keyring),
        sync_since=new.sync_since,
    )


def list_accounts(
    sessions: sessionmaker[Session],
    *,
    active_only: bool = False,
    connected_only: bool = False,
    include_removed: bool = False,
) -> list[AccountView]:
    """By id. ``active_only``: enabled, not paused, not removed (what beat syncs);
    ``include_removed``: removed accounts too (hidden otherwise)."""
    with sessions() as session:
        query = select(SellerAccount).order_by(SellerAccount.id)
        if active_only:
            query = query.where(
                SellerAccount.active.is_(True),
                SellerAccount.paused_at.is_(None),
                SellerAccount.removed_at.is_(None),
            )
        if connected_only:
            query = query.where(SellerAccount.connected.is_(True))
        if not include_removed:
            query = query.where(SellerAccount.removed_at.is_(None))
        return [view_of(row) for row in session.scalars(query)]


def get_account(sessions: sessionmaker[Session], ref: str | int) -> AccountView:
    """By id or by name."""
    with sessions() as session:
        account_id = row_id(ref)
        if account_id is not None:
            row = session.get(SellerAccount, account_id)
        else:
            row = session.scalars(select(SellerAccount).where(SellerAccount.name == ref)).first()
        if row is None:
            raise AccountError.of("account", f"no account {ref!r}")
        return view_of(row)


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
