"""The operator page (``/ops``): health, accounts with their sync lag, late orders, failures
with a retry button, and the refunds awaiting approval after a reconnect, in one place for the
people who keep the channel running. Payouts are not there: the channel does not handle them
yet.

Server-rendered (Jinja2) with one hand-written stylesheet and no script, all served from this
package, so it works on a machine with no network. Signing in takes one of the API's tokens
(``session``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from workers.web.operator.pages import STATIC_URL, go, page, router
from workers.web.operator.session import BadForm, NotSignedIn, current_session


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    return go("/login")


async def _bad_form(request: Request, exc: Exception) -> Response:
    reason = "this form is out of date or from another site: reload the page and try again"
    return page(request, "refused.html", current_session(request), status=403, error=reason)


def install(app: FastAPI) -> None:
    app.include_router(router)
    static = StaticFiles(directory=Path(__file__).parent / "static")
    app.mount(STATIC_URL, static, name="operator-static")
    app.add_exception_handler(NotSignedIn, _to_sign_in)
    app.add_exception_handler(BadForm, _bad_form)
