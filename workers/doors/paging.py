"""What every listing shares (refunds, cancellations, fulfilments; over HTTP and the CLI): its
parameters read as text and refused with the parameter's name and a reason, and the cursor.

A page is read one row longer than asked: when that row exists there is a next page, and its
cursor (``next_after``) is the last id shown. Ids only grow, so a page never shows a row twice
and a row added meanwhile is on a later page."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from domain.shared import FieldError, TimeOutsideCalendar, TimeRefused, parse_utc
from infra.db.accounts import AccountError, get_account
from workers import bootstrap
from workers.doors.limits import ID_RANGE, WINDOW, ascii_id, in_window, printable, shown
from workers.doors.limits import text_problem as _text_problem

T = TypeVar("T")

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
LIMIT_REASON = f"must be a whole number from 1 to {MAX_LIMIT}"


def screened(
    given: Mapping[str, Sequence[str]], known: Collection[str]
) -> tuple[dict[str, str | None], list[FieldError]]:
    """A query string's parameters (each name with every value it was given) as one value per
    known name, and the refusals of a name it does not know or one given more than once."""
    errors = []
    for name in sorted(given):
        if name not in known:
            names = ", ".join(known)
            errors.append(FieldError(printable(name), f"unknown parameter (known: {names})"))
        elif len(given[name]) > 1:
            errors.append(FieldError(name, "given more than once"))
    values = {name: (given[name][0] if given.get(name) else None) for name in known}
    return values, errors


def text(name: str, value: str | None, limit: int, errors: list[FieldError]) -> str | None:
    """A text filter (blank: not given); ``account`` is a name or, in ASCII digits, an id."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    problem = _text_problem(value)
    if problem is None and len(value) > limit:
        problem = f"longer than {limit} characters"
    if problem is None and name == "account" and value.isdigit() and ascii_id(value) is None:
        problem = f"an account id is {ID_RANGE}, in the digits 0-9"
    if problem is not None:
        errors.append(FieldError(name, problem))
        return None
    return value


def choice(
    name: str, value: str | None, read: Callable[[str], T], known: str, errors: list[FieldError]
) -> T | None:
    """One of a set of names (a state): ``read`` raises ``ValueError`` for any other."""
    given = (value or "").strip()
    if not given:
        return None
    try:
        return read(given)
    except ValueError:
        errors.append(FieldError(name, f"{shown(given)} is not a {name}: {known}"))
        return None


def moment(name: str, value: str | None, errors: list[FieldError]) -> datetime | None:
    """A time filter: ISO 8601, a date or a time without a zone read as UTC."""
    given = (value or "").strip()
    if not given:
        return None
    try:
        utc = parse_utc(given, assume_utc=True)
    except TimeOutsideCalendar:
        errors.append(FieldError(name, f"{shown(given)} {WINDOW}"))
        return None
    except TimeRefused as exc:
        errors.append(FieldError(name, f"{shown(given)} {exc}: such as 2026-11-28T09:00:00Z"))
        return None
    if not in_window(utc):
        errors.append(FieldError(name, f"{shown(given)} {WINDOW}"))
        return None
    return utc


def cursor(value: str | None, errors: list[FieldError]) -> int | None:
    """``after``: the last id of the page before."""
    given = (value or "").strip()
    if not given:
        return None
    after = ascii_id(given)
    if after is None:
        errors.append(FieldError("after", f"must be an id from the last page: {ID_RANGE}"))
    return after


def limit(value: str | None, errors: list[FieldError]) -> int:
    """``limit``: 1 to ``MAX_LIMIT`` rows (``DEFAULT_LIMIT`` when not given)."""
    given = (value or "").strip()
    if not given:
        return DEFAULT_LIMIT
    number = ascii_id(given)
    if number is None or number > MAX_LIMIT:
        errors.append(FieldError("limit", LIMIT_REASON))
        return DEFAULT_LIMIT
    return number


def account_id_of(ref: str) -> int | None:
    """The account's id, by id or by name; None when the store has no such account."""
    try:
        return get_account(bootstrap.container().sessions, ref).id
    except AccountError:
        return None


def no_account(ref: str) -> FieldError:
    """An account filter the store does not know is refused (a listing of nothing would hide
    the typo)."""
    return FieldError("account", f"no seller account {shown(ref)}")


def cut(found: list[T], asked: int, id_of: Callable[[T], int]) -> tuple[list[T], int | None]:
    """The page (``found`` was read ``asked + 1`` long) and the cursor of the next one, None
    on the last page."""
    rows = found[:asked]
    more = len(found) > asked
    return rows, id_of(rows[-1]) if more and rows else None
