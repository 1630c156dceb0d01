"""The failures tests' shared fixtures (``tests.integration.workers.fulfilments``)."""

from tests.integration.workers.fulfilments import (  # noqa: F401 (fixtures, found by name)
    celery_app,
    cli_env,
)
