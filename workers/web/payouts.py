"""``GET /v1/payouts``, ``GET /v1/payouts/{payout_id}`` (the statement) and ``GET
/v1/orders/{amazon_order_id}/money``: Amazon's settlements as the store holds them, in JSON or,
with ``Accept: text/csv`` or ``?format=csv``, in CSV (a spreadsheet opens it: a settlement's CSV
has one row per line of Amazon's report, streamed from the store). Amounts are strings of
Decimals, each beside its currency; a settlement is never converted into another currency."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from domain.payouts import OrderMoney
from domain.shared import FieldError, Money
from infra.db.orders import order_detail
from infra.db.payouts.views import SettlementView
from workers import bootstrap
from workers.doors import paging
from workers.doors.payouts import LINE_COLUMNS, line_row
from workers.web.auth import hides
from workers.web.errors import errors_response
from workers.web.query import query_of

router = APIRouter(tags=["payouts"])

PARAMETERS = ("account", "period_from", "period_to", "state", "after", "limit", "format")
STATES = ("fetching", "reconciled", "unreconciled")


def _money(money: Money | None) -> dict[str, str] | None:
    return None if money is None else {"amount": str(money.amount), "currency": money.currency}


def payout_out(s: SettlementView) -> dict[str, Any]:
    totals = s.totals
    return {
        "payout_id": s.id,
        "account_id": s.account_id,
        "settlement_id": s.settlement_id,
        "period": {"start": s.period_start.isoformat(), "end": s.period_end.isoformat()},
        "deposit_date": s.deposit_date.isoformat() if s.deposit_date else None,
        "deposit": _money(s.total),
        "marketplace_name": s.marketplace_name,
        "state": s.state,
        "reconciled": s.reconciled,
        "totals": None
        if totals is None
        else {
            "sales": _money(totals.sales),
            "refunds": _money(totals.refunds),
            "fees": _money(totals.fees),
            "other": _money(totals.other),
            "lines_total": _money(totals.lines_total),
            "difference": _money(totals.difference),
        },
        "lines": s.lines,
        "lines_set_aside": s.set_aside,
        "lines_unmatched": s.unmatched,
        "problems": list(s.problems),
    }


def _order_out(o: OrderMoney) -> dict[str, Any]:
    return {
        "amazon_order_id": o.amazon_order_id,
        "charged": _money(o.charged),
        "refunds": _money(o.refunds),
        "fees": _money(o.fees),
        "other": _money(o.other),
        "net": _money(o.net),
    }


def _wants_csv(request: Request, format_: str | None) -> bool:
    if format_ is not None:
        return format_.strip().lower() == "csv"
    return "text/csv" in request.headers.get("accept", "")


def _csv(rows: Iterator[list[object]], header: tuple[str, ...]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


@router.get("/payouts", response_model=None, summary="Amazon's payouts, a page at a time")
def list_payouts(request: Request) -> Response:
    params, errors = query_of(request, PARAMETERS)
    account = paging.text("account", params.get("account"), 100, errors)
    period_from = paging.moment("period_from", params.get("period_from"), errors)
    period_to = paging.moment("period_to", params.get("period_to"), errors)
    state = paging.choice("state", params.get("state"), _state, ", ".join(STATES), errors)
    after = paging.cursor(params.get("after"), errors)
    limit = paging.limit(params.get("limit"), errors)
    format_ = _format(params.get("format"), errors)
    account_id = None
    if account is not None and not errors:
        account_id = paging.account_id_of(account)
        if account_id is None:
            errors.append(paging.no_account(account))
    if errors:
        return errors_response(422, *errors)
    found = bootstrap.container().payout_store.list_settlements(
        account_id=account_id,
        period_from=period_from,
        period_to=period_to,
        state=state,
        after_id=after,
        limit=limit + 1,
    )
    rows, next_after = paging.cut(found, limit, lambda s: s.id)
    if _wants_csv(request, format_):
        header = ("payout_id", "account_id", "settlement_id", "period_start", "period_end",
                  "deposit", "currency", "state")  # fmt: skip
        lines = (
            [s.id, s.account_id, s.settlement_id, s.period_start.isoformat(),
             s.period_end.isoformat(), s.total.amount, s.currency, s.state]
            for s in rows
        )  # fmt: skip
        return StreamingResponse(_csv(iter(lines), header), media_type="text/csv")
    body: dict[str, Any] = {"payouts": [payout_out(s) for s in rows], "next_after": next_after}
    if account_id is not None:  # what Amazon holds and has not paid out (its open groups)
        body["open_balance"] = [
            {"group_id": b.group_id, "started_at": b.started_at.isoformat() if b.started_at
             else None, **(_money(b.total) or {})}
            for b in bootstrap.container().payout_store.open_balances(account_id)
        ]  # fmt: skip
    return JSONResponse(body)


def _state(value: str) -> str:
    if value not in STATES:
        raise ValueError(value)
    return value


def _format(value: str | None, errors: list[FieldError]) -> str | None:
    if value is None or not value.strip():
        return None
    if value.strip().lower() not in ("json", "csv"):
        errors.append(FieldError("format", "must be json or csv"))
    return value


def _lines_csv(s: SettlementView) -> tuple[Iterator[str], str]:
    """A settlement's lines as CSV text, streamed from the store, and the file's name."""

    def lines() -> Iterator[str]:
        with bootstrap.container().payout_store.stored_lines(s.account_id, s.settlement_id) as rows:
            yield from _csv((line_row(row) for row in rows), LINE_COLUMNS)

    return lines(), f"settlement-{s.settlement_id}.csv"


def statement_csv(payout_id: int) -> tuple[Iterator[str], str] | None:
    """The operator page's download: the same CSV, or None for no such payout."""
    found = bootstrap.container().payout_store.settlement(payout_id)
    return None if found is None else _lines_csv(found)


