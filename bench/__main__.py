"""``make bench``: every benchmark, with its baseline measured in the same run.

Numbers are printed, never asserted: targets are for people to compare (see README).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bench import fulfil, ingest, payouts, refunds, sellers
from infra.logging import configure_logging
from infra.secrets import new_key
from infra.settings import load_settings
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
        "--only", choices=["ingest", "fulfil", "refunds", "sellers", "payouts"], default=None
    )
    parser.add_argument(
        "what", nargs="?", choices=["sellers", "payouts"], help="that benchmark alone"
    )
    args = parser.parse_args()
    if args.what is not None:
        args.only = args.what
    configure_logging("WARNING")
    # One key for the run and the children it starts (each would otherwise use the key file of
    # its own DATA_DIR, and could not open the refresh tokens this process stored).
    os.environ.setdefault("SECRETS_KEY", new_key())
    settings = load_settings()
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
