"""``shown_as``: the ``argsrepr`` Flower shows for a task sent with it."""

from __future__ import annotations

from workers.base import kept_repr, shown_as


def test_ids_are_shown_in_order_and_missing_ones_left_out() -> None:
    shown = shown_as(account="acme", order="113-1234567-1234567", fulfilment=None, id=7)
    assert shown == {"argsrepr": "account=acme order=113-1234567-1234567 id=7", "kwargsrepr": "{}"}


def test_a_retry_keeps_what_the_task_was_shown_as() -> None:
    from celery.app.task import Context

    request = Context({"id": "t-1", "argsrepr": "account=acme order=113-1", "kwargsrepr": "{}"})
    assert kept_repr(request) == {"argsrepr": "account=acme order=113-1", "kwargsrepr": "{}"}
    assert kept_repr(Context({"id": "t-2"})) == {}  # sent without: Celery's own repr
