"""The store's schema: migrations round-trip and equal the models; business keys are unique."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from infra.db import migrate

pytestmark = pytest.mark.integration


def test_migrations_round_trip_and_match_the_models(database_url: str) -> None:
    migrate.check(database_url)
    migrate.downgrade(database_url, "base")
    migrate.upgrade(database_url)
    migrate.downgrade(database_url, "base")
    migrate.upgrade(database_url)
    migrate.check(database_url)


def _account(conn: object) -> int:
    row = conn.execute(  # type: ignore[attr-defined]
        text(
            "INSERT INTO seller_accounts (name, selling_partner_id, region, marketplace_ids,"
            " lwa_refresh_token) VALUES ('a', 'S1', 'NA', ARRAY['ATVPDKIKX0DER'], 'r')"
            " RETURNING id"
        )
    ).one()
    return int(row[0])


def test_an_order_is_unique_per_account_and_amazon_order_id(clean_db: Engine) -> None:
    insert = text(
        "INSERT INTO orders (account_id, amazon_order_id, marketplace_id, status, fulfilled_by,"
        " read_only, purchased_at, amazon_updated_at, is_business, is_prime, is_replacement,"
        " buyer_cancel_requested, has_buyer_data, content_hash)"
        " VALUES (:a, '113-0000000-0000001', 'ATVPDKIKX0DER', 'UNSHIPPED', 'MERCHANT', false,"
        " now(), now(), false, false, false, false, true, 'h')"
    )
    with clean_db.begin() as conn:
        account_id = _account(conn)
        conn.execute(insert, {"a": account_id})
    with pytest.raises(IntegrityError), clean_db.begin() as conn:
        conn.execute(insert, {"a": account_id})
