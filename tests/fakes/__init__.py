"""Fakes of the domain's ports, one module per port, written once and shared by the tests; the
values they start from are in ``builders``."""

from tests.fakes.builders import fetched, make_order
from tests.fakes.clock import T0, FixedClock
from tests.fakes.delivery_ledger import FakeLedger
from tests.fakes.fulfilment_store import ORDER_ID, FakeFulfilmentStore, order_snapshot
from tests.fakes.ingestion_store import FakeStore
from tests.fakes.orders_source import FakeSource
from tests.fakes.shipment_gateway import FakeAmazon

__all__ = [
    "ORDER_ID",
    "T0",
    "FakeAmazon",
    "FakeFulfilmentStore",
    "FakeLedger",
    "FakeSource",
    "FakeStore",
    "FixedClock",
    "fetched",
    "make_order",
    "order_snapshot",
]
