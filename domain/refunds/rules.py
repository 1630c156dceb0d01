"""The rules of intake: whether the order takes this refund or cancellation, and what each of
its lines gives back per component.

Everything refunded before counts: the store's refunds and cancellations in any state but
failed, and the refunds recorded from Amazon. A charged component (item price, shipping, their
taxes, gift wrap and its tax) never goes past what the line charged for it; goodwill and return
shipping, which have no charge of their own, only within the line's total; a restocking fee is
kept back, never more than the rest of the line's refund. A cancellation stops unshipped units
and gives back what they charged (``amounts``), so it always carries a refund of more than 0.
Every refusal names its field (``lines[0].amounts.tax``); all of them are collected.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from domain.orders import STAND_IN_ITEMS, AmazonOrder, OrderLine, OrderStatus, has_stand_in_items
from domain.refunds.amounts import (
    RefundedBefore,
    amounts_for_quantity,
    charged_by_component,
    has_sub_minor,
    minor_digits,
    refunded_before,
    round_money,
)
from domain.refunds.commands import CancelOrder, IssueRefund
from domain.refunds.components import (
    ADJUSTMENT_REASONS,
    CANCEL_REASON_NAMES,
    CANCEL_REASONS,
    CHARGED,
    FIELD_OF,
    KEPT_BACK,
    REFUND_REASONS,
    Component,
    adjustment_reason,
    cancel_reason,
)
from domain.refunds.model import Refund, RefundLine
from domain.shared import FieldError, Money

__all__ = [
    "RefundedBefore",
    "amounts_for_quantity",
    "check_cancellation",
    "check_refund",
    "order_currency",
    "refunded_before",
]

_PENDING = frozenset({OrderStatus.PENDING, OrderStatus.PENDING_AVAILABILITY})
_ZERO = Decimal(0)
_ORDER = {component: index for index, component in enumerate(Component)}
_UNCHARGED_CREDITS = (Component.GOODWILL, Component.RETURN_SHIPPING)
NEEDS_A_REFUND = (
    "every Amazon order is tied to a payment: a cancellation needs a refund of more than 0"
)


def order_currency(order: AmazonOrder) -> str | None:
    """The order's currency: its total's or a price's, else what its lines charged in."""
    if order.currency is not None:
        return order.currency
    return next((line.charges.currency for line in order.lines if line.charges), None)


def _show(amount: Decimal, currency: str) -> str:
    rounded = round_money(amount, currency)
    return f"{rounded if rounded == amount else amount.normalize()} {currency}"


def _pending(order: AmazonOrder, what: str) -> FieldError:
    return FieldError(
        "amazon_order_id",
        f"the order is {order.status} on Amazon: nothing was charged yet, so it cannot be {what}",
    )


def _currency_error(given: str | None, currency: str | None) -> list[FieldError]:
    if given is None or currency is None or given == currency:
        return []
    return [FieldError("currency", f"the order is in {currency}, not {given}")]


def _refusal(
    index: int, order_item_id: str | None, sku: str | None, order: AmazonOrder
) -> OrderLine | FieldError:
    where = f"lines[{index}]"
    if (order_item_id is None) == (sku is None):
        return FieldError(where, "name the line by order_item_id or by sku (exactly one)")
    if order_item_id is not None:
        found = next((line for line in order.lines if line.order_item_id == order_item_id), None)
        if found is None:
            known = ", ".join(line.order_item_id for line in order.lines)
            return FieldError(
                f"{where}.order_item_id",
                f"{order_item_id!r} is not an item of this order (its items: {known})",
            )
        return found
    matches = [line for line in order.lines if line.sku is not None and line.sku == sku]
    if not matches:
        known = ", ".join(line.sku for line in order.lines if line.sku is not None)
        return FieldError(
            f"{where}.sku", f"no item of this order has the sku {sku!r} (its skus: {known})"
        )
    if len(matches) > 1:
        return FieldError(
            f"{where}.sku", "several items of this order have it: name the order_item_id"
        )
    return matches[0]