@router.get("/payouts/{payout_id}", response_model=None, summary="A payout and its statement")
def get_payout(
    request: Request, payout_id: int = Path(ge=1, le=9_223_372_036_854_775_807)
) -> Response:
    params, errors = query_of(request, ("format",))
    format_ = _format(params.get("format"), errors)
    if errors:
        return errors_response(422, *errors)
    payout_store = bootstrap.container().payout_store
    missing = errors_response(404, FieldError("payout_id", f"no payout {payout_id}"))
    if _wants_csv(request, format_):  # the lines alone: no statement is made for them
        found = payout_store.settlement(payout_id)
        if found is None or hides(request, found.account_id):
            return missing
        text, filename = _lines_csv(found)
        return StreamingResponse(
            text,
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    statement = payout_store.statement(payout_id)
    if statement is None or hides(request, statement.settlement.account_id):
        return missing
    s = statement.settlement
    body = payout_out(s)
    body["orders"] = [_order_out(o) for o in statement.orders]
    body["unmatched"] = [
        {"line_no": u.line_no, "order_id": u.order_id, "transaction_type": u.transaction_type,
         "amount_type": u.amount_type, "amount_description": u.amount_description,
         "amount": _money(u.amount), "reason": u.reason}
        for u in statement.unmatched
    ]  # fmt: skip
    body["set_aside"] = [
        {"line_no": a.line_no, "reason": a.reason, "raw": a.raw} for a in statement.set_aside
    ]
    return JSONResponse(body)


@router.get(
    "/orders/{amazon_order_id}/money",
    response_model=None,
    summary="What an order earned, net, in every settlement that names it",
)
def order_money(request: Request, amazon_order_id: str = Path(max_length=40)) -> Response:
    params, errors = query_of(request, ("account",))
    account = paging.text("account", params.get("account"), 100, errors)
    if errors:
        return errors_response(422, *errors)
    account_id = None
    if account is not None:
        account_id = paging.account_id_of(account)
        if account_id is None:
            return errors_response(422, paging.no_account(account))
    order = order_detail(bootstrap.container().sessions, amazon_order_id)
    if order is None or (account_id is not None and order["account_id"] != account_id):
        return errors_response(
            404, FieldError("amazon_order_id", f"no order {amazon_order_id} in the store")
        )
    owner = int(order["account_id"])
    if hides(request, owner):
        return errors_response(
            404, FieldError("amazon_order_id", f"no order {amazon_order_id} in the store")
        )
    found = bootstrap.container().payout_store.order_money(owner, amazon_order_id)
    return JSONResponse(
        {
            "amazon_order_id": amazon_order_id,
            "account_id": owner,
            "settlements": [
                {"payout_id": o.settlement_row_id, "settlement_id": o.settlement_id,
                 "period_end": o.period_end.isoformat(), "state": o.state,
                 **_order_out(o.money)}
                for o in found
            ],
        }
    )  # fmt: skip
