"""The operator page's routes under ``/ops``: sign in and out, the overview (health and
accounts), late orders, failures with their retry buttons, the refunds awaiting approval after
a reconnect, and Amazon's payouts with each one's statement and CSV. Every action is the one
the CLI and the API take (``actions``); a POST answers with a redirect to the page it came from
(post/redirect/get), carrying what happened as a signed message.

Pages are left out of the OpenAPI document: it describes the platform's API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from workers.doors.fulfilments.queueing import TaskSender
from workers.web.auth import valid_token
from workers.web.fulfilments import confirmation_sender
from workers.web.operator import actions, payouts, reads
from workers.web.operator.session import (
    OperatorSession,
    check_form,
    current_session,
    end_session,
    same_site,
    sign,
    signed_in,
    start_session,
    unsigned,
)
from workers.web.payouts import statement_csv
from workers.web.refunds import flush_sender

PREFIX = "/ops"
STATIC_URL = f"{PREFIX}/static"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")  # autoescaped
# Nothing but our own files, no framing, nothing cached: the pages show live state.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
FORM_LIMIT = 4096  # bytes: a form here holds a token and an id or two

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Operator = Annotated[OperatorSession, Depends(signed_in)]
# Where a retry or an approval is queued: the API's own dependencies (tests give their own).
Confirmations = Annotated[TaskSender, Depends(confirmation_sender)]
Flushes = Annotated[TaskSender, Depends(flush_sender)]


def page(
    request: Request,
    name: str,
    session: OperatorSession | None,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    said = unsigned(request.query_params.get("said"))
    values = {"session": session, "said": said, "static": STATIC_URL, "prefix": PREFIX}
    return TEMPLATES.TemplateResponse(
        request, name, {**values, **context}, status_code=status, headers=HEADERS
    )


def go(where: str, said: str | None = None) -> RedirectResponse:
    target = f"{PREFIX}{where}" + (f"?said={sign(said)}" if said else "")
    return RedirectResponse(target, status_code=303, headers=HEADERS)


async def form_of(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body as its first value per field. Read with
    the standard library: two fields do not need a multipart parser (python-multipart)."""
    raw = await request.body()
    if len(raw) > FORM_LIMIT:
        return {}
    fields = parse_qs(raw.decode("utf-8", "replace"), max_num_fields=10)
    return {name: values[0] for name, values in fields.items()}


# --- signing in and out ---------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request) -> Response:
    if current_session(request) is not None:
        return go("/")
    return page(request, "login.html", None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await form_of(request)
    if not same_site(request):
        return page(request, "login.html", None, status=403, error="refused: another site's form")
    if not await run_in_threadpool(valid_token, form.get("token", "").strip()):
        return page(request, "login.html", None, status=401, error="not a valid API token")
    answer = go("/")
    start_session(answer)
    return answer


@router.post("/logout")
async def logout(request: Request, session: Operator) -> Response:
    check_form(request, session, (await form_of(request)).get("csrf", ""))
    answer = go("/login")
    end_session(answer)
    return answer


# --- pages ----------------------------------------------------------------------------------


@router.get("")
def bare() -> Response:
    return go("/")


@router.get("/")
def overview(request: Request, session: Operator) -> Response:
    late, _ = reads.late()
    return page(
        request,
        "overview.html",
        session,
        health=reads.health_checks(),
        accounts=reads.accounts(),
        late=len(late),
        failures=len(reads.failures()),
        waiting=sum(len(a.items) for a in reads.approvals()),
        unreconciled=payouts.unreconciled(),
    )


@router.get("/late")
def late_orders(request: Request, session: Operator) -> Response:
    rows, hours = reads.late()
    return page(request, "late.html", session, rows=rows, hours=hours)


@router.get("/failures")
def failures(request: Request, session: Operator) -> Response:
    return page(request, "failures.html", session, rows=reads.failures())


@router.get("/approvals")
def approvals(request: Request, session: Operator) -> Response:
    return page(request, "approvals.html", session, accounts=reads.approvals())


@router.get("/payouts")
def payout_list(request: Request, session: Operator) -> Response:
    rows, held = payouts.payouts()
    return page(request, "payouts.html", session, rows=rows, held=held)


@router.get("/payouts/{payout_id}")
def payout_statement(request: Request, session: Operator, payout_id: int) -> Response:
    found = payouts.statement(payout_id) if 0 < payout_id < 2**63 else None
    if found is None:
        return page(request, "missing.html", session, status=404, what=f"no payout {payout_id}")
    return page(request, "statement.html", session, s=found)


@router.get("/payouts/{payout_id}/csv")
def payout_csv(session: Operator, payout_id: int) -> Response:
    """The settlement's lines, one CSV row each (the same file as the API's ``?format=csv``)."""
    answer = statement_csv(payout_id) if 0 < payout_id < 2**63 else None
    if answer is None:
        return Response(f"no payout {payout_id}\n", status_code=404, headers=HEADERS)
    body, filename = answer
    return StreamingResponse(
        body,
        media_type="text/csv",
        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- actions --------------------------------------------------------------------------------


@router.post("/fulfilments/{fulfilment_id}/retry")
async def retry_fulfilment(
    request: Request, session: Operator, sender: Confirmations, fulfilment_id: int
) -> Response:
    check_form(request, session, (await form_of(request)).get("csrf", ""))
    said = await run_in_threadpool(actions.retry_fulfilment, fulfilment_id, sender)
    return go("/failures", said)


@router.post("/refunds/{refund_id}/retry")
async def retry_refund(
    request: Request, session: Operator, sender: Flushes, refund_id: int
) -> Response:
    check_form(request, session, (await form_of(request)).get("csrf", ""))
    return go("/failures", await run_in_threadpool(actions.retry_refund, refund_id, sender))


@router.post("/accounts/{account_id}/approvals")
async def decide(request: Request, session: Operator, sender: Flushes, account_id: int) -> Response:
    form = await form_of(request)
    check_form(request, session, form.get("csrf", ""))
    said = await run_in_threadpool(
        actions.decide, account_id, form.get("decision", ""), form.get("refund_id"), sender
    )
    return go("/approvals", said)
