"""``shown_as``: the ``argsrepr`` Flower shows for a task sent with it."""

from __future__ import annotations

from workers.base import shown_as


def test_ids_are_shown_in_order_and_missing_ones_left_out() -> None:
    shown = shown_as(account="acme", order="113-1234567-1234567", fulfilment=None, id=7)
    assert shown == {"argsrepr": "account=acme order=113-1234567-1234567 id=7", "kwargsrepr": "{}"}
