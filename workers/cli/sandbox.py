"""``sandbox``: serve the Amazon sandbox over HTTP (the one command that imports it), keeping its
state in the data folder; ``sandbox reset``: start Amazon afresh.

``amazon-channel sandbox [options]`` serves (the supervisor starts it so, with
``--demo-orders-per-minute N``); its state is kept in ``<data_dir>/sandbox/state.pickle`` unless
``--state-file`` names another file or ``--in-memory`` keeps nothing.
"""

from __future__ import annotations

from pathlib import Path

import click

from infra.settings import Settings
from workers.cli.common import fail, settings, store, table

STATE_FILE_NAME = "state.pickle"


def default_state_file(loaded: Settings) -> Path:
    """Where ``amazon-channel sandbox`` keeps its state: ``<data_dir>/sandbox/state.pickle``."""
    return loaded.data_dir / "sandbox" / STATE_FILE_NAME


def sqs_endpoint(loaded: Settings) -> str | None:
    """Where the sandbox sends notifications: SQS_ENDPOINT_URL, else the embedded SQS of the
    data folder when one is up, else AWS's own endpoint (None)."""
    from infra.sqs import endpoint_url

    return endpoint_url(loaded)


_STATE_FILE_HELP = "Where the state is kept (default DATA_DIR/sandbox/state.pickle)."


@click.group(invoke_without_command=True)
@click.option("--host", default=None, help="Interface (default SANDBOX_HOST).")
@click.option("--port", type=int, default=None, help="Port (default SANDBOX_PORT).")
@click.option(
    "--rate-factor", type=float, default=None, help="Multiplies Amazon's rates; 0 lifts them."
)
@click.option("--demo-orders-per-minute", type=float, default=0.0, show_default=True)
@click.option(
    "--demo-settlement-minutes",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="With demo orders: close the demo sellers' periods this often (0: every 14 days).",
)
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
@click.option("--state-file", type=click.Path(path_type=Path), default=None, help=_STATE_FILE_HELP)
@click.option("--in-memory", is_flag=True, help="Keep nothing: a fresh Amazon at every start.")
@click.pass_context
def sandbox(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    rate_factor: float | None,
    demo_orders_per_minute: float,
    demo_settlement_minutes: float,
    base_url: str | None,
    state_file: Path | None,
    in_memory: bool,
    sellers: int,
) -> None:
    """Serve the Amazon sandbox (SP-API and Login with Amazon) over HTTP.

    Its sellers, orders, packages, feeds, financial events and clock are kept across restarts
    in the data folder; `sandbox reset` starts Amazon afresh.
    """
    if ctx.invoked_subcommand is not None:
        return
    from infra.amazon.sandbox.keeper import StateFileError
    from infra.amazon.sandbox.server import serve

    loaded = settings()
    if in_memory and state_file is not None:
        fail("--state-file and --in-memory: give one or the other")
    try:
        serve(
            host or loaded.sandbox_host,
            port or loaded.sandbox_port,
            rate_factor=loaded.sandbox_rate_factor if rate_factor is None else rate_factor,
            demo_orders_per_minute=demo_orders_per_minute,
            demo_settlement_minutes=demo_settlement_minutes,
            # Behind a container's service name the clients' URL is not the interface bound here.
            base_url=base_url or loaded.spapi_endpoint or None,
            state_file=None if in_memory else state_file or default_state_file(loaded),
            sellers=sellers,
            sqs_endpoint_url=sqs_endpoint(loaded),
            aws_region=loaded.aws_region,
            notification_delay_s=loaded.sandbox_notification_delay_seconds,
        )
    except StateFileError as exc:
        fail(str(exc))


@sandbox.command()
@click.option("--state-file", type=click.Path(path_type=Path), default=None, help=_STATE_FILE_HELP)
def reset(state_file: Path | None) -> None:
    """Start Amazon afresh (only the demo seller), then show what the store still holds.

    The sandbox that keeps the state file is reset through its control API; with none running
    the kept state is removed (the next start is fresh), and a sandbox answering at the
    configured URL with its state in memory is reset too.
    """
    from infra.amazon.sandbox.keeper import holder, remove_saved

    loaded = settings()
    path = (state_file or default_state_file(loaded)).resolve()
    running = holder(path)
    if running is not None:
        _reset_running(running.base_url, f"the sandbox (pid {running.pid}) that keeps {path}")
        click.echo(f"sandbox reset: the running sandbox at {running.base_url} (pid {running.pid})")
        click.echo(f"  starts afresh with only the demo seller; {path} is rewritten within 1 s")
    else:
        if remove_saved(path):
            click.echo(f"sandbox reset: removed {path}; the next start is a fresh Amazon")
        else:
            click.echo(f"sandbox reset: nothing kept at {path}; Amazon is fresh already")
        answering = _answering_sandbox(loaded)
        if answering is not None:
            _reset_running(answering, f"the sandbox at {answering}")
            click.echo(f"  and the sandbox running at {answering} starts afresh")
    _show_store(loaded.data_dir)


def _answering_sandbox(loaded: Settings) -> str | None:
    """The configured sandbox's URL when one answers there (one with no state file)."""
    import httpx

    if not loaded.uses_sandbox():
        return None
    url = loaded.resolved_spapi_endpoint()
    try:
        httpx.get(f"{url}/_sandbox/state", timeout=2.0).raise_for_status()
    except httpx.HTTPError:
        return None
    return url


def _reset_running(base_url: str, which: str) -> None:
    import httpx

    url = f"{base_url.rstrip('/')}/_sandbox/reset"
    try:
        httpx.post(url, timeout=10.0).raise_for_status()
    except httpx.HTTPError as exc:
        fail(f"{which} did not reset at {url}: {exc}")


def _show_store(data_dir: Path) -> None:
    """What the store still holds per account: the fresh Amazon knows none of it."""
    from infra.db.counts import counts_per_account
    from workers import bootstrap

    with store():
        counts = counts_per_account(bootstrap.container().sessions)
    click.echo("")
    click.echo("the store still holds (Amazon no longer knows these orders):")
    table(
        ["account", "orders", "fulfilments", "refunds"],
        [[c.account, c.orders, c.fulfilments, c.refunds] for c in counts],
    )
    if any(c.orders for c in counts):
        click.echo(
            "a fulfilment or refund of one of these orders will be refused by Amazon (NotFound); "
            f"to start the store afresh too, stop everything and remove {data_dir}"
        )
