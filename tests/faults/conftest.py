"""The deep runs' fixtures: those of the fulfilment doors (``tests.integration.workers``)."""

from tests.integration.workers.fulfilments import (  # noqa: F401 (fixtures, found by name)
    account_id,
    container,
    order,
    sender,
)
