"""``failures list|show|retry|discard``: everything that failed, in one list.

Three kinds, each with its own id and its own retry:

- ``7``: a dead letter (``workers.deadletters``): a message no worker could process. Retry
  sends its task again (the same name and arguments, a new task id).
- ``fulfilment:12``: a fulfilment Amazon refused (state ``failed``). Retry is
  ``fulfilments retry 12``.
- ``refund:3``: a refund or cancellation Amazon refused. Retry is ``refunds retry 3``.

Requests refused at the door are not failures of ours: ``fulfilments rejected`` and
``refunds rejected`` list them with their reasons.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import click

from domain.fulfilments import Rejected
from workers.cli.common import fail, store, table
from workers.cli.fulfilments import fulfilments_retry
from workers.cli.refunds import refunds_retry
from workers.doors.limits import ascii_id, shown

STATES = ("waiting", "retried", "discarded")
# Failed fulfilments and refunds listed at most (one page of their listing).
MOST_LISTED = 200
_KINDS = ("fulfilment", "refund")


@dataclass(frozen=True)
class FailureId:
    """``7`` (a dead letter), ``fulfilment:12`` or ``refund:3``."""

    kind: str  # "dead_letter", "fulfilment", "refund"
    number: int

    def __str__(self) -> str:
        return str(self.number) if self.kind == "dead_letter" else f"{self.kind}:{self.number}"


class FailureIdType(click.ParamType[FailureId]):
    name = "ID"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> FailureId:
        if isinstance(value, FailureId):
            return value
        kind, sep, number = str(value).strip().rpartition(":")
        found = ascii_id(number)
        if found is None or (sep and kind not in _KINDS):
            self.fail(
                f"{shown(value)} is not a failure id: a number (a dead letter), "
                "fulfilment:N or refund:N",
                param,
                ctx,
            )
        return FailureId(kind if sep else "dead_letter", found)


FAILURE_ID = FailureIdType()


@click.group("failures")
def failures() -> None:
    """What failed: dead letters, failed fulfilments and refunds; retry or discard them."""


@failures.command("list")
@click.option(
    "--state",
    type=click.Choice(STATES),
    default=None,
    help="Only dead letters in this state (waiting: fulfilments and refunds that failed too).",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
def failures_list(state: str | None, limit: int) -> None:
    """Every failure: dead letters (newest first; seen: last delivery), then failed
    fulfilments (seen: shipped) and refunds (seen: taken in)."""
    from workers.deadletters import failures as dead_letters

    with store():
        letters = dead_letters().listing(state, limit)
        others = _failed_requests() if state in (None, "waiting") else []
    rows = [
        [
            str(letter.id),
            letter.reason,
            letter.task_name or f"(queue {letter.queue or '?'})",
            letter.state,
            str(letter.deliveries),
            letter.last_seen_at.strftime("%Y-%m-%d %H:%M:%S"),
            _error(letter.error_type, letter.error_message),
        ]
        for letter in letters
    ]
    table(["id", "kind", "task / order", "state", "tries", "seen", "error"], rows + others)


def _failed_requests() -> list[list[str]]:
    """Failed fulfilments and refunds, read through their own listings."""
    from workers.doors.fulfilments import fulfilment_store
    from workers.doors.fulfilments import page as fulfilment_page
    from workers.doors.fulfilments import read_listing as fulfilment_listing
    from workers.doors.refunds.intake import refund_store
    from workers.doors.refunds.listing import page as refund_page
    from workers.doors.refunds.listing import read_listing as refund_listing

    wanted = {"state": "failed", "limit": str(MOST_LISTED)}
    rows: list[list[str]] = []
    listing = fulfilment_listing(wanted)
    found = None if isinstance(listing, Rejected) else fulfilment_page(listing, fulfilment_store())
    if found is not None and not isinstance(found, Rejected):
        rows += [
            [
                f"fulfilment:{f.id}",
                "fulfilment",
                f.amazon_order_id,
                f.state.value,
                str(f.attempts),
                f.shipped_at.strftime("%Y-%m-%d %H:%M:%S"),
                _error(f.failure_code, f.failure_reason or f.last_error),
            ]
            for f in found.fulfilments
        ]
    refunds = refund_listing(None, wanted)
    found_refunds = None if isinstance(refunds, Rejected) else refund_page(refunds, refund_store())
    if found_refunds is not None and not isinstance(found_refunds, Rejected):
        rows += [
            [
                f"refund:{r.id}",
                r.kind.value,
                r.amazon_order_id,
                r.state.value,
                str(r.attempts),
                r.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                _error(r.failure_code, r.failure_reason),
            ]
            for r in found_refunds.refunds
        ]
    return rows


def _error(kind: str | None, message: str | None) -> str:
    text = f"{kind}: {message}" if kind and message else (kind or message or "")
    return text if len(text) <= 80 else text[:77] + "..."


@failures.command("show")
@click.argument("failure_id", type=FAILURE_ID)
@click.pass_context
def failures_show(ctx: click.Context, failure_id: FailureId) -> None:
    """One failure, whole (a fulfilment or refund as ``fulfilments show`` / ``refunds show``)."""
    from workers.cli.fulfilments import fulfilments_show
    from workers.cli.refunds import refunds_show
    from workers.deadletters import failures as dead_letters

    if failure_id.kind == "fulfilment":
        ctx.invoke(fulfilments_show, fulfilment_id=failure_id.number)
        return
    if failure_id.kind == "refund":
        ctx.invoke(refunds_show, refund_id=failure_id.number)
        return
    with store():
        letter = dead_letters().get(failure_id.number)
    if letter is None:
        fail(f"id: no failure {failure_id}")
    click.echo(json.dumps(letter.as_dict(), indent=2, ensure_ascii=False))


@failures.command("retry")
@click.argument("failure_id", type=FAILURE_ID)
@click.pass_context
def failures_retry(ctx: click.Context, failure_id: FailureId) -> None:
    """Send a failure again after fixing its cause (safe twice: a second retry sends nothing)."""
    from workers.deadletters import CannotRetry, retry

    if failure_id.kind == "fulfilment":
        ctx.invoke(fulfilments_retry, fulfilment_id=failure_id.number)
        return
    if failure_id.kind == "refund":
        ctx.invoke(refunds_retry, refund_id=failure_id.number)
        return
    with store():
        try:
            done = retry(failure_id.number)
        except CannotRetry as exc:
            fail(f"id: {exc}")
    if done.task_id is None:
        click.echo(f"failure {failure_id} was {done.letter.state} already; nothing sent")
    else:
        click.echo(f"failure {failure_id}: {done.letter.task_name} sent again as {done.task_id}")


@failures.command("discard")
@click.argument("failure_id", type=FAILURE_ID)
def failures_discard(failure_id: FailureId) -> None:
    """Keep a dead letter as discarded: it is not retried (fulfilments and refunds: not here)."""
    from workers.deadletters import CannotRetry, discard

    if failure_id.kind != "dead_letter":
        fail(f"id: {failure_id} is not a dead letter: a failed {failure_id.kind} stays failed")
    with store():
        try:
            letter = discard(failure_id.number)
        except CannotRetry as exc:
            fail(f"id: {exc}")
    click.echo(f"failure {failure_id} is {letter.state}")
