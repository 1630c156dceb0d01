"""The conformance requests of Finances v0: times worked out from the sandbox's clock when the
request is sent, and paths to the world's orders and groups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx

from infra.amazon.sandbox.state import iso
from tests.integration.infra.amazon.sandbox.conformance.world import Request, World

Param = str | int | Callable[[World], str]


def ago(**delta: float) -> Callable[[World], str]:
    """A time this long before the sandbox's now, when the request is sent."""

    def moment(w: World) -> str:
        return iso(w.handle.state.now() - timedelta(**delta))

    return moment


def finances(path: str | Callable[[World], str], **params: Param) -> Request:
    """A Finances v0 GET; a path or parameter may be worked out from the world when sent."""

    def send(w: World) -> httpx.Response:
        resolved = {name: value(w) if callable(value) else value for name, value in params.items()}
        where = path(w) if callable(path) else path
        return w.client.get(f"/finances/v0/{where}", params=resolved, headers=w.headers)

    return send


def order_events(kind: str | None, order_id: str = "") -> Callable[[World], str]:
    def path(w: World) -> str:
        return f"orders/{w.orders[kind] if kind else order_id}/financialEvents"

    return path


def group_events(currency: str = "USD") -> Callable[[World], str]:
    """The open group of the demo seller in ``currency``."""

    def path(w: World) -> str:
        groups = w.client.get("/_sandbox/finances/groups").json()["groups"]
        group = next(
            g
            for g in groups
            if g["ProcessingStatus"] == "Open" and g["OriginalTotal"]["CurrencyCode"] == currency
        )
        return f"financialEventGroups/{group['FinancialEventGroupId']}/financialEvents"

    return path


def second_page(send_first: Request, path: str | Callable[[World], str], **same: Param) -> Request:
    """The page after ``send_first``'s, by its NextToken (with ``same`` arguments again)."""

    def send(w: World) -> httpx.Response:
        first = send_first(w)
        assert first.status_code == 200, first.text
        token = first.json()["payload"]["NextToken"]
        return finances(path, NextToken=token, **same)(w)

    return send
