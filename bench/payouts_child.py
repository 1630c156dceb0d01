"""One run of the payout benchmark in a process of its own, so its RSS high-water mark
(``getrusage``) is this run's alone: ``ours`` (the reader and ``SqlPayoutStore``, then the
reconciliation) or ``baseline`` (``csv.DictReader`` into one ``COPY``). Prints one JSON line."""

from __future__ import annotations

import csv
import json
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from domain.payouts import ReportRef, SettlementSummary
from domain.payouts.fetch import reconcile_stored, store_lines
from infra.amazon.translate.settlements import read_settlement
from infra.db.engine import libpq_url, make_engine
from infra.db.payouts import SqlPayoutStore
from infra.db.payouts.lines import COLUMNS
from infra.platform import payloads
from infra.settings import load_settings

_FIELDS = (  # the file's column of each line column after settlement_row_id, line_no, kind
    "transaction-type",
    "amount-type",
    "amount-description",
    "amount",
    "currency",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "fulfillment-id",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)


def _peak_mb() -> float:
    """This process's RSS high-water mark: ``VmHWM`` (``ru_maxrss`` would carry the parent's
    across ``exec``), ``getrusage`` where there is no /proc."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def ours(path: Path, database_url: str, account_id: int, batch: int) -> dict[str, Any]:
    engine = make_engine(database_url, application_name="bench-payouts")
    store = SqlPayoutStore(engine, payloads.encode)
    report = ReportRef("BENCH", "BENCH-DOC", datetime.now(UTC), None, None)
    started = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as lines:
        rows = read_settlement(lines)
        summary = next(rows)
        assert isinstance(summary, SettlementSummary)
        store.begin(account_id, report, summary)
        count = store_lines(store, account_id, summary, rows, batch)  # the fetch's own path
    seconds = time.perf_counter() - started
    cpu = time.process_time()
    store_rss = _peak_mb()
    started = time.perf_counter()
    statement = reconcile_stored(store, account_id, summary)  # the fetch's own path
    store.finish(account_id, summary.settlement_id, statement)
    engine.dispose()
    return {
        "lines": count,
        "seconds": seconds,
        "lines_per_s": count / seconds,
        "cpu_s": round(cpu, 2),
        "store_rss_mb": store_rss,
        "reconcile_s": round(time.perf_counter() - started, 2),
        "reconcile_rss_mb": _peak_mb(),
        "reconciled": statement.reconciled,
    }


def _cell(value: str | None) -> str | None:
    return value if value else None


def baseline(path: Path, database_url: str, _account_id: int, _batch: int) -> dict[str, Any]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute(
            "CREATE TABLE bench_baseline_lines (LIKE settlement_lines INCLUDING DEFAULTS"
            " INCLUDING CONSTRAINTS INCLUDING INDEXES)"
        )
        conn.commit()
        started = time.perf_counter()
        count = 0
        with path.open(encoding="utf-8", newline="") as lines, conn.cursor() as cursor:
            reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
            summary = next(reader)
            currency = summary["currency"]
            copy_sql = f"COPY bench_baseline_lines ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for line_no, row in enumerate(reader, start=3):
                    cells = [_cell(row.get(name)) for name in _FIELDS]
                    cells[4] = cells[4] or currency
                    copy.write_row((1, line_no, "other", *cells))
                    count += 1
        conn.commit()
        seconds = time.perf_counter() - started
    return {
        "lines": count,
        "seconds": seconds,
        "lines_per_s": count / seconds,
        "cpu_s": round(time.process_time(), 2),
        "store_rss_mb": _peak_mb(),
    }


def main() -> None:
    mode, path, account_id, batch = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    run = ours if mode == "ours" else baseline
    database_url = load_settings().database_url
    print(json.dumps(run(path, database_url, int(account_id), int(batch))))


if __name__ == "__main__":
    main()