def _find_line(
    index: int,
    order_item_id: str | None,
    sku: str | None,
    order: AmazonOrder,
    seen: dict[str, int],
    errors: list[FieldError],
) -> OrderLine | None:
    """The order's line a request's line names, once per request, with something charged; or
    None, and why not."""
    found = _refusal(index, order_item_id, sku, order)
    if isinstance(found, FieldError):
        errors.append(found)
        return None
    first = seen.setdefault(found.order_item_id, index)
    if first != index:
        errors.append(
            FieldError(
                f"lines[{index}]",
                f"item {found.order_item_id} is lines[{first}] already: one line per item",
            )
        )
        return None
    if found.charges is None:
        errors.append(
            FieldError(
                f"lines[{index}]",
                "Amazon has not said what this item charged (no proceeds): there is nothing to "
                "refund against",
            )
        )
        return None
    return found


def _sorted(amounts: Sequence[tuple[Component, Money]]) -> tuple[tuple[Component, Money], ...]:
    return tuple(sorted(amounts, key=lambda pair: _ORDER[pair[0]]))


def _given_amounts(
    index: int,
    given: Sequence[tuple[Component, Decimal]],
    currency: str,
    errors: list[FieldError],
) -> tuple[tuple[Component, Money], ...] | None:
    """The amounts as asked (zero ones left out), or None when one of them is refused."""
    found: list[tuple[Component, Money]] = []
    seen: set[Component] = set()
    ok = True
    for component, amount in given:
        where = f"lines[{index}].amounts.{FIELD_OF[component]}"
        if component in seen:
            errors.append(FieldError(where, "is given twice"))
            ok = False
            continue
        seen.add(component)
        if not amount.is_finite():
            errors.append(FieldError(where, "is not a number"))
            ok = False
        elif amount < 0:
            kept = " (a restocking fee is the positive amount kept back)"
            errors.append(
                FieldError(
                    where,
                    "must not be negative: a refund gives back"
                    + (kept if component in KEPT_BACK else ""),
                )
            )
            ok = False
        elif has_sub_minor(amount, currency):
            errors.append(
                FieldError(
                    where,
                    f"{amount} has more decimals than {currency} has ({minor_digits(currency)})",
                )
            )
            ok = False
        elif amount > 0:
            found.append((component, Money(amount, currency)))
    return _sorted(found) if ok else None


def _within_charges(
    where: str,
    by_quantity: bool,
    line: OrderLine,
    amounts: Sequence[tuple[Component, Money]],
    before: RefundedBefore,
) -> list[FieldError]:
    """Each component within what the line charged for it less what was refunded before, the
    fee within the rest of the line, and the line within its total."""
    assert line.charges is not None
    currency = line.charges.currency
    charged = charged_by_component(line.charges)
    prior = before.of(line.order_item_id)
    asked = {component: money.amount for component, money in amounts}
    errors: list[FieldError] = []
    for component in CHARGED:
        amount = asked.get(component)
        if amount is None:
            continue
        done = prior.get(component, _ZERO)
        left = charged[component] - done
        if amount > left:
            name = FIELD_OF[component]
            errors.append(
                FieldError(
                    f"{where}.quantity" if by_quantity else f"{where}.amounts.{name}",
                    f"{'its ' + name + ' of ' if by_quantity else ''}{_show(amount, currency)} "
                    f"is more than is left to refund: {_show(max(left, _ZERO), currency)} left "
                    f"(charged {_show(charged[component], currency)}, refunded before "
                    f"{_show(done, currency)})",
                )
            )
    fee = sum((asked.get(c, _ZERO) for c in KEPT_BACK), _ZERO)
    credits = sum((a for c, a in asked.items() if c not in KEPT_BACK), _ZERO)
    if fee > credits:
        errors.append(
            FieldError(
                f"{where}.amounts.{FIELD_OF[Component.RESTOCKING_FEE]}",
                f"is kept back from this line's refund, so it cannot be more than the rest of "
                f"it: {_show(fee, currency)} kept back of {_show(credits, currency)}",
            )
        )
    total = line.charges.total.amount
    done_net = before.net.get(line.order_item_id, _ZERO)
    net = credits - fee
    if not errors and done_net + net > total:
        uncharged = [c for c in _UNCHARGED_CREDITS if c in asked]
        errors.append(
            FieldError(
                f"{where}.amounts.{FIELD_OF[uncharged[0]]}" if uncharged else where,
                f"goodwill and return shipping are given back only within the line's total: "
                f"{_show(net, currency)} asked, {_show(max(total - done_net, _ZERO), currency)} "
                f"left of the line's {_show(total, currency)} (refunded before "
                f"{_show(done_net, currency)})",
            )
        )
    return errors


