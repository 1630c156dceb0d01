"""``orders timeline ORDER`` of orders fulfilled through a real fulfil worker against the
sandbox over HTTP: a confirmShipment the sandbox refuses (a 400 fault queued for that order
through its control API) shows with Amazon's code, its ``x-amzn-RequestId`` and the reason, in
time order beside the fulfilment's own changes and its event; the other order's confirmation
and read-back show as they happened."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from infra.amazon.sandbox.server import SandboxHandle, running_sandbox
from infra.db.tables import Fulfilment
from infra.settings import Settings
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.fulfilments import cli
from tests.integration.workers.scenarios import (
    CONFIRM_SHIPMENT,
    TOKEN,
    fulfil_env,
    fulfilment_body,
    on_sandbox,
    project_app,
    shipped_at_now,
    synced_merchant_orders,
    web_process,
)
from workers.demo import ensure_demo_account

pytestmark = pytest.mark.integration

RATE_FACTOR = 50.0


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(rate_factor=RATE_FACTOR) as handle:
        yield handle


@pytest.fixture
def env(child_env: dict[str, str], sandbox: SandboxHandle, tmp_path: Path) -> dict[str, str]:
    return {**fulfil_env(child_env, sandbox, RATE_FACTOR), "DATA_DIR": str(tmp_path / "data")}


def _states(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(select(Fulfilment.amazon_order_id, Fulfilment.state)).all()
    return {order_id: state for order_id, state in rows}


def _read_back(engine: Engine) -> int:
    with engine.connect() as conn:
        checked = Fulfilment.amazon_checked_at.is_not(None)
        return int(
            conn.execute(select(func.count()).select_from(Fulfilment).where(checked)).scalar_one()
        )


def _timeline(env: dict[str, str], order_id: str) -> dict[str, Any]:
    result = cli(env, "orders", "timeline", order_id, "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def _at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["at"])


def test_a_refused_confirmation_shows_with_amazons_code_request_id_and_reason(
    sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
    settings: Settings,
    env: dict[str, str],
    clean_db: Engine,
    tmp_path: Path,
    broker_url: str,
) -> None:
    with project_app(broker_url):
        ensure_demo_account(session_factory)
        refused, confirmed = synced_merchant_orders(
            sandbox, on_sandbox(settings, sandbox, RATE_FACTOR), 2
        )
        fault = {"operation": CONFIRM_SHIPMENT, "kind": "400", "order_id": refused[0]}
        assert httpx.post(f"{sandbox.base_url}/_sandbox/faults", json=fault).status_code == 201
        worker = WorkerProcess("fulfil", env, tmp_path / "fulfil.log")
        worker.start()
        try:
            with (
                web_process(env, tmp_path) as base,
                httpx.Client(base_url=base, timeout=30) as http,
            ):
                for n, order in enumerate((refused, confirmed)):
                    answer = http.post(
                        "/v1/fulfilments",
                        json=fulfilment_body(f"T-{n}", order, shipped_at_now()),
                        headers={
                            "Idempotency-Key": str(uuid.uuid4()),
                            "Authorization": f"Bearer {TOKEN}",
                        },
                    )
                    assert answer.status_code == 201, answer.text
            expected = {refused[0]: "failed", confirmed[0]: "confirmed"}
            wait_for(lambda: _states(clean_db) == expected and _read_back(clean_db) == 1, 60)
        finally:
            worker.stop()

    calls = {c.request_id: c for c in sandbox.state.call_log(CONFIRM_SHIPMENT)}
    faulted = [c for c in calls.values() if c.fault == "400"]
    assert len(faulted) == 1 and faulted[0].status == 400

    failed = _timeline(env, refused[0])
    entries = failed["entries"]
    assert failed["account"] == "demo" and failed["order"]["status"] == "UNSHIPPED"
    assert [_at(e) for e in entries] == sorted(_at(e) for e in entries), "in time order"
    spapi = [e for e in entries if e["kind"] == "spapi"]
    assert [e["details"]["operation"] for e in spapi] == [CONFIRM_SHIPMENT]
    call = spapi[0]
    assert call["failed"] is True
    assert call["details"]["status"] == 400 and call["details"]["error_code"] == "InvalidInput"
    assert call["details"]["request_id"] == faulted[0].request_id, "Amazon's x-amzn-RequestId"
    assert call["details"]["task"] == "fulfil.confirm" and call["details"]["task_id"]
    assert call["reason"].startswith("InvalidInput: The request was refused")
    kinds = [(e["kind"], e["what"]) for e in entries]
    accepted = next(n for n, (k, w) in enumerate(kinds) if k == "fulfilment" and "accepted" in w)
    gave_up = next(n for n, (k, w) in enumerate(kinds) if k == "fulfilment" and "failed" in w)
    event = next(n for n, (k, w) in enumerate(kinds) if w.startswith("fulfilments/failed"))
    assert accepted < entries.index(call) < gave_up <= event
    assert entries[gave_up]["reason"].startswith("InvalidInput: The request was refused")

    ok = _timeline(env, confirmed[0])["entries"]
    operations = [
        (e["details"]["operation"], e["details"]["status"]) for e in ok if e["kind"] == "spapi"
    ]
    assert operations == [(CONFIRM_SHIPMENT, 204), ("orders2026.getOrder", 200)]
    assert not any(e["failed"] for e in ok)
    confirm_call = next(e for e in ok if e["kind"] == "spapi")
    assert calls[confirm_call["details"]["request_id"]].status == 204
    whats = [e["what"] for e in ok]
    assert any("confirmed on Amazon" in w for w in whats)
    assert any("read back: order" in w for w in whats)

    text = cli(env, "orders", "timeline", refused[0])
    assert text.exit_code == 0, text.output
    assert f"request id {faulted[0].request_id}" in text.output
    assert "reason: InvalidInput: The request was refused" in text.output
    assert f"! spapi      {CONFIRM_SHIPMENT} -> HTTP 400 InvalidInput" in text.output


def test_an_order_nothing_names_is_a_one_line_error(clean_db: Engine, env: dict[str, str]) -> None:
    result = cli(env, "orders", "timeline", "000-0000000-0000000")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: amazon_order_id: nothing in the store names order '000-0000000-0000000'"
    )
