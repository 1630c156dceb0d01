"""Run as ``unshare -n python -m tests.faults.dead_peer <dir>``: in a network namespace of its
own, a PostgreSQL cluster and our engine (``make_engine``) on its loopback; then the loopback is
taken down under a live connection, so that neither end hears from the other again (no FIN, no
RST: what a dead host or a partition leaves). A proxy in our process cannot show this: its own
kernel acknowledges every byte and answers every keepalive probe, however long it holds them.

Two calls on the dead link, each printed as one JSON line (what it raised, after how long):
``mid-query``, a statement already running whose answer never comes (the keepalive probes go
unanswered), and ``sending``, a statement sent into the dead link (what it sent is never
acknowledged: ``tcp_user_timeout``). The namespace goes with this process; the cluster is
stopped before."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from infra.db.engine import libpq_url, make_engine
from tests.faults.harness.servers import PostgresCluster

QUERY = "SELECT pg_sleep(3600)"


def loopback(state: str) -> None:
    subprocess.run(["ip", "link", "set", "lo", state], check=True)


def cut_when_running(cluster: PostgresCluster, started: threading.Event) -> None:
    """Take the loopback down once the long statement runs on the server."""
    with psycopg.connect(libpq_url(cluster.url()), autocommit=True, connect_timeout=5) as admin:
        while True:
            row = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = %s",
                (QUERY,),
            ).fetchone()
            if row is not None and row[0]:
                break
            time.sleep(0.1)
    loopback("down")
    started.set()


def call(name: str, conn: Connection, statement: str) -> None:
    began = time.monotonic()
    outcome: dict[str, object]
    try:
        conn.execute(text(statement))
        outcome = {"case": name, "raised": None}
    except OperationalError as error:
        outcome = {"case": name, "raised": "OperationalError", "error": str(error.orig)[:200]}
    outcome["after_s"] = round(time.monotonic() - began, 1)
    print(json.dumps(outcome), flush=True)


def main(root: Path) -> None:
    loopback("up")
    cluster = PostgresCluster(root / "pg")
    cluster.create()
    engine = make_engine(cluster.url(), pool_size=2, application_name="dead-peer")
    try:
        with engine.connect() as running, engine.connect() as idle:
            idle.execute(text("SELECT 1"))
            idle.commit()
            cut = threading.Event()
            watcher = threading.Thread(target=cut_when_running, args=(cluster, cut), daemon=True)
            watcher.start()
            call("mid-query", running, QUERY)
            watcher.join(timeout=5)
            if not cut.is_set():
                raise SystemExit("the loopback was not taken down")
            call("sending", idle, "SELECT 1")
    finally:
        loopback("up")
        engine.dispose()
        cluster.destroy()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