def _reason_error(given: str, names: Sequence[str], amazons: Sequence[str], kind: str) -> str:
    return (
        f"unknown reason {given!r}: use one of {', '.join(names)}, or Amazon's {kind} "
        f"({', '.join(amazons)})"
    )


def _refund_amounts(
    index: int,
    request_quantity: int | None,
    given: Sequence[tuple[Component, Decimal]],
    line: OrderLine,
    before: RefundedBefore,
    errors: list[FieldError],
) -> tuple[tuple[Component, Money], ...] | None:
    assert line.charges is not None
    where = f"lines[{index}]"
    if request_quantity is not None and given:
        errors.append(FieldError(where, "give the amounts or a quantity, not both"))
        return None
    if request_quantity is None and not given:
        errors.append(FieldError(where, "give the amounts to refund, or a quantity of units"))
        return None
    if request_quantity is None:
        return _given_amounts(index, given, line.charges.currency, errors)
    units = before.units.get(line.order_item_id, 0)
    left = line.quantity_ordered - units
    if request_quantity < 1:
        errors.append(FieldError(f"{where}.quantity", "must be at least 1"))
        return None
    if request_quantity > left:
        errors.append(
            FieldError(
                f"{where}.quantity",
                f"more units than are left to refund: {request_quantity} asked, "
                f"{max(left, 0)} of {line.quantity_ordered} left ({units} refunded or "
                "cancelled before)",
            )
        )
        return None
    return amounts_for_quantity(
        line.charges,
        line.quantity_ordered,
        request_quantity,
        units_before=units,
        refunded_before=before.of(line.order_item_id),
    )


def check_refund(
    command: IssueRefund, order: AmazonOrder, refunded: Sequence[Refund]
) -> tuple[tuple[RefundLine, ...], list[FieldError]]:
    """The refund's lines with what each gives back (ids 0: the store gives them), or every
    reason it cannot be accepted."""
    if order.status in _PENDING:
        return (), [_pending(order, "refunded")]
    if has_stand_in_items(line.order_item_id for line in order.lines):
        return (), [FieldError("amazon_order_id", STAND_IN_ITEMS)]
    errors: list[FieldError] = []
    if adjustment_reason(command.reason) is None:
        names = list(REFUND_REASONS)
        errors.append(
            FieldError(
                "reason",
                _reason_error(command.reason, names, ADJUSTMENT_REASONS, "AdjustmentReason"),
            )
        )
    errors += _currency_error(command.currency, order_currency(order))
    if not command.lines:
        errors.append(FieldError("lines", "name at least one line to refund"))
    before = refunded_before(refunded)
    seen: dict[str, int] = {}
    lines: list[RefundLine] = []
    complete = True
    for index, request in enumerate(command.lines):
        line = _find_line(index, request.order_item_id, request.sku, order, seen, errors)
        if line is None:
            complete = False
            continue
        amounts = _refund_amounts(index, request.quantity, request.amounts, line, before, errors)
        if amounts is None:
            complete = False
            continue
        found = _within_charges(
            f"lines[{index}]", request.quantity is not None, line, amounts, before
        )
        if found:
            errors += found
            complete = False
            continue
        lines.append(RefundLine(0, line.order_item_id, line.sku, amounts, request.quantity))
    if complete and lines and sum((line.total.amount for line in lines), _ZERO) <= 0:
        errors.append(FieldError("lines", "a refund must give back more than 0"))
    return tuple(lines), errors


