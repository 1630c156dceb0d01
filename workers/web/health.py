"""For operators: ``/healthz`` (PostgreSQL and Redis answer) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry

from infra.db.health import ping
from infra.db.metrics import StoreCollector
from workers import bootstrap

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> JSONResponse:
    checks: dict[str, Any] = {}
    container = bootstrap.container()
    try:
        ping(container.engine)
        checks["postgres"] = "ok"
    except Exception as exc:  # noqa: BLE001 (a health probe reports, it does not raise)
        checks["postgres"] = f"down: {type(exc).__name__}"
    try:
        container.redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001 (a health probe reports, it does not raise)
        checks["redis"] = f"down: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(checks, status_code=200 if healthy else 503)


@router.get("/metrics")
def metrics() -> Response:
    # A registry per scrape: the collector reads the store of this process's container as it
    # is now, and nothing is read when the collector is registered (no auto-describe).
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(bootstrap.container().engine))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
