"""No secret and no buyer data in any line any process logged, and what a line is about bound on
it (``infra.logging``).

The system runs as real processes against the sandbox (over HTTP): the web process and one
worker per queue that has tasks, each logging JSON (``LOG_JSON=1``) to its own file, and the CLI
that adds the accounts. Secrets are planted: a seller whose refresh token and LWA app secret are
ours, the platform's API token (in every request's ``Authorization`` header, and a wrong one
refused), the webhook secret (events are delivered, signed, to a receiver here), and a buyer
(name, email, address, phone) on every order at Amazon. The flow: a sync, a fulfilment
confirmed on Amazon, a refund through a feed, and failures: a fulfilment Amazon refuses (the order
was cancelled there) and a sync of the sandbox's demo account, added with the one-shot of
docker-compose.yml, whose credentials Login with Amazon refuses (the app secret is ours). Then
every line of every process is scanned for each planted value and the access tokens the sandbox
issued.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import Engine, select

from infra.amazon.sandbox.server import running_sandbox
from infra.db.tables import Fulfilment
from tests.integration.processes import WorkerProcess, wait_for
from tests.integration.workers.refunds import (
    SANDBOX_RATE_FACTOR,
    US,
    Amazon,
    drive,
    refund_rows,
)
from tests.integration.workers.scenarios import (
    fulfilment_body,
    project_app,
    shipped_at_now,
    sync_and_wait,
    web_process,
    worker_env,
)
from workers.doors.fulfilments import publish_fulfilment

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SELLER = "A2PLANTEDSELLER"
ACCOUNT = "planted-shop"
PLANTED = {
    "refresh token": "Atzr|planted-refresh-7Qm2xK9",
    "LWA client secret": "amzn1.oa2-cs.planted-secret-4Fw8",
    "API token": "planted-api-token-Zr5Lq",
    "a refused API token": "planted-wrong-token-Hh3",
    "webhook secret": "planted-webhook-secret-Vb6",
    "buyer name": "Planted Buyerperson",
    "buyer email": "planted.buyer.q7@example.com",
    "buyer address": "77 Plantedway Lane",
    "buyer phone": "+1 555 0177 4242",
}
CLIENT_ID = "amzn1.application-oa2-client.planted"
WORKERS = ("ingest", "fulfil", "refund", "events")


class _Receiver(BaseHTTPRequestHandler):
    """A webhook subscriber: counts the deliveries, answers 204."""

    received: list[bytes] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        type(self).received.append(self.rfile.read(length))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test's own output stays quiet


@pytest.fixture
def subscriber() -> Iterator[tuple[str, list[bytes]]]:
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", _Receiver.received
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def cli_process(
    env: dict[str, str], log_path: Path, command: str, ready: Callable[[], bool]
) -> Iterator[None]:
    """``amazon-channel COMMAND`` (beat, Flower) as in production, named on its lines, once
    ``ready()``."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "workers.cli", command],
            env={**env, "PROCESS_NAME": command},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: ready() or process.poll() is not None, 60)
        assert process.poll() is None, log_path.read_text()
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthcheck", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(env: dict[str, str], log: Path, *args: str, stdin: str = "") -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    with log.open("a") as out:
        out.write(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr


def _plant_buyer(amazon: Amazon, order_id: str) -> None:
    """The planted buyer on the order at Amazon, in every section that carries one."""
    address = {
        "name": PLANTED["buyer name"],
        "addressLine1": PLANTED["buyer address"],
        "city": "Seattle",
        "stateOrRegion": "WA",
        "postalCode": "98101",
        "countryCode": "US",
        "phone": PLANTED["buyer phone"],
    }
    body = {
        "buyer": {"buyerName": PLANTED["buyer name"], "buyerEmail": PLANTED["buyer email"]},
        "recipient": {"deliveryAddress": address},
    }
    response = amazon.http.post(f"/_sandbox/orders/{order_id}/raw", json=body)
    assert response.status_code == 200, response.text
    assert PLANTED["buyer email"] in response.text


def _state(engine: Engine, platform_id: str) -> str | None:
    with engine.connect() as conn:
        found = conn.execute(
            select(Fulfilment.state).where(Fulfilment.platform_fulfilment_id == platform_id)
        ).scalar()
    return None if found is None else str(found)


def _demo_account_csv() -> str:
    """The account docker-compose.yml's one-shot ``demo-account`` imports."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return str(compose["configs"]["demo-account"]["content"])


def test_no_process_logs_a_secret_or_buyer_data_and_task_lines_say_what_they_are_about(
    child_env: dict[str, str],
    engine: Engine,
    broker_url: str,
    clean_db: Engine,
    subscriber: tuple[str, list[bytes]],
    tmp_path: Path,
) -> None:
    hooks, delivered = subscriber
    cli_log = tmp_path / "cli.log"
    with (
        running_sandbox(rate_factor=SANDBOX_RATE_FACTOR) as sandbox,
        project_app(broker_url) as app,
        httpx.Client(base_url=sandbox.base_url, timeout=30) as control,
    ):
        amazon = Amazon(control)
        amazon.feeds_done_at_once()
        seller = {
            "seller_id": SELLER,
            "refresh_token": PLANTED["refresh token"],
            "client_id": CLIENT_ID,
            "client_secret": PLANTED["LWA client secret"],
            "marketplace_ids": [US],
        }
        assert control.post("/_sandbox/sellers", json=seller).status_code in (200, 201)
        env = {
            **worker_env(child_env, sandbox, SANDBOX_RATE_FACTOR),
            "LOG_JSON": "1",
            "LOG_LEVEL": "DEBUG",  # every line any setting logs
            "LWA_CLIENT_ID": CLIENT_ID,
            "LWA_CLIENT_SECRET": PLANTED["LWA client secret"],
            "API_TOKENS": PLANTED["API token"],
            "WEBHOOK_URLS": hooks,
            "WEBHOOK_SECRET": PLANTED["webhook secret"],
            "BROKER_VISIBILITY_TIMEOUT": "10",
            "WEB_WORKERS": "1",
            "FLOWER_PORT": str(_free_port()),  # Flower, at 127.0.0.1 (FLOWER_HOST)
            "DATA_DIR": str(tmp_path / "data"),
        }
        add = ["accounts", "add", ACCOUNT, "--seller-id", SELLER, "--region", "SANDBOX"]
        _cli(env, cli_log, *add, "--marketplace", US, "--refresh-token", PLANTED["refresh token"])
        _cli(env, cli_log, "accounts", "import", "--skip-existing", "-", stdin=_demo_account_csv())

        beat_log, flower = tmp_path / "beat.log", f"http://127.0.0.1:{env['FLOWER_PORT']}"
        workers = [
            WorkerProcess(q, {**env, "PROCESS_NAME": q}, tmp_path / f"{q}.log") for q in WORKERS
        ]
        with ThreadPoolExecutor(len(workers)) as pool:
            starting = [pool.submit(w.start) for w in workers]
            try:
                with (
                    web_process(env, tmp_path, log_level="DEBUG") as base,
                    httpx.Client(base_url=base, timeout=30) as web,
                    cli_process(
                        env, beat_log, "beat", lambda: b"beat ready." in beat_log.read_bytes()
                    ),
                    cli_process(env, tmp_path / "flower.log", "flower", lambda: _up(flower)),
                ):
                    for started in starting:
                        started.result()
                    orders = _run_the_day(amazon, app, engine, web)
                    wait_for(lambda: len(delivered) > 0, 60)
            finally:
                for started in starting:
                    started.exception()
                for w in workers:
                    w.stop()
        issued = list(sandbox.state.access_tokens)

    logs = {p.name: p.read_text(errors="replace") for p in tmp_path.glob("*.log")}
    others = ("cli.log", "web.log", "beat.log", "flower.log")
    assert set(logs) == {*others, *(f"{q}.log" for q in WORKERS)}
    assert issued, "the workers were given access tokens"
    secrets = {**PLANTED, **{f"access token {n}": t for n, t in enumerate(issued)}}
    leaks = [
        f"{what} in {name}: {line[:300]}"
        for name, text in logs.items()
        for line in text.splitlines()
        for what, value in secrets.items()
        if value in line
    ]
    assert leaks == []
    _assert_lines_are_bound(logs, orders)


def _run_the_day(amazon: Amazon, app: Any, engine: Engine, web: httpx.Client) -> dict[str, str]:
    """A sync, a fulfilment confirmed, a refund sent in a feed, a fulfilment Amazon refuses,
    a request with a refused token, a sync whose credentials LWA refuses."""
    staged = {
        name: amazon.order(1, seller_id=SELLER, age=timedelta(minutes=3))
        for name in ("F-ok", "F-refused", "R-1")
    }
    orders = {name: o["order_id"] for name, o in staged.items()}
    for order_id in orders.values():
        _plant_buyer(amazon, order_id)
    amazon.advance(180)  # the planting updated the orders: past Amazon's two-minute rule
    account_id = _account_id(web, ACCOUNT)
    sync_and_wait(engine, account_id)
    amazon.http.post(
        f"/_sandbox/orders/{orders['F-refused']}/status", json={"status": "CANCELLED"}
    ).raise_for_status()

    # Amazon fails the first confirmation once (a retry, its error logged), then confirms it.
    fault = {"operation": "ordersV0.confirmShipment", "kind": "500", "count": 1}
    amazon.http.post("/_sandbox/faults", json=fault).raise_for_status()
    auth = {"Authorization": f"Bearer {PLANTED['API token']}"}
    bodies = {
        platform_id: {
            **fulfilment_body(platform_id, _line(staged[platform_id]), shipped_at_now()),
            "account": ACCOUNT,
        }
        for platform_id in ("F-ok", "F-refused")
    }
    answer = web.post(
        "/v1/fulfilments", json=bodies["F-ok"], headers={**auth, "Idempotency-Key": "F-ok"}
    )
    assert answer.status_code in (200, 201, 202), answer.text
    publish_fulfilment(bodies["F-refused"], app=app)  # the queue's door
    refund = {
        "account": ACCOUNT,
        "amazon_order_id": orders["R-1"],
        "platform_refund_id": "R-1",
        "reason": "customer_return",
        "lines": [
            {
                "order_item_id": staged["R-1"]["items"][0]["order_item_id"],
                "amounts": {"item_price": "5.00"},
            }
        ],
    }
    answer = web.post("/v1/refunds", json=refund, headers={**auth, "Idempotency-Key": "R-1"})
    assert answer.status_code in (200, 201, 202), answer.text
    refused = {"Authorization": f"Bearer {PLANTED['a refused API token']}"}
    assert web.get("/v1/fulfilments", headers=refused).status_code == 401

    wait_for(lambda: _state(engine, "F-ok") == "confirmed", 120)
    wait_for(lambda: _state(engine, "F-refused") == "failed", 120)
    drive(app, engine, lambda: _refund_settled(engine, "R-1"), timeout_s=120)
    demo_id = _account_id(web, "demo")
    app.send_task("ingest.sync_account", args=[demo_id])  # LWA refuses: the app secret is ours
    wait_for(lambda: _account(web, "demo")["status"] != "active", 60)
    # Not invalid_grant: the refresh token docker-compose.yml's one-shot imports is the sandbox's.
    assert str(_account(web, "demo")["paused_reason"]).startswith("invalid_client")
    return orders


def _line(order: dict[str, Any]) -> tuple[str, str, int]:
    item = order["items"][0]
    return order["order_id"], item["order_item_id"], item["quantity"]


def _refund_settled(engine: Engine, platform_id: str) -> bool:
    rows = refund_rows(engine)
    return platform_id in rows and rows[platform_id].state in ("confirmed", "failed")


def _account(web: httpx.Client, name: str) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {PLANTED['API token']}"}
    found = web.get("/v1/accounts", headers=auth)
    assert found.status_code == 200, found.text
    (account,) = [a for a in found.json()["accounts"] if a["name"] == name]
    return dict(account)


def _account_id(web: httpx.Client, name: str) -> int:
    return int(_account(web, name)["account_id"])


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = []
    for line in text.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _assert_lines_are_bound(logs: dict[str, str], orders: dict[str, str]) -> None:
    """Each worker line logged in a task names the task, its id, and what it is about; each web
    line logged in a request carries the request's id; every line names its process."""
    for process in (*WORKERS, "beat", "flower"):
        lines = _json_lines(logs[f"{process}.log"])
        assert lines and all(line.get("process") == process for line in lines), process
    fulfil = _json_lines(logs["fulfil.log"])
    calls = [
        line
        for line in fulfil
        if line.get("event") == "spapi call" and line.get("operation") == "ordersV0.confirmShipment"
    ]
    assert calls, "the confirmations' calls are logged"
    for call in calls:
        assert call["task"] == "fulfil.confirm" and call["task_id"]
        assert call["amazon_order_id"] in (orders["F-ok"], orders["F-refused"])
        assert isinstance(call["account"], int)
    retried = [line for line in fulfil if str(line.get("event")).startswith("task failed trans")]
    assert [line["amazon_order_id"] for line in retried] == [orders["F-ok"]]
    intake = [line for line in fulfil if line.get("task") == "fulfil.intake"]
    assert intake and {line.get("account") for line in intake} == {ACCOUNT}
    assert {line.get("amazon_order_id") for line in intake} == {orders["F-refused"]}
    ingest = [line for line in _json_lines(logs["ingest.log"]) if line.get("event") == "spapi call"]
    assert ingest and all(line["task"] == "ingest.sync_account" for line in ingest)
    assert all(isinstance(line.get("account"), int) for line in ingest)
    web = _json_lines(logs["web.log"])
    access = [line for line in web if line.get("logger") == "uvicorn.access"]
    assert access and all(len(str(line.get("request_id", ""))) == 32 for line in access)
    assert all(line.get("process") == "web" for line in web)