def check_cancellation(
    command: CancelOrder, order: AmazonOrder, refunded: Sequence[Refund]
) -> tuple[tuple[RefundLine, ...], list[FieldError]]:
    """The cancelled lines (every unshipped item's, for the whole order) with the units and
    what they charged, or every reason the cancellation cannot be accepted."""
    if has_stand_in_items(line.order_item_id for line in order.lines):
        return (), [FieldError("amazon_order_id", STAND_IN_ITEMS)]
    if order.read_only:
        return (), [
            FieldError(
                "amazon_order_id",
                "fulfilled by Amazon: Amazon ships it, so it can be refunded but not cancelled",
            )
        ]
    if order.status is OrderStatus.CANCELLED:
        return (), [
            FieldError(
                "amazon_order_id",
                "the order is cancelled on Amazon already: it cannot be cancelled again",
            )
        ]
    if order.status in _PENDING:
        return (), [_pending(order, "cancelled with a refund")]
    before = refunded_before(refunded)
    if before.whole_order is not None:
        return (), [
            FieldError(
                "amazon_order_id",
                f"the whole order is cancelled already (cancellation {before.whole_order.id}, "
                f"{before.whole_order.state}): it cannot be cancelled again",
            )
        ]
    errors: list[FieldError] = []
    if cancel_reason(command.reason) is None:
        names = list(CANCEL_REASON_NAMES)
        errors.append(
            FieldError(
                "reason", _reason_error(command.reason, names, CANCEL_REASONS, "CancelReason")
            )
        )
    currency = order_currency(order)
    errors += _currency_error(command.currency, currency)
    given = command.refund_amount
    if given is not None and not given.is_finite():
        errors.append(FieldError("refund_amount", "is not a number"))
        given = None
    elif given is not None and given <= 0:
        errors.append(FieldError("refund_amount", NEEDS_A_REFUND))
    requests = [(r.order_item_id, r.sku, r.quantity) for r in command.lines]
    if not command.lines:
        shipped = sum(line.quantity_shipped for line in order.lines)
        if shipped:
            errors.append(
                FieldError(
                    "lines",
                    f"the whole order can be cancelled only while nothing shipped: {shipped} "
                    "units shipped; name the unshipped lines to cancel, and refund the shipped "
                    "ones",
                )
            )
            return (), errors
        requests = [
            (line.order_item_id, None, None)
            for line in order.lines
            if line.quantity_unshipped - before.cancelled.get(line.order_item_id, 0) > 0
        ]
        if not requests:
            errors.append(FieldError("lines", "nothing is left to cancel on this order"))
            return (), errors
    seen: dict[str, int] = {}
    lines: list[RefundLine] = []
    complete = True
    for index, (order_item_id, sku, quantity) in enumerate(requests):
        line = _find_line(index, order_item_id, sku, order, seen, errors)
        if line is None:
            complete = False
            continue
        found = _cancelled_line(index, line, quantity, before, errors)
        if found is None:
            complete = False
            continue
        lines.append(found)
    total = sum((line.total.amount for line in lines), _ZERO)
    if complete and lines and currency is not None:
        if total <= 0:
            if given is None or given > 0:
                errors.append(FieldError("refund_amount", NEEDS_A_REFUND))
        elif given is not None and given > 0 and given != total:
            errors.append(
                FieldError(
                    "refund_amount",
                    f"must be what the cancelled units charged, {_show(total, currency)} "
                    f"(Amazon gives that back), not {_show(given, currency)}",
                )
            )
    return tuple(lines), errors


def _cancelled_line(
    index: int,
    line: OrderLine,
    quantity: int | None,
    before: RefundedBefore,
    errors: list[FieldError],
) -> RefundLine | None:
    assert line.charges is not None
    where = f"lines[{index}]"
    cancelled = before.cancelled.get(line.order_item_id, 0)
    left = line.quantity_unshipped - cancelled
    earlier = f", {cancelled} cancelled before" if cancelled else ""
    if quantity is not None and quantity < 1:
        errors.append(FieldError(f"{where}.quantity", "must be at least 1"))
        return None
    if left <= 0:
        errors.append(
            FieldError(
                where,
                f"only unshipped units can be cancelled: none of its {line.quantity_ordered} is "
                f"left ({line.quantity_shipped} shipped: refund those{earlier})",
            )
        )
        return None
    units = left if quantity is None else quantity
    if units > left:
        errors.append(
            FieldError(
                f"{where}.quantity",
                f"only unshipped units can be cancelled: {units} asked, {left} of "
                f"{line.quantity_ordered} unshipped ({line.quantity_shipped} shipped: refund "
                f"those{earlier})",
            )
        )
        return None
    amounts = amounts_for_quantity(
        line.charges,
        line.quantity_ordered,
        units,
        units_before=before.units.get(line.order_item_id, 0),
        refunded_before=before.of(line.order_item_id),
    )
    found = _within_charges(where, True, line, amounts, before)
    if found:
        errors += found
        return None
    return RefundLine(0, line.order_item_id, line.sku, amounts, units)
