"""``make bench``: every benchmark, with its baseline measured in the same run.

Numbers are printed, never asserted: targets are for people to compare (see README).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench import fulfil, ingest, lag, payouts, refunds, sellers
from infra.logging import configure_logging
from infra.secrets import new_key
from infra.settings import Settings, load_settings
from workers.system import services


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--orders", type=int, default=5000, help="orders for the throughput run")
    parser.add_argument("--backfill", type=int, default=50000, help="orders for the memory run")
    parser.add_argument("--fulfilments", type=int, default=2000, help="for the throughput run")
    parser.add_argument("--paced", type=int, default=90, help="fulfilments at Amazon's rate")
    parser.add_argument("--refunds", type=int, default=1000, help="refunds accepted at once")
    parser.add_argument("--accounts", type=int, default=1000, help="sellers for the sellers run")
    parser.add_argument("--ticks", type=int, default=3, help="beat's minutes in the sellers run")
    parser.add_argument(
        "--settlement-lines", type=int, default=payouts.LINES, help="lines of the payouts run"
    )
    parser.add_argument(
        "--lag-minutes", type=float, default=1.5, help="minutes of changes, with notifications"
    )
    parser.add_argument(
        "--lag-polling-minutes", type=float, default=2.5, help="minutes of changes, polling only"
    )
    parser.add_argument(
        "--lag-tail", type=float, default=420.0, help="seconds to wait for the last webhooks"
    )
    parser.add_argument(
        "--lag-scenarios", default="1x20,20x5", help="of 1x20 (1 seller), 20x5 (20 sellers)"
    )
    parser.add_argument(
        "--lag-modes", default="notifications,polling", help="of notifications, polling"
    )
    parser.add_argument(
        "--fresh-budget",
        action="store_true",
        help="lag: sellers keep searchOrders' first burst (newly connected, not steady)",
    )
    parser.add_argument(
        "--only", choices=["ingest", "fulfil", "refunds", "sellers", "payouts", "lag"], default=None
    )
    parser.add_argument(
        "what", nargs="?", choices=["sellers", "payouts", "lag"], help="that benchmark alone"
    )
    args = parser.parse_args()
    if args.what is not None:
        args.only = args.what
    configure_logging("WARNING")
    # One key for the run and the children it starts (each would otherwise use the key file of
    # its own DATA_DIR, and could not open the refresh tokens this process stored).
    os.environ.setdefault("SECRETS_KEY", new_key())
    settings = load_settings()
    if args.only != "lag":
        _in_process(args, settings)
    if args.only in (None, "lag"):
        result = _lag(args, settings.sync_budget_reserve)
        lag.print_result(result)
        if args.only == "lag" and not result["targets_met"]:
            raise SystemExit(1)


def _lag(args: argparse.Namespace, reserve: int) -> dict[str, object]:
    """Each run is a whole ``amazon-channel run`` of its own (no servers of this process)."""
    scenarios = [s.strip() for s in args.lag_scenarios.split(",") if s.strip()]
    modes = [m.strip() for m in args.lag_modes.split(",") if m.strip()]
    for name in scenarios:
        if name not in lag.SCENARIOS:
            raise SystemExit(f"--lag-scenarios: {name!r} is not one of {sorted(lag.SCENARIOS)}")
    for mode in modes:
        if mode not in ("notifications", "polling"):
            raise SystemExit(f"--lag-modes: {mode!r} is not notifications or polling")
    return lag.run(
        scenarios,
        modes,
        minutes=args.lag_minutes,
        polling_minutes=args.lag_polling_minutes,
        tail_s=60.0,
        polling_tail_s=args.lag_tail,
        fresh_budget=args.fresh_budget,
        reserve=reserve,
    )


def _in_process(args: argparse.Namespace, settings: Settings) -> None:
    if not (settings.database_url and settings.redis_url and settings.broker_url):
        # The embedded servers in a directory of the run's own, never a running system's.
        settings = settings.model_copy(update={"data_dir": Path(tempfile.mkdtemp(prefix="bench-"))})
    with services(settings) as ready:
        if args.only in (None, "ingest"):
            ingest.print_result(ingest.run(ready, args.orders, args.backfill))
        if args.only in (None, "fulfil"):
            fulfil.print_result(fulfil.run(ready, args.fulfilments, args.paced))
        if args.only in (None, "refunds"):
            refunds.print_result(refunds.run(ready, args.refunds))
        if args.only in (None, "sellers"):
            sellers.print_result(sellers.run(ready, args.accounts, args.ticks))
        if args.only in (None, "payouts"):
            payouts.print_result(payouts.run(ready, args.settlement_lines))


if __name__ == "__main__":
    main()
