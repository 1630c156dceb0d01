"""The web process: health and Prometheus metrics for operators, the platform's API.

Built by ``create_app()`` (uvicorn's factory), never at import.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from prometheus_client.core import CollectorRegistry
from sqlalchemy import text

from workers import api as fulfilments_api
from workers import compose


def create_app() -> FastAPI:
    app = FastAPI(
        title="amazon-channel",
        version="0.1.0",
        description="The platform's door into the Amazon channel.",
    )
    registry = CollectorRegistry()
    orders_by_status = Gauge(
        "amazon_channel_orders", "Orders in the store", ["status"], registry=registry
    )
    events_pending = Gauge(
        "amazon_channel_webhook_deliveries_pending",
        "Webhook deliveries not yet delivered",
        registry=registry,
    )
    set_aside = Gauge(
        "amazon_channel_orders_set_aside", "Orders set aside with a reason", registry=registry
    )

    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        checks: dict[str, Any] = {}
        container = compose.container()
        try:
            with container.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
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

    @app.get("/metrics", tags=["operations"])
    def metrics() -> Response:
        with compose.container().engine.connect() as conn:
            for status, count in conn.execute(
                text("SELECT status, count(*) FROM orders GROUP BY status")
            ):
                orders_by_status.labels(status).set(count)
            events_pending.set(
                conn.execute(
                    text("SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'")
                ).scalar_one()
            )
            set_aside.set(
                conn.execute(
                    text("SELECT count(*) FROM set_aside_orders WHERE resolved_at IS NULL")
                ).scalar_one()
            )
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(fulfilments_api.router)
    return app
