"""The web process: health and Prometheus metrics for operators, the platform's API under
``/v1``, and its documents (``/docs``: Swagger UI, ``/redoc``: ReDoc, ``/openapi.json``). Built
by ``create_app()`` (uvicorn's factory), never at import.

FastAPI's own documents load their scripts and styles from a CDN, so a machine offline shows a
blank page; ``fastapi-offline`` serves the same pages with the scripts and styles its wheel
ships, under ``DOCS_ASSETS``. The operator page is under ``/ops`` (``workers.web.operator``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi_offline import FastAPIOffline

from workers.web import (
    accounts,
    cancellations,
    errors,
    fulfilments,
    health,
    operator,
    payouts,
    refunds,
)
from workers.web.auth import UNAUTHORIZED, require_token


def api_router() -> APIRouter:
    """``/v1``, the platform's API. Authentication is the router's dependency: every route
    included in it, or added to it, answers 401 without a valid bearer token."""
    api = APIRouter(prefix="/v1", dependencies=[Depends(require_token)], responses=UNAUTHORIZED)
    api.include_router(fulfilments.router)
    api.include_router(refunds.router)
    api.include_router(cancellations.router)
    api.include_router(accounts.router)
    api.include_router(payouts.router)
    return api


DOCS_ASSETS = "/docs/assets"


def create_app() -> FastAPI:
    app = FastAPIOffline(
        title="amazon-channel",
        version="0.1.0",
        description="The platform's door into the Amazon channel.",
        static_url=DOCS_ASSETS,
    )
    errors.install(app)
    app.include_router(health.router)
    app.include_router(api_router())
    operator.install(app)
    return app
