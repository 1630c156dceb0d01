"""The fulfilment door on the shared fake store: a request read into the domain's command, and
the queue's versioned message taken in or refused and recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.fulfilments import Accepted, InvalidRequest, Rejected, amazon_carrier_code
from tests.fakes import ORDER_ID, T0, FakeFulfilmentStore, FixedClock, order_snapshot
from tests.unit.domain.fulfilments.helpers import reasons, request
from workers.doors.fulfilments import read_request, take_in


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def store(clock: FixedClock) -> FakeFulfilmentStore:
    store = FakeFulfilmentStore(clock)
    store.add_order(order_snapshot())
    return store


def test_a_request_becomes_a_command_in_utc_with_amazons_spelling_of_the_carrier() -> None:
    command = read_request(request(lines=[{"sku": "MUG-RED", "quantity": 2}]))
    assert command.shipped_at == datetime(2026, 11, 1, 10, 30, tzinfo=UTC)
    assert command.carrier_code == "UPS"
    assert command.lines[0].sku == "MUG-RED"
    assert amazon_carrier_code("royal  mail") == "Royal Mail"
    assert amazon_carrier_code("Pony Express") is None


def test_a_malformed_request_names_every_field_with_its_reason() -> None:
    with pytest.raises(InvalidRequest) as caught:
        read_request(
            {
                "account": "acme",
                "amazon_order_id": ORDER_ID,
                "shipped_at": "2026-11-01T10:00:00",
                "carrier_code": "UPS",
                "lines": [{"quantity": 0, "sku": "X"}, {"order_item_id": "A", "sku": "B"}],
                "colour": "red",
            }
        )
    found = {e.field: e.reason for e in caught.value.errors}
    assert found["colour"] == "unknown field"
    assert found["platform_fulfilment_id"].startswith("required")
    assert "no time zone" in found["shipped_at"]
    assert found["tracking_number"].startswith("required")
    assert "at least 1" in found["lines[0].quantity"]
    assert "one" in found["lines[1]"]


def test_a_carrier_amazon_does_not_know_needs_a_name_and_goes_as_other() -> None:
    with pytest.raises(InvalidRequest) as caught:
        read_request(request(carrier_code="Pony Express"))
    assert "not a carrier code Amazon knows" in caught.value.errors[0].reason
    with pytest.raises(InvalidRequest) as caught:
        read_request(request(carrier_code="Other"))
    assert caught.value.errors[0].field == "carrier_name"
    command = read_request(request(carrier_code="Pony Express", carrier_name="Pony Express"))
    assert (command.carrier_code, command.carrier_name) == ("Other", "Pony Express")


def test_the_queue_door_records_a_refusal_once_with_one_event(
    store: FakeFulfilmentStore, clock: FixedClock
) -> None:
    message = {"version": 1, "type": "fulfilment.requested", **request(account="nobody")}
    for _ in range(2):
        assert isinstance(take_in(message, store, clock), Rejected)
    assert list(store.rejections.values()) == [2]
    assert [topic for topic, _ in store.events] == ["fulfilments/failed"]


def test_the_queue_door_reads_version_1_only(store: FakeFulfilmentStore, clock: FixedClock) -> None:
    result = take_in({"version": 2, **request()}, store, clock)
    assert "not a version this channel reads" in reasons(result)["version"]
    good = {"version": 1, "type": "fulfilment.requested", **request()}
    assert isinstance(take_in(good, store, clock), Accepted)
