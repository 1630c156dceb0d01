"""An account whose refresh token Login with Amazon refuses, end to end: a real ingest worker
syncs it on beat's tick against the sandbox over HTTP, the account is paused with Amazon's
reason, and beat queues it no more while the other accounts sync on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.db.accounts import add_account, get_account
from infra.db.accounts_changes import set_enabled
from infra.db.tables import SellerAccount
from infra.settings import Settings
from tests.integration.processes import wait_for, worker
from tests.integration.workers.scenarios import last_success, project_app, stage, worker_env
from workers import bootstrap
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration

RATE_FACTOR = 500.0


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def celery_app(broker_url: str) -> Iterator[Any]:
    with project_app(broker_url) as app:
        yield app


def _paused_reason(engine: Engine, account_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(SellerAccount.paused_reason).where(SellerAccount.id == account_id)
        ).scalar()


def test_a_refused_refresh_token_pauses_the_account_and_beat_leaves_it(
    sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    child_env: dict[str, str],
    settings: Settings,
    clean_db: Engine,
    tmp_path: Path,
    celery_app: Any,
) -> None:
    demo = ensure_demo_account(session_factory).id
    revoked = add_account(
        session_factory,
        name="revoked",
        selling_partner_id="A2REVOKED",
        region="SANDBOX",
        marketplace_ids=["SE"],
        refresh_token="Atzr|revoked-by-the-seller",
    ).id
    stage(sandbox, 5, seed=2)
    with worker("ingest", worker_env(child_env, sandbox, RATE_FACTOR), tmp_path):
        celery_app.send_task("ingest.sync_all")  # beat's tick
        wait_for(lambda: _paused_reason(clean_db, revoked) is not None, 60)
        wait_for(lambda: last_success(clean_db, demo) is not None, 60)

    assert _paused_reason(clean_db, revoked) == (
        "invalid_grant: The request has an invalid grant parameter"
    )
    assert get_account(session_factory, revoked).status.startswith("paused: invalid_grant")
    bootstrap.use(settings)
    try:
        assert bootstrap.active_account_ids() == [demo]  # beat queues it no more
        set_enabled(session_factory, revoked, True)  # a person enables it: tried again
        assert bootstrap.active_account_ids() == [demo, revoked]
    finally:
        bootstrap.reset_and_close()
