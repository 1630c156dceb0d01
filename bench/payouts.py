"""Payout benchmark: a settlement flat file of 200,000 lines parsed with the real reader
(``infra.amazon.translate.settlements.read_settlement``) and stored with ``SqlPayoutStore`` in
batches of 5,000, lines per second beside a baseline measured in the same run: the same file
through ``csv.DictReader`` into PostgreSQL ``COPY`` (into a table of the same columns, types and
indexes, one transaction), the floor of anything that stores the file. Target: at least 0.5 of
the baseline. The two run interleaved, each twice, and the best run of each counts (on a shared
machine the best run is the one others slowed least); every run's figure is printed too.

Memory: the same parse-and-store for 20,000 and for 200,000 lines, each in a fresh child process
(``bench.payouts_child``), whose RSS high-water mark (``getrusage``) is read when the last batch
is committed: flat within 10 %. Each child then reconciles the stored settlement (the lines
streamed back, ``domain.payouts.reconcile``, ``finish``): that phase is timed and its high-water
mark reported beside (the worker keeps no sum per order and marks the lines that match nothing
in batches: none of the bench's orders is in the store, so every line is unmatched).

The files are generated first, not timed: orders of five to seven lines (principal, tax,
shipping, commission, FBA fee...), a refund every 25th order, a service fee now and then, in
USD, the deposit what the lines add up to.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from infra.db import migrate
from infra.db.accounts import add_account
from infra.db.engine import make_engine, make_session_factory
from infra.settings import Settings

LINES = 200_000
SMALL = 20_000
BATCH = 5_000
ROUNDS = 2
HEADER = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)
_ORDER_PARTS = (
    ("ItemPrice", "Principal", Decimal("1")),
    ("ItemPrice", "Tax", Decimal("0.08")),
    ("ItemPrice", "Shipping", Decimal("0.1")),
    ("ItemFees", "Commission", Decimal("-0.15")),
    ("ItemFees", "FBAPerUnitFulfillmentFee", Decimal("-0.2")),
)
_CENT = Decimal("0.01")


def _cells(**fields: str) -> str:
    return "\t".join(fields.get(name.replace("-", "_"), "") for name in HEADER)


def _amount_rows(settlement_id: str, count: int) -> tuple[list[str], Decimal]:
    """``count`` lines of orders, refunds and fees, and what they add up to."""
    rng = random.Random(13)
    rows: list[str] = []
    total = Decimal(0)
    order = 0
    while len(rows) < count:
        order += 1
        order_id = f"111-{order:07d}-{order * 7 % 10_000_000:07d}"
        price = Decimal(rng.randrange(500, 20_000)) / 100
        refund = order % 25 == 0
        kind = "Refund" if refund else "Order"
        sign = -1 if refund else 1
        parts = _ORDER_PARTS if rng.random() < 0.5 else _ORDER_PARTS[:1] + _ORDER_PARTS[3:]
        for amount_type, description, share in parts:
            amount = (price * share * sign).quantize(_CENT)
            total += amount
            rows.append(
                _cells(
                    settlement_id=settlement_id,
                    transaction_type=kind,
                    order_id=order_id,
                    merchant_order_id=f"M-{order}",
                    adjustment_id=f"ADJ-{order}" if refund else "",
                    shipment_id="" if refund else f"SH-{order}",
                    marketplace_name="Amazon.com",
                    amount_type=amount_type,
                    amount_description=description,
                    amount=f"{amount:f}",
                    fulfillment_id="AFN",
                    posted_date="2026-11-05",
                    posted_date_time=f"2026-11-{1 + order % 14:02d} {order % 24:02d}:"
                    f"{order % 60:02d}:{order * 7 % 60:02d} UTC",
                    order_item_code=f"{order:014d}",
                    merchant_order_item_id=f"MI-{order}",
                    merchant_adjustment_item_id=str(order) if refund else "",
                    sku=f"SKU-{order % 977}",
                    quantity_purchased="1",
                    promotion_id="",
                )
            )
        if order % 400 == 0:
            total += Decimal("-39.99")
            rows.append(
                _cells(
                    settlement_id=settlement_id,
                    transaction_type="ServiceFee",
                    amount_type="other-transaction",
                    amount_description="Subscription Fee",
                    amount="-39.99",
                    posted_date_time="2026-11-06 00:00:00 UTC",
                )
            )
    extra = rows[count:]
    for row in extra:
        total -= Decimal(row.split("\t")[HEADER.index("amount")])
    return rows[:count], total


def write_settlement(path: Path, settlement_id: str, count: int) -> None:
    """The flat file: header, summary, ``count`` lines."""
    rows, total = _amount_rows(settlement_id, count)
    summary = _cells(
        settlement_id=settlement_id,
        settlement_start_date="2026-11-01 00:00:00 UTC",
        settlement_end_date="2026-11-15 00:00:00 UTC",
        deposit_date="2026-11-17 00:00:00 UTC",
        total_amount=f"{total:f}",
        currency="USD",
    )
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("\t".join(HEADER) + "\n")
        out.write(summary + "\n")
        for row in rows:
            out.write(row + "\n")


def _child(mode: str, path: Path, database_url: str, account_id: int) -> dict[str, Any]:
    env = dict(os.environ, DATABASE_URL=database_url, LOG_LEVEL="WARNING")
    done = subprocess.run(
        [sys.executable, "-m", "bench.payouts_child", mode, str(path), str(account_id), str(BATCH)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"payouts child ({mode}) failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _account(database_url: str) -> int:
    engine = make_engine(database_url, application_name="bench")
    try:
        return add_account(
            make_session_factory(engine),
            name="bench",
            selling_partner_id="SELLER-bench",
            region="SANDBOX",
            marketplace_ids=["ATVPDKIKX0DER"],
            refresh_token="Atzr|bench",
        ).id
    finally:
        engine.dispose()


def run(settings: Settings, lines: int = LINES, small: int = SMALL) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-payouts-")))
        big, little = folder / "big.tsv", folder / "small.tsv"
        write_settlement(big, "90000000001", lines)
        write_settlement(little, "90000000002", small)

        def fresh() -> tuple[str, int]:
            url = stack.enter_context(migrate.scratch_database(settings.database_url, "ac_bench"))
            return url, _account(url)

        # Interleaved, best of ROUNDS each (the machine may be shared: the best run is the
        # one least slowed by others), each run in a fresh database and process.
        baselines, runs = [], []
        for _ in range(ROUNDS):
            url, account_id = fresh()
            baselines.append(_child("baseline", big, url, account_id))
            runs.append(_child("ours", big, url, account_id))
        url, account_id = fresh()
        ours_small = _child("ours", little, url, account_id)
    baseline = max(baselines, key=lambda run: run["lines_per_s"])
    ours = max(runs, key=lambda run: run["lines_per_s"])
    ratio = ours["lines_per_s"] / baseline["lines_per_s"]
    flat = ours["store_rss_mb"] / ours_small["store_rss_mb"] - 1
    return {
        "lines": lines,
        "batch": BATCH,
        "ours_lines_per_s": round(ours["lines_per_s"]),
        "baseline_copy_lines_per_s": round(baseline["lines_per_s"]),
        "ratio_to_baseline": round(ratio, 3),
        "rounds": ROUNDS,
        "all_runs_lines_per_s": {
            "ours": [round(run["lines_per_s"]) for run in runs],
            "baseline": [round(run["lines_per_s"]) for run in baselines],
        },
        "ours_seconds": round(ours["seconds"], 2),
        "baseline_seconds": round(baseline["seconds"], 2),
        "ours_client_cpu_s": ours["cpu_s"],
        "baseline_client_cpu_s": baseline["cpu_s"],
        "rss_mb": {small: ours_small["store_rss_mb"], lines: ours["store_rss_mb"]},
        "rss_growth": round(flat, 3),
        "baseline_rss_mb": baseline["store_rss_mb"],
        "reconcile": {
            small: {k: ours_small[k] for k in ("reconcile_s", "reconcile_rss_mb", "reconciled")},
            lines: {k: ours[k] for k in ("reconcile_s", "reconcile_rss_mb", "reconciled")},
        },
    }


def print_result(result: dict[str, Any]) -> None:
    n, small = result["lines"], min(result["rss_mb"])
    print("payouts:")
    print(
        f"  {n} settlement lines parsed and stored per second (batches of {result['batch']}):"
        f"  {result['ours_lines_per_s']:>8}  ({result['ours_seconds']} s,"
        f" {result['ours_client_cpu_s']} s CPU in the process)"
    )
    print(
        f"  baseline, csv.DictReader into one COPY:  {result['baseline_copy_lines_per_s']:>8}"
        f"  ({result['baseline_seconds']} s, {result['baseline_client_cpu_s']} s CPU;"
        f" ratio {result['ratio_to_baseline']}, target 0.5)"
    )
    rss = result["rss_mb"]
    print(f"  every run, lines per second: {result['all_runs_lines_per_s']}")
    print(
        f"  peak RSS of the process, {small} lines: {rss[small]} MB; {n} lines: {rss[n]} MB"
        f"  (growth {result['rss_growth']:+.1%}, target within 10 %;"
        f" baseline process {result['baseline_rss_mb']} MB)"
    )
    rec = result["reconcile"]
    print(
        f"  then reconciled from the store: {small} lines {rec[small]['reconcile_s']} s"
        f" (peak {rec[small]['reconcile_rss_mb']} MB), {n} lines {rec[n]['reconcile_s']} s"
        f" (peak {rec[n]['reconcile_rss_mb']} MB); reconciled: {rec[n]['reconciled']}"
    )
    print(json.dumps(result, default=str))
