"""Every stored refresh token under the current key (``amazon-channel secrets rotate``): a clear
one from before secrets were encrypted is sealed, one sealed with an older key of the ring is
re-encrypted, one on the current key is left alone (so a second run changes nothing).

Safe to interrupt: the accounts are walked by id in batches, each its own transaction, and a
row is only written if it still holds what was read (compare and set: an edit made meanwhile is
kept). A row is readable before, during and after, since the ring still holds the old key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from infra.db.tables import SellerAccount
from infra.secrets import Keyring, is_sealed

BATCH = 500


@dataclass(frozen=True, slots=True)
class Resealed:
    checked: int  # rows read
    resealed: int  # rows written under the current key (clear or older key before)


def reseal_refresh_tokens(
    sessions: sessionmaker[Session], keyring: Keyring, *, batch: int = BATCH
) -> Resealed:
    """Every account's refresh token on ``keyring``'s current key. ``SecretsKeyError`` names
    the first account whose token no key of the ring opens (the rows before it are done)."""
    checked = resealed = 0
    after = 0
    while True:
        with sessions.begin() as session:
            rows = session.execute(
                select(SellerAccount.id, SellerAccount.name, SellerAccount.lwa_refresh_token)
                .where(SellerAccount.id > after)
                .order_by(SellerAccount.id)
                .limit(batch)
            ).all()
            for account_id, name, stored in rows:
                checked += 1
                if keyring.on_current_key(stored):
                    continue
                fresh = keyring.reseal(stored, what=f"the refresh token of account {name!r}")
                written = session.execute(
                    update(SellerAccount)
                    .where(
                        SellerAccount.id == account_id,
                        SellerAccount.lwa_refresh_token == stored,
                    )
                    .values(lwa_refresh_token=fresh)
                    .returning(SellerAccount.id)
                ).first()
                resealed += written is not None
        if len(rows) < batch:
            return Resealed(checked, resealed)
        after = rows[-1][0]


def clear_refresh_tokens(sessions: sessionmaker[Session]) -> int:
    """How many accounts still hold a refresh token in clear text (rows from before)."""
    with sessions() as session:
        stored = session.scalars(select(SellerAccount.lwa_refresh_token)).all()
    return sum(1 for value in stored if not is_sealed(value))
