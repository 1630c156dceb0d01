"""For operators: ``/healthz`` (PostgreSQL and Redis answer) and ``/metrics`` (Prometheus: the
store, the broker and the workers, ``workers.web.metrics``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from infra.db.health import ping
from workers import bootstrap
from workers.web.metrics import scrape

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
    # Every source read as it is now (``workers.web.metrics``).
    return Response(scrape(), media_type=CONTENT_TYPE_LATEST)
