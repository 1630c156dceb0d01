"""A backfill in its own process (the benchmark samples this process's memory)."""

from __future__ import annotations

from datetime import UTC, datetime

from infra.logging import configure_logging
from infra.settings import load_settings
from workers import bootstrap
from workers.demo import ensure_demo_account


def main() -> None:
    settings = load_settings()
    configure_logging("WARNING")
    container = bootstrap.use(settings)
    account = ensure_demo_account(container.sessions)
    report = bootstrap.sync_account(
        account.id, scope="backfill", start=datetime(2000, 1, 1, tzinfo=UTC)
    )
    print(report.orders)


if __name__ == "__main__":
    main()
