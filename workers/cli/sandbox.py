"""``sandbox``: serve the Amazon sandbox over HTTP (the one command that imports it)."""

from __future__ import annotations

import click

from workers.cli.common import settings


@click.command()
@click.option("--host", default=None, help="Interface (default SANDBOX_HOST).")
@click.option("--port", type=int, default=None, help="Port (default SANDBOX_PORT).")
@click.option(
    "--rate-factor", type=float, default=None, help="Multiplies Amazon's rates; 0 lifts them."
)
@click.option("--demo-orders-per-minute", type=float, default=0.0, show_default=True)
@click.option(
    "--sellers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Demo sellers it knows: its own and demo-seller-2..N (see `accounts demo-sellers`).",
)
@click.option(
    "--base-url",
    default=None,
    help="Where clients reach it, the start of the document URLs it hands out "
    "(default SPAPI_ENDPOINT, else http://HOST:PORT).",
)
def sandbox(
    host: str | None,
    port: int | None,
    rate_factor: float | None,
    demo_orders_per_minute: float,
    base_url: str | None,
    sellers: int,
) -> None:
    """Serve the Amazon sandbox (SP-API and Login with Amazon) over HTTP."""
    from infra.amazon.sandbox.server import serve

    loaded = settings()
    serve(
        host or loaded.sandbox_host,
        port or loaded.sandbox_port,
        rate_factor=loaded.sandbox_rate_factor if rate_factor is None else rate_factor,
        demo_orders_per_minute=demo_orders_per_minute,
        # Behind a container's service name the clients' URL is not the interface bound here.
        base_url=base_url or loaded.spapi_endpoint or None,
        sellers=sellers,
    )
