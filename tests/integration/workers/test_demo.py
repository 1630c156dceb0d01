"""``amazon-channel demo``: every order the sandbox holds ends up in the store or set aside with
its reason, and the summary says so (the store is read through ``infra.db.demo``)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from infra.settings import Settings
from workers import bootstrap
from workers.demo import run_demo

pytestmark = pytest.mark.integration


def test_the_demo_accounts_for_every_order_it_created(
    settings: Settings, clean_db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        assert run_demo(settings, 14) == 0
    finally:
        bootstrap.reset_and_close()
    out = capsys.readouterr().out
    assert "the demo's store: DATABASE_URL (shared); the summary counts only this run's" in out
    assert "sync 1: 16 orders" in out  # 14 of every kind, a replacement, one that makes no sense
    assert "16 orders created on Amazon: 15 in the store, 1 set aside, 0 missing" in out
    assert "orders/created" in out


def test_a_second_demo_on_the_same_store_counts_only_its_own_orders(
    settings: Settings, clean_db: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    for _run in range(2):
        try:
            assert run_demo(settings, 7) == 0
        finally:
            bootstrap.reset_and_close()
    first, second = capsys.readouterr().out.split("sandbox at ")[1:]
    for out in (first, second):
        assert "9 orders created on Amazon: 8 in the store, 1 set aside, 0 missing" in out
        created = next(line for line in out.splitlines() if line.endswith("orders/created"))
        assert int(created.split()[0]) == 8
