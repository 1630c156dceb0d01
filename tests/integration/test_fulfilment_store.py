"""Where the seeding helpers of the API tests used to be: ``tests.integration.infra.db.seed``
has them now, and the fulfilment store's tests are in ``tests/integration/infra/db``."""

from tests.integration.infra.db.seed import amazon_order, seed_account, seed_order

__all__ = ["amazon_order", "seed_account", "seed_order"]
