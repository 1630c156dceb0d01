"""The failures tests' shared fixtures (``tests.integration.workers.fulfilments`` and
``.refunds``)."""

from tests.integration.workers.fulfilments import (  # noqa: F401 (fixtures, found by name)
    account_id,
    celery_app,
    cli_env,
    container,
    order,
)
from tests.integration.workers.refunds import charged  # noqa: F401 (a fixture, found by name)
