"""The sandbox remembers: ``amazon-channel sandbox`` stopped and started again on the same data
folder still holds its sellers, tokens, orders, packages, feeds and clock, so a shipment
confirmed for an order made before the restart is accepted (it used to fail with NotFound).
A SIGKILL loses at most the changes not yet saved and never leaves a file that cannot be read.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.infra.amazon.sandbox.sandbox_process import SandboxProcess, access_token

pytestmark = pytest.mark.integration

MARKETPLACE = "ATVPDKIKX0DER"
FEEDS = "/feeds/2021-06-30/feeds"
DOCUMENTS = "/feeds/2021-06-30/documents"
XML = "text/xml; charset=UTF-8"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    process = SandboxProcess(tmp_path / "data")
    try:
        yield process
    finally:
        process.kill()


def _order(client: httpx.Client) -> tuple[str, str]:
    response = client.post(
        "/_sandbox/orders",
        json={
            "fulfilled_by": "MERCHANT",
            "status": "UNSHIPPED",
            "created_time": _PURCHASED,
            "items": [{"sku": "MUG-1", "quantity": 1, "unit_price": "12.50"}],
        },
    )
    assert response.status_code == 201, response.text
    order_id = str(response.json()["order_id"])
    return order_id, _view(client, order_id)["items"][0]["order_item_id"]


_PURCHASED = "2026-01-10T12:00:00Z"


def _view(client: httpx.Client, order_id: str) -> dict[str, Any]:
    response = client.get(f"/_sandbox/orders/{order_id}")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def _confirm(
    client: httpx.Client, headers: dict[str, str], order_id: str, item_id: str
) -> httpx.Response:
    package = {
        "packageReferenceId": "1",
        "carrierCode": "UPS",
        "trackingNumber": "1Z999AA10123456784",
        "shipDate": "2026-01-11T09:30:00Z",
        "orderItems": [{"orderItemId": item_id, "quantity": 1}],
    }
    return client.post(
        f"/orders/v0/orders/{order_id}/shipmentConfirmation",
        json={"marketplaceId": MARKETPLACE, "packageDetail": package},
        headers=headers,
    )


def _feed(client: httpx.Client, headers: dict[str, str]) -> str:
    document = client.post(DOCUMENTS, json={"contentType": XML}, headers=headers)
    assert document.status_code == 201, document.text
    uploaded = httpx.put(document.json()["url"], content=b"<x/>", headers={"content-type": XML})
    assert uploaded.status_code == 200, uploaded.text
    created = client.post(
        FEEDS,
        json={
            "feedType": "POST_ORDER_FULFILLMENT_DATA",
            "marketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": document.json()["feedDocumentId"],
        },
        headers=headers,
    )
    assert created.status_code == 202, created.text
    return str(created.json()["feedId"])


def test_a_restarted_sandbox_knows_its_orders_packages_feeds_tokens_and_clock(
    sandbox: SandboxProcess,
) -> None:
    sandbox.start()
    with httpx.Client(base_url=sandbox.base_url) as client:
        headers = access_token(client)
        shipped, shipped_item = _order(client)
        waiting, waiting_item = _order(client)
        assert _confirm(client, headers, shipped, shipped_item).status_code == 204
        feed_id = _feed(client, headers)
        client.post("/_sandbox/clock/advance", json={"seconds": 3600 * 5})
        before = sandbox.state()
        package = _view(client, shipped)["packages"]
    assert sandbox.stop() == 0
    assert (sandbox.data_dir / "sandbox" / "state.pickle").is_file()

    sandbox.start()
    with httpx.Client(base_url=sandbox.base_url) as client:
        after = sandbox.state()
        for kept in ("orders", "orders_by_seller_and_status", "packages", "feeds_by_status"):
            assert after[kept] == before[kept], kept
        assert after["clock_offset_seconds"] == before["clock_offset_seconds"]
        assert after["state_file"] == str(sandbox.data_dir.resolve() / "sandbox" / "state.pickle")
        assert _view(client, shipped)["packages"] == package
        headers = access_token(client)  # the clock moved five hours on: the first one expired
        assert _confirm(client, headers, waiting, waiting_item).status_code == 204
        assert _view(client, waiting)["status"] == "SHIPPED"
        feed = client.get(f"{FEEDS}/{feed_id}", headers=headers)
        assert feed.status_code == 200, feed.text
        assert feed.json()["feedType"] == "POST_ORDER_FULFILLMENT_DATA"
        assert _feed(client, headers) != feed_id  # the id counter carried on


def test_an_access_token_issued_before_a_restart_still_works(sandbox: SandboxProcess) -> None:
    sandbox.start()
    with httpx.Client(base_url=sandbox.base_url) as client:
        headers = access_token(client)
        order_id, _ = _order(client)
    assert sandbox.stop() == 0
    sandbox.start()
    with httpx.Client(base_url=sandbox.base_url) as client:
        found = client.get(f"/orders/2026-01-01/orders/{order_id}", headers=headers)
    assert found.status_code == 200, found.text
    assert found.json()["order"]["orderId"] == order_id


def test_a_sigkill_loses_only_what_was_not_saved_and_leaves_a_readable_file(
    sandbox: SandboxProcess,
) -> None:
    sandbox.start()
    kept: list[str] = []
    for _round in range(3):
        with httpx.Client(base_url=sandbox.base_url) as client:
            kept.extend(_order(client)[0] for _ in range(20))
        sandbox.wait_until_saved()
        # Orders keep coming while the process dies: some are saved, some are lost.
        stop = threading.Event()
        writer = threading.Thread(target=_keep_ordering, args=(sandbox.base_url, stop))
        writer.start()
        try:
            deadline = time.monotonic() + 60
            while sandbox.state()["orders"] < len(kept) + 40 and time.monotonic() < deadline:
                time.sleep(0.01)
            sandbox.kill()
        finally:
            stop.set()
            writer.join(timeout=30)
        sandbox.start()  # refused if the file were half written
        with httpx.Client(base_url=sandbox.base_url) as client:
            for order_id in kept:
                assert client.get(f"/_sandbox/orders/{order_id}").status_code == 200, order_id
    assert not list((sandbox.data_dir / "sandbox").glob("*.tmp"))


_WRITER = """
import sys
from pathlib import Path
from infra.amazon.sandbox.keeper import write_atomically
target = Path(sys.argv[1])
write_atomically(target, b"old")
print("go", flush=True)
while True:
    write_atomically(target, b"n" * 20_000_000)
"""


def test_a_save_killed_half_way_leaves_the_whole_old_or_the_whole_new_file(
    tmp_path: Path,
) -> None:
    target = tmp_path / "state.pickle"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == b"go\n"
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("state.pickle.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.001)
        writer.kill()  # SIGKILL while a temporary file is being written
    finally:
        writer.kill()
        writer.wait(timeout=10)
        if writer.stdout is not None:
            writer.stdout.close()
    assert target.read_bytes() in (b"old", b"n" * 20_000_000)
    leftovers = list(tmp_path.glob("state.pickle.*.tmp"))
    assert leftovers  # the kill was mid-save: the keeper clears these at the next start


def _keep_ordering(base_url: str, stop: threading.Event) -> None:
    with httpx.Client(base_url=base_url, timeout=5.0) as client:
        while not stop.is_set():
            try:
                client.post("/_sandbox/orders", json={"fulfilled_by": "MERCHANT"})
            except httpx.TransportError:
                return
