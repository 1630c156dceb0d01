"""What the app answers around the operations: methods and paths it does not serve answer as
Amazon does, so a client sees an error and not a payload; the control API keeps FastAPI's."""

from __future__ import annotations

import pytest

from tests.integration.infra.amazon.sandbox.api import (
    Sandbox,
    create,
    demo_headers,
)

pytestmark = pytest.mark.integration


def test_a_method_an_operation_path_does_not_serve_gets_the_routers_answer(
    sandbox: Sandbox,
) -> None:
    # SP-API calls skip FastAPI's router; what they do not match must still reach it.
    _, client = sandbox
    headers = demo_headers(client)
    order_id = create(client, fulfilled_by="MERCHANT", status="UNSHIPPED")["order_id"]
    path = f"/orders/2026-01-01/orders/{order_id}"

    put = client.put(path, headers=headers)
    assert put.status_code == 405
    assert put.json() == {
        "errors": [
            {
                "code": "InvalidInput",
                "message": f"PUT is not a method served at {path}",
                "details": "",
            }
        ]
    }
    assert put.headers["x-amzn-RequestId"]
    assert put.headers["allow"] == "GET"
    head = client.head(path, headers=headers)
    assert head.status_code == 405
    assert head.headers["x-amzn-RequestId"]
    assert client.get(f"{path}/", headers=headers).status_code in (307, 404)
    assert client.get(path, headers=headers).json()["order"]["orderId"] == order_id


@pytest.mark.parametrize(
    "path",
    ["/orders/2026-01-01/nothing", "/fba/inventory/v1/summaries", "/", "/orders/v0/orders/x/y/z"],
)
def test_a_path_no_operation_serves_is_an_amazon_not_found(sandbox: Sandbox, path: str) -> None:
    _, client = sandbox

    response = client.get(path, headers=demo_headers(client))

    assert response.status_code == 404
    assert response.json() == {
        "errors": [
            {"code": "NotFound", "message": f"No resource is served at {path}", "details": ""}
        ]
    }
    assert response.headers["x-amzn-RequestId"]
    assert "detail" not in response.json()


def test_the_control_api_keeps_fastapis_own_answers(sandbox: Sandbox) -> None:
    _, client = sandbox

    missing = client.get("/_sandbox/nothing")
    wrong_method = client.delete("/_sandbox/state")
    invalid = client.post("/_sandbox/clock/advance", json={"seconds": -1})

    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert (wrong_method.status_code, wrong_method.json()) == (
        405,
        {"detail": "Method Not Allowed"},
    )
    assert invalid.status_code == 422 and "detail" in invalid.json()
    assert "x-amzn-RequestId" not in missing.headers
