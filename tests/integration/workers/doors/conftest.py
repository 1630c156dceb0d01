"""The fulfilment doors' shared fixtures (``tests.integration.workers.fulfilments``)."""

from tests.integration.workers.fulfilments import (  # noqa: F401 (fixtures, found by name)
    account_id,
    celery_app,
    cli_env,
    container,
    order,
    sender,
)
