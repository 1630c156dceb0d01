"""Changing a seller account once it is stored: edit (checked again as a whole, like a new
one), disable and enable, pause on refused credentials, remove and purge.

- Disabled (``active`` false): a person stopped it; no sync, nothing sent, until enabled.
- Paused: Login with Amazon refused its credentials (``invalid_grant``: the refresh token was
  revoked or mistyped; ``invalid_client``: the app's). The reason and the time are kept and it
  is not tried again every minute; enabling it, or editing in a new refresh token or client id,
  clears the pause.
- Removed: hidden from lists and never synced; its orders, fulfilments and refunds stay as
  history. A purge deletes the account and every row of it.

Every one is safe twice: the second time changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from infra.db.accounts import AccountView, get_account, sealed_token, view_of
from infra.db.accounts_checks import AccountError, NewAccount, checked
from infra.db.tables import Base, SellerAccount

_REASON_MAX = 500
_KEPT = "Atzr|kept"


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """What to change (None: keep it). Marketplaces replace the account's list."""

    name: str | None = None
    region: str | None = None
    marketplace_ids: tuple[str, ...] | None = None
    client_id: str | None = None
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return f"AccountChanges(name={self.name!r}, region={self.region!r})"

    @property
    def credentials(self) -> bool:
        return self.client_id is not None or self.refresh_token is not None


def edit_account(
    sessions: sessionmaker[Session], ref: str | int, changes: AccountChanges, *, app_client_id: str
) -> AccountView:
    """The account with ``changes``, checked again as a whole (a new region must hold its
    marketplaces). New credentials clear a pause: they are tried at the next sync."""
    account = get_account(sessions, ref)
    merged = checked(
        NewAccount(
            name=account.name if changes.name is None else changes.name,
            selling_partner_id=account.selling_partner_id,
            region=account.region if changes.region is None else changes.region,
            marketplace_ids=account.marketplace_ids
            if changes.marketplace_ids is None
            else changes.marketplace_ids,
            # The stored token was checked when it was given (and is sealed now): kept as it is.
            refresh_token=_KEPT if changes.refresh_token is None else changes.refresh_token,
            client_id=account.lwa_client_id if changes.client_id is None else changes.client_id,
        ),
        app_client_id=app_client_id,
    )
    values: dict[str, object] = {
        "name": merged.name,
        "region": merged.region,
        "marketplace_ids": list(merged.marketplace_ids),
        "lwa_client_id": merged.client_id,
    }
    if changes.refresh_token is not None:
        values["lwa_refresh_token"] = sealed_token(merged.refresh_token)
    if changes.credentials:
        values |= {"paused_at": None, "paused_reason": None}
    return _update(sessions, account.id, values, taken_name=merged.name)


def set_enabled(sessions: sessionmaker[Session], ref: str | int, enabled: bool) -> AccountView:
    """Disable, or enable (which also clears a pause and a removal: it is synced again)."""
    account = get_account(sessions, ref)
    values: dict[str, object] = {"active": enabled}
    if enabled:
        values |= {"paused_at": None, "paused_reason": None, "removed_at": None}
    return _update(sessions, account.id, values)


def pause_account(sessions: sessionmaker[Session], account_id: int, reason: str) -> bool:
    """Pause the account with Amazon's reason; False when it was paused already (the first
    reason and time are kept)."""
    with sessions.begin() as session:
        changed = session.execute(
            update(SellerAccount)
            .where(SellerAccount.id == account_id, SellerAccount.paused_at.is_(None))
            .values(paused_at=func.now(), paused_reason=reason[:_REASON_MAX])
            .returning(SellerAccount.id)
        ).first()
    return changed is not None


def remove_account(sessions: sessionmaker[Session], ref: str | int) -> AccountView:
    """Hide the account and stop it for good; its history stays. Twice keeps the first time."""
    account = get_account(sessions, ref)
    if account.removed_at is not None:
        return account
    return _update(sessions, account.id, {"removed_at": func.now()})


@dataclass(frozen=True, slots=True)
class Purged:
    account: AccountView
    rows: dict[str, int]  # table -> rows deleted


def purge_account(sessions: sessionmaker[Session], ref: str | int) -> Purged:
    """Delete the account and every row that names it, in one transaction: the tables are
    emptied of it from the most dependent up (rows hanging off its orders, fulfilments and
    refunds go with them by their foreign keys' cascades)."""
    account = get_account(sessions, ref)
    counts: dict[str, int] = {}
    with sessions.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name == SellerAccount.__tablename__ or "account_id" not in table.c:
                continue
            deleted = session.execute(
                delete(table).where(table.c.account_id == account.id).returning(table.c.account_id)
            ).all()
            if deleted:
                counts[table.name] = len(deleted)
        session.execute(delete(SellerAccount).where(SellerAccount.id == account.id))
    return Purged(account, counts)


def _update(
    sessions: sessionmaker[Session],
    account_id: int,
    values: dict[str, object],
    *,
    taken_name: str | None = None,
) -> AccountView:
    try:
        with sessions.begin() as session:
            row = session.execute(
                update(SellerAccount)
                .where(SellerAccount.id == account_id)
                .values(values)
                .returning(SellerAccount)
            ).scalar_one()
            return view_of(row)
    except IntegrityError as exc:
        raise AccountError.of("name", f"an account called {taken_name!r} exists already") from exc
