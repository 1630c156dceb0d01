"""Many seller accounts at once (``accounts import FILE``): a CSV file with a header, or JSON
lines, each row checked like ``accounts add`` and all stored in one multi-row insert.

All or nothing: every row is checked first and every refusal is reported with its row number;
if any row is refused nothing is stored, so a file can be fixed and imported again as a whole.
With ``skip_existing`` a row whose name is taken already is left out instead of refused, which
makes importing the same file twice harmless. One process and one statement: 1,000 accounts
take well under a second where 1,000 ``accounts add`` start 1,000 processes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.shared import FieldError
from infra.db.accounts import sealed_token
from infra.db.accounts_checks import AccountError, NewAccount, checked, parse_since
from infra.db.tables import SellerAccount
from infra.secrets import Keyring, process_keyring

COLUMNS = ("name", "seller_id", "region", "marketplaces", "client_id", "refresh_token", "since")
REQUIRED = ("name", "seller_id", "region", "marketplaces", "refresh_token")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # the line of the file (the header is line 1)
    error: FieldError

    def __str__(self) -> str:
        return f"row {self.row}: {self.error.field}: {self.error.reason}"


class ImportRefused(ValueError):
    """The file, or some of its rows, cannot be imported: nothing was stored."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # the name existed (``skip_existing``)


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with a header, or of JSON lines (one object a line), each with
    its line number. Blank lines are skipped."""
    stripped = text.lstrip("\ufeff")
    if stripped.lstrip().startswith("{"):
        return _json_lines(stripped)
    return _csv_rows(stripped)


def _csv_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    _check_header(header)
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    for record in reader:
        values = {k: (v or "").strip() for k, v in record.items() if k is not None}
        if any(values.values()):
            rows.append((reader.line_num, values))
    return rows


def _json_lines(text: str) -> list[tuple[int, dict[str, str]]]:
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(number, FieldError("line", f"is not JSON: {exc.msg}")))
            continue
        if not isinstance(record, dict):
            errors.append(RowError(number, FieldError("line", "must be a JSON object")))
            continue
        unknown = sorted(set(record) - set(COLUMNS))
        if unknown:
            errors.append(RowError(number, FieldError(unknown[0], _unknown_reason())))
        rows.append((number, {k: _text(v) for k, v in record.items() if k in COLUMNS}))
    if errors:
        raise ImportRefused(errors)
    return rows


def _text(value: object) -> str:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return "" if value is None else str(value).strip()


def _unknown_reason() -> str:
    return f"is not a column: the columns are {', '.join(COLUMNS)}"


def _check_header(header: list[str]) -> None:
    errors = [
        RowError(1, FieldError(name, _unknown_reason())) for name in header if name not in COLUMNS
    ]
    errors += [
        RowError(1, FieldError(name, "column missing from the header"))
        for name in REQUIRED
        if name not in header
    ]
    if errors:
        raise ImportRefused(errors)


def check_rows(
    rows: Iterable[tuple[int, dict[str, str]]], *, app_client_id: str, now: datetime
) -> list[tuple[int, NewAccount]]:
    """Every row checked like ``accounts add``; ``ImportRefused`` with every reason of every
    row (and names given twice in the file) when any is refused."""
    errors: list[RowError] = []
    accounts: list[tuple[int, NewAccount]] = []
    seen: dict[str, int] = {}
    for number, values in rows:
        try:
            since = parse_since(values["since"], now) if values.get("since") else None
        except AccountError as refused:
            errors.extend(RowError(number, e) for e in refused.errors)
            since = None
        try:
            new = checked(_new(values, since), app_client_id=app_client_id)
        except AccountError as refused:
            errors.extend(RowError(number, e) for e in refused.errors)
            continue
        first = seen.setdefault(new.name, number)
        if first != number:
            errors.append(RowError(number, FieldError("name", f"{new.name!r} is on row {first}")))
            continue
        accounts.append((number, new))
    if errors:
        raise ImportRefused(errors)
    return accounts


def _new(values: dict[str, str], since: datetime | None) -> NewAccount:
    return NewAccount(
        name=values.get("name", ""),
        selling_partner_id=values.get("seller_id", ""),
        region=values.get("region", ""),
        marketplace_ids=(values.get("marketplaces", ""),),
        refresh_token=values.get("refresh_token", ""),
        client_id=values.get("client_id") or None,
        sync_since=since,
    )


def import_accounts(
    sessions: sessionmaker[Session],
    accounts: list[tuple[int, NewAccount]],
    *,
    skip_existing: bool = False,
    keyring: Keyring | None = None,
) -> ImportReport:
    """Store checked accounts in one transaction: a name taken already is refused with its row
    (nothing stored), or left out with ``skip_existing``."""
    report = ImportReport()
    if not accounts:
        return report
    names = [new.name for _, new in accounts]
    with sessions.begin() as session:
        existing = select(SellerAccount.name).where(SellerAccount.name.in_(names))
        taken = set(session.scalars(existing))
        if taken and not skip_existing:
            raise ImportRefused(
                [
                    RowError(number, FieldError("name", f"an account called {new.name!r} exists"))
                    for number, new in accounts
                    if new.name in taken
                ]
            )
        fresh = [new for _, new in accounts if new.name not in taken]
        if fresh:
            ring = keyring or process_keyring()
            statement = insert(SellerAccount).on_conflict_do_nothing(index_elements=["name"])
            try:
                added = session.scalars(
                    statement.returning(SellerAccount.name), [_values(new, ring) for new in fresh]
                ).all()
            except IntegrityError as exc:  # the rows were checked: a column the checks missed
                raise ImportRefused([RowError(0, FieldError("file", str(exc.orig)))]) from exc
            report.added = list(added)
    report.skipped = [n for n in names if n not in set(report.added)]
    return report


def _values(new: NewAccount, keyring: Keyring) -> dict[str, object]:
    return {
        "name": new.name,
        "selling_partner_id": new.selling_partner_id,
        "region": new.region,
        "marketplace_ids": list(new.marketplace_ids),
        "lwa_client_id": new.client_id,
        "lwa_refresh_token": sealed_token(new.refresh_token, keyring),
        "sync_since": new.sync_since,
    }
